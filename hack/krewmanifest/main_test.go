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

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

func repoFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// platforms are DefaultPlatforms as OS/ARCH keys.
func platforms() []string { return strings.Split(DefaultPlatforms, ",") }

func fakeSums() map[string]string {
	sums := map[string]string{}
	for _, p := range platforms() {
		sums[p] = SHA256([]byte(p))
	}
	return sums
}

func TestRenderNamesEveryPlatform(t *testing.T) {
	g := NewWithT(t)
	sums := fakeSums()
	out, err := Render(string(repoFile(t, "plugins/krosai.yaml")), "1.2.3", sums)
	g.Expect(err).NotTo(HaveOccurred())

	var p Plugin
	g.Expect(yaml.UnmarshalStrict(out, &p)).To(Succeed())
	g.Expect(p.Spec.Version).To(Equal("v1.2.3"))
	g.Expect(p.Spec.Homepage).To(Equal("https://github.com/krosai/kros-operator"))
	g.Expect(p.Spec.Platforms).To(HaveLen(len(platforms())))
	seen := map[string]bool{}
	for _, pl := range p.Spec.Platforms {
		key := pl.Selector.MatchLabels["os"] + "/" + pl.Selector.MatchLabels["arch"]
		seen[key] = true
		g.Expect(pl.SHA256).To(Equal(sums[key]), key)
		g.Expect(pl.URI).To(Equal("https://github.com/krosai/kros-operator/releases/download/v1.2.3/" +
			ArchiveName("1.2.3", pl.Selector.MatchLabels["os"], pl.Selector.MatchLabels["arch"])))
		g.Expect(pl.Bin).To(Equal(ExeName(pl.Selector.MatchLabels["os"])))
		from := make([]string, 0, len(pl.Files))
		for _, f := range pl.Files {
			from = append(from, f.From)
		}
		g.Expect(from).To(ConsistOf(pl.Bin, "LICENSE"), key)
	}
	for _, key := range platforms() {
		g.Expect(seen).To(HaveKey(key))
	}
	g.Expect(string(out)).NotTo(ContainSubstring("{{"), "every placeholder is filled")
	g.Expect(string(out)).To(HavePrefix("# Rendered from plugins/krosai.yaml"), "the template's comment is not rendered")
}

func TestRenderRefusesAManifestThatDisagreesWithTheArchives(t *testing.T) {
	g := NewWithT(t)
	tmpl := string(repoFile(t, "plugins/krosai.yaml"))

	extra := fakeSums()
	extra["freebsd/amd64"] = SHA256(nil)
	_, err := Render(tmpl, "1.2.3", extra)
	g.Expect(err).To(MatchError(ContainSubstring("freebsd/amd64: an archive was built, but no platform")))

	missing := fakeSums()
	delete(missing, "darwin/arm64")
	_, err = Render(tmpl, "1.2.3", missing)
	g.Expect(err).To(HaveOccurred(), "a placeholder without a sum")

	_, err = Render(strings.Replace(tmpl, "_linux_arm64.tar.gz", "_linux_amd64.tar.gz", 1), "1.2.3", fakeSums())
	g.Expect(err).To(MatchError(ContainSubstring("linux/arm64: uri")))

	_, err = Render(strings.Replace(tmpl, "shortDescription:", "shortDescripton:", 1), "1.2.3", fakeSums())
	g.Expect(err).To(MatchError(ContainSubstring("does not parse")))
}

func TestArchiveIsReproducible(t *testing.T) {
	g := NewWithT(t)
	exe := bytes.Repeat([]byte("\x7fELF binary "), 4096)
	license := repoFile(t, "LICENSE")
	files := []File{{Name: "kubectl-krosai", Data: exe, Mode: 0o755}, {Name: "LICENSE", Data: license, Mode: 0o644}}

	first, err := Archive(files)
	g.Expect(err).NotTo(HaveOccurred())
	time.Sleep(1100 * time.Millisecond) // a clock that leaked into the archive would now differ
	second, err := Archive([]File{files[1], files[0]})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(second).To(Equal(first), "byte-identical whatever the time and the order given")

	gz, err := gzip.NewReader(bytes.NewReader(first))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(gz.Name).To(BeEmpty())
	g.Expect(gz.ModTime.IsZero()).To(BeTrue())
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		g.Expect(err).NotTo(HaveOccurred())
		names = append(names, h.Name)
		g.Expect(h.Uid).To(BeZero())
		g.Expect(h.Gid).To(BeZero())
		g.Expect(h.Uname).To(BeEmpty())
		g.Expect(h.Gname).To(BeEmpty())
		g.Expect(h.ModTime.Unix()).To(BeZero())
		data, err := io.ReadAll(tr)
		g.Expect(err).NotTo(HaveOccurred())
		if h.Name == "kubectl-krosai" {
			g.Expect(data).To(Equal(exe))
			g.Expect(h.Mode).To(Equal(int64(0o755)))
		} else {
			g.Expect(data).To(Equal(license))
			g.Expect(h.Mode).To(Equal(int64(0o644)))
		}
	}
	g.Expect(names).To(Equal([]string{"LICENSE", "kubectl-krosai"}))
}

// TestRunTwiceGivesTheSameBytes builds one platform twice through run, as
// make plugin-archives does, into two directories, and compares every file.
// Building the plugin takes a while, so -short skips it.
func TestRunTwiceGivesTheSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin twice")
	}
	g := NewWithT(t)
	pkg := "../../cmd/kubectl-krosai"
	if _, err := os.Stat(pkg); err != nil {
		t.Skipf("no %s yet", pkg)
	}
	tmpl := filepath.Join(t.TempDir(), "krosai.yaml")
	// Only linux/amd64, the template's first platform: the others go.
	full := string(repoFile(t, "plugins/krosai.yaml"))
	const entry = "  - selector:"
	first := strings.Index(full, entry)
	second := first + len(entry) + strings.Index(full[first+len(entry):], entry)
	g.Expect(full[first:second]).To(ContainSubstring("os: linux\n        arch: amd64"))
	head, linux := full[:first], full[first:second]
	g.Expect(os.WriteFile(tmpl, []byte(head+linux), 0o600)).To(Succeed())

	var outs [2]string
	for i := range outs {
		outs[i] = t.TempDir()
		g.Expect(run(options{version: "1.2.3", commit: "abc", date: "2026-01-02T03:04:05Z", platforms: "linux/amd64",
			pkg: pkg, license: "../../LICENSE", template: tmpl, buildScript: "../build-manager.sh", out: outs[i]})).
			To(Succeed())
	}
	for _, name := range []string{ArchiveName("1.2.3", "linux", "amd64"), "krosai.yaml"} {
		a, err := os.ReadFile(filepath.Join(outs[0], name))
		g.Expect(err).NotTo(HaveOccurred())
		b, err := os.ReadFile(filepath.Join(outs[1], name))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a).To(Equal(b), name+" differs between two runs")
	}
}
