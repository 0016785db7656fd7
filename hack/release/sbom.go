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
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/uuid"
)

// The CycloneDX document, with the fields this SBOM fills.
type (
	bom struct {
		BOMFormat    string      `json:"bomFormat"`
		SpecVersion  string      `json:"specVersion"`
		SerialNumber string      `json:"serialNumber"`
		Version      int         `json:"version"`
		Metadata     bomMetadata `json:"metadata"`
		Components   []component `json:"components"`
	}
	bomMetadata struct {
		Timestamp string    `json:"timestamp"`
		Tools     bomTools  `json:"tools"`
		Component component `json:"component"`
	}
	bomTools struct {
		Components []component `json:"components"`
	}
	component struct {
		BOMRef     string     `json:"bom-ref,omitempty"`
		Type       string     `json:"type"`
		Name       string     `json:"name"`
		Version    string     `json:"version,omitempty"`
		PURL       string     `json:"purl,omitempty"`
		Properties []property `json:"properties,omitempty"`
	}
	property struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
)

// SBOM is the CycloneDX bill of materials of one Go binary, read from the
// build information the Go linker puts in it: exactly the modules linked
// (after replacements), each with its version and go.sum hash, the Go
// standard library at the toolchain's version, and the build settings.
// name and version name the program; date (the commit's) is the document's
// timestamp, and its serial number is derived from its content, so one
// binary gives one document.
func SBOM(bin []byte, name, version string, date time.Time) ([]byte, error) {
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return nil, fmt.Errorf("read the build information: %w", err)
	}
	settings := map[string]string{}
	var props []property
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
		props = append(props, property{Name: "cdx:gomod:build:" + s.Key, Value: s.Value})
	}
	main := component{
		Type: "application", Name: name, Version: version,
		PURL:       purl(info.Main.Path, "v"+version, settings["GOOS"], settings["GOARCH"]),
		Properties: append([]property{{Name: "cdx:gomod:build:goVersion", Value: info.GoVersion}}, props...),
	}
	main.BOMRef = main.PURL
	comps := []component{{
		Type: "library", Name: "std", Version: info.GoVersion,
		PURL: purl("std", info.GoVersion, "", ""), BOMRef: purl("std", info.GoVersion, "", ""),
	}}
	for _, m := range Modules(info) {
		c := component{Type: "library", Name: m.Path, Version: m.Version, PURL: purl(m.Path, m.Version, "", "")}
		c.BOMRef = c.PURL
		if m.Sum != "" {
			c.Properties = []property{{Name: "cdx:gomod:module:sum", Value: m.Sum}}
		}
		comps = append(comps, c)
	}
	doc := bom{
		BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1,
		Metadata: bomMetadata{
			Timestamp: date.UTC().Format(time.RFC3339),
			Tools: bomTools{Components: []component{{
				Type: "application", Name: "kros-operator hack/release", Version: version,
			}}},
			Component: main,
		},
		Components: comps,
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	doc.SerialNumber = "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, body).String()
	return json.MarshalIndent(doc, "", "  ")
}

// Module is one module linked into a binary.
type Module struct{ Path, Version, Sum string }

// Modules are the modules a binary links, by path: a replaced module is
// its replacement, as `go version -m` shows it on its "=>" line.
func Modules(info *buildinfo.BuildInfo) []Module {
	mods := make([]Module, 0, len(info.Deps))
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		mods = append(mods, Module{Path: d.Path, Version: d.Version, Sum: d.Sum})
	}
	slices.SortFunc(mods, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	return mods
}

// purl is a Go module's package URL; goos and goarch, when set, qualify it.
func purl(path, version, goos, goarch string) string {
	p := "pkg:golang/" + path + "@" + strings.ReplaceAll(version, "+", "%2B") + "?type=module"
	if goos != "" {
		p += "&goos=" + goos + "&goarch=" + goarch
	}
	return p
}

// ImageBinaries are the manager's binaries of the OCI layout in dir, by
// OS/ARCH: the /manager file of each platform's image.
func ImageBinaries(dir string) (map[string][]byte, error) {
	idx, err := imageIndex(dir)
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	bins := map[string][]byte{}
	for _, desc := range m.Manifests {
		if desc.Platform == nil {
			return nil, fmt.Errorf("%s: manifest %s has no platform", dir, desc.Digest)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return nil, err
		}
		rc := mutate.Extract(img)
		bin, err := fileInTar(rc, "manager")
		if err := errors.Join(err, rc.Close()); err != nil {
			return nil, fmt.Errorf("%s/%s: %w", desc.Platform.OS, desc.Platform.Architecture, err)
		}
		bins[desc.Platform.OS+"/"+desc.Platform.Architecture] = bin
	}
	return bins, nil
}

// ArchiveBinary is the plugin's executable in one of its release archives.
func ArchiveBinary(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	name := pluginBin
	if strings.Contains(filepath.Base(path), "_windows_") {
		name += ".exe"
	}
	bin, err := fileInTar(zr, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return bin, nil
}

// fileInTar is the content of the regular file name in the tar stream r.
func fileInTar(r io.Reader, name string) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("no file %s", name)
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "/") == name && h.Typeflag == tar.TypeReg {
			return io.ReadAll(tr)
		}
	}
}
