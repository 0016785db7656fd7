/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command krewmanifest builds the kubectl-krosai plugin's release archives
// and renders its krew manifest, as `make plugin-archives` runs it:
//
//	go run ./hack/krewmanifest -version 0.1.0 -commit SHA -date 2026-01-02T03:04:05Z -out dist
//
// For each platform it cross-compiles ./cmd/kubectl-krosai with the script
// that builds the manager (hack/build-manager.sh: CGO off, -trimpath, no VCS
// stamp, no build ID, stripped, version, commit and date in main.version,
// main.commit and main.date), and writes
// OUT/kubectl-krosai_VERSION_OS_ARCH.tar.gz holding the binary and LICENSE.
// The archives are reproducible (hack/reproducible: fixed entry order,
// modes, owners and mtimes, a gzip header without name or time); one commit
// built twice gives the same bytes. It then renders the template (plugins/krosai.yaml)
// with the version and each archive's sha256 into OUT/krosai.yaml, and
// fails if the manifest and the archives disagree: a platform without an
// archive, an archive no platform names, a uri naming another file.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/krosai/kros-operator/hack/reproducible"
	"sigs.k8s.io/yaml"
)

// DefaultPlatforms are the platforms krew users get archives for.
const DefaultPlatforms = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64"

// binName is the plugin's executable; kubectl finds kubectl-krosai on PATH
// as `kubectl krosai`.
const binName = "kubectl-krosai"

// options are the flags: what to build, from where, into where.
type options struct {
	version, commit, date string
	platforms, pkg        string
	license, template     string
	// buildScript is hack/build-manager.sh, which builds the manager too.
	buildScript string
	out         string
}

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "the release's version, x.y.z (no v)")
	flag.StringVar(&o.commit, "commit", "unknown", "the commit, stamped into main.commit")
	flag.StringVar(&o.date, "date", "unknown", "the commit's date (RFC 3339), stamped into main.date")
	flag.StringVar(&o.platforms, "platforms", DefaultPlatforms, "comma-separated OS/ARCH list")
	flag.StringVar(&o.pkg, "pkg", "./cmd/kubectl-krosai", "the plugin's main package")
	flag.StringVar(&o.license, "license", "LICENSE", "the license file put in every archive")
	flag.StringVar(&o.template, "template", "plugins/krosai.yaml", "the krew manifest template")
	flag.StringVar(&o.buildScript, "build-script", "hack/build-manager.sh",
		"the script that builds the manager, and the plugin alike")
	flag.StringVar(&o.out, "out", "dist", "where to write the archives and krosai.yaml")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "krewmanifest:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	version, out := o.version, o.out
	if version == "" || strings.HasPrefix(version, "v") {
		return fmt.Errorf("-version x.y.z is required, without a leading v (got %q)", version)
	}
	license, err := os.ReadFile(o.license)
	if err != nil {
		return err
	}
	tmpl, err := os.ReadFile(o.template)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	build, err := os.MkdirTemp("", "krewmanifest-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(build) }()

	sums := map[string]string{}
	for p := range strings.SplitSeq(o.platforms, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || goos == "" || goarch == "" {
			return fmt.Errorf("platform %q is not OS/ARCH", p)
		}
		bin := filepath.Join(build, goos+"_"+goarch, ExeName(goos))
		if err := o.goBuild(bin, goos, goarch); err != nil {
			return err
		}
		exe, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		data, err := Archive([]File{
			{Name: ExeName(goos), Data: exe, Mode: 0o755},
			{Name: "LICENSE", Data: license, Mode: 0o644},
		})
		if err != nil {
			return err
		}
		name := ArchiveName(version, goos, goarch)
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
		sums[goos+"/"+goarch] = SHA256(data)
		fmt.Printf("%s  %s\n", sums[goos+"/"+goarch], name)
	}
	manifest, err := Render(string(tmpl), version, sums)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "krosai.yaml"), manifest, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(out, "krosai.yaml"))
	return nil
}

// goBuild cross-compiles the plugin to out with the script that builds the
// manager, so the two are built alike.
func (o options) goBuild(out, goos, goarch string) error {
	cmd := exec.Command("sh", o.buildScript, out, o.pkg)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch,
		"VERSION="+o.version, "COMMIT="+o.commit, "DATE="+o.date)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %w", o.pkg, goos, goarch, err)
	}
	return nil
}

// ExeName is the plugin's executable on goos.
func ExeName(goos string) string {
	if goos == "windows" {
		return binName + ".exe"
	}
	return binName
}

// ArchiveName is the release asset of one platform.
func ArchiveName(version, goos, goarch string) string {
	return fmt.Sprintf("%s_%s_%s_%s.tar.gz", binName, version, goos, goarch)
}

// File is one entry of an archive.
type File struct {
	Name string
	Data []byte
	Mode int64
}

// Archive returns a .tar.gz of files that depends on nothing but their
// names, modes and contents: entries sorted by name, owned by 0:0, dated
// the Unix epoch (reproducible.GzipTar).
func Archive(files []File) ([]byte, error) {
	entries := make([]reproducible.Entry, 0, len(files))
	for _, f := range files {
		entries = append(entries, reproducible.Entry{Name: f.Name, Mode: f.Mode, Data: f.Data})
	}
	slices.SortFunc(entries, func(a, b reproducible.Entry) int { return strings.Compare(a.Name, b.Name) })
	return reproducible.GzipTar(entries, time.Unix(0, 0))
}

// SHA256 is data's sha256 in hex, as krew manifests carry it.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Plugin is a krew manifest (krew.googlecontainertools.github.com/v1alpha2),
// with the fields this plugin's uses.
type Plugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string     `json:"version"`
		Homepage         string     `json:"homepage"`
		ShortDescription string     `json:"shortDescription"`
		Description      string     `json:"description"`
		Caveats          string     `json:"caveats,omitempty"`
		Platforms        []Platform `json:"platforms"`
	} `json:"spec"`
}

// Platform is one entry of a krew manifest's platforms.
type Platform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string `json:"uri"`
	SHA256 string `json:"sha256"`
	Bin    string `json:"bin"`
	Files  []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"files"`
}

// Render fills the manifest template with version and the archives'
// sha256 by OS/ARCH, and checks the result: it parses as a krew Plugin, and
// every platform of sums is named by exactly one entry whose uri is that
// platform's archive of this version, whose bin is its executable, and whose
// sha256 is the archive's.
func Render(tmpl, version string, sums map[string]string) ([]byte, error) {
	// The template's leading comment speaks of its actions; the rendered
	// manifest gets a line of its own instead.
	var body strings.Builder
	header := true
	for line := range strings.Lines(tmpl) {
		if header && strings.HasPrefix(line, "#") {
			continue
		}
		header = false
		body.WriteString(line)
	}
	t, err := template.New("krew").Option("missingkey=error").Parse(body.String())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString("# Rendered from plugins/krosai.yaml by make plugin-archives (hack/krewmanifest).\n")
	if err := t.Execute(&buf, struct {
		Version string
		SHA256  map[string]string
	}{version, sums}); err != nil {
		return nil, err
	}
	var p Plugin
	// Strict: a misspelt field would pass this check and be rejected by krew.
	if err := yaml.UnmarshalStrict(buf.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("the rendered manifest does not parse as a krew Plugin: %w", err)
	}
	if err := Check(p, version, sums); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Check says whether p is the manifest of exactly the archives in sums.
func Check(p Plugin, version string, sums map[string]string) error {
	var errs []error
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" {
		errs = append(errs, fmt.Errorf("not a krew v1alpha2 Plugin: %s %s", p.APIVersion, p.Kind))
	}
	if p.Metadata.Name != "krosai" {
		errs = append(errs, fmt.Errorf("metadata.name is %q, not krosai", p.Metadata.Name))
	}
	if p.Spec.Version != "v"+version {
		errs = append(errs, fmt.Errorf("spec.version is %q, not v%s", p.Spec.Version, version))
	}
	if p.Spec.Homepage == "" || p.Spec.ShortDescription == "" || p.Spec.Description == "" {
		errs = append(errs, errors.New("homepage, shortDescription and description are required"))
	}
	named := map[string]bool{}
	for _, pl := range p.Spec.Platforms {
		goos, goarch := pl.Selector.MatchLabels["os"], pl.Selector.MatchLabels["arch"]
		key := goos + "/" + goarch
		sum, ok := sums[key]
		switch {
		case named[key]:
			errs = append(errs, fmt.Errorf("%s: named twice", key))
		case !ok:
			errs = append(errs, fmt.Errorf("%s: no archive was built for it", key))
		case path.Base(pl.URI) != ArchiveName(version, goos, goarch):
			errs = append(errs, fmt.Errorf("%s: uri %s does not name %s", key, pl.URI, ArchiveName(version, goos, goarch)))
		case pl.SHA256 != sum:
			errs = append(errs, fmt.Errorf("%s: sha256 %q is not the archive's %s", key, pl.SHA256, sum))
		case pl.Bin != ExeName(goos):
			errs = append(errs, fmt.Errorf("%s: bin %q is not %s", key, pl.Bin, ExeName(goos)))
		}
		named[key] = true
	}
	for key := range sums {
		if !named[key] {
			errs = append(errs, fmt.Errorf("%s: an archive was built, but no platform of the manifest names it", key))
		}
	}
	return errors.Join(errs...)
}
