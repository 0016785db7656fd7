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
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// goVersionM is what `go version -m` says bin links: the Go version, and
// each module's version by path, a replacement's ("=>") in place of what it
// replaces.
func goVersionM(t *testing.T, bin string) (string, map[string]string) {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	_, goVersion, _ := strings.Cut(lines[0], ": ")
	mods := map[string]string{}
	var last string
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "dep":
			last, mods[f[1]] = f[1], f[2]
		case len(f) >= 3 && f[0] == "=>":
			delete(mods, last)
			mods[f[1]] = f[2]
		}
	}
	return strings.TrimSpace(goVersion), mods
}

// TestSBOMNamesEveryModuleOfTheBinary builds the kubectl plugin as a release
// does and requires its SBOM to name exactly the modules `go version -m`
// lists, each at its version, and the Go standard library at the binary's.
func TestSBOMNamesEveryModuleOfTheBinary(t *testing.T) {
	g := NewWithT(t)
	bin := filepath.Join(t.TempDir(), pluginBin)
	cmd := exec.Command("sh", "hack/build-manager.sh", bin, "./cmd/kubectl-krosai")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "VERSION=9.8.7", "COMMIT=0123abcd")
	out, err := cmd.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	goVersion, want := goVersionM(t, bin)
	g.Expect(want).To(HaveKey("k8s.io/client-go"), "go version -m parsed")

	data, err := os.ReadFile(bin)
	g.Expect(err).NotTo(HaveOccurred())
	doc, err := SBOM(data, pluginBin, "9.8.7", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	g.Expect(err).NotTo(HaveOccurred())
	var got bom
	g.Expect(json.Unmarshal(doc, &got)).To(Succeed())
	g.Expect(got.BOMFormat).To(Equal("CycloneDX"))
	g.Expect(got.Metadata.Component.Name).To(Equal(pluginBin))
	g.Expect(got.Metadata.Component.Version).To(Equal("9.8.7"))
	g.Expect(got.Metadata.Timestamp).To(Equal("2026-01-02T03:04:05Z"))

	mods := map[string]string{}
	for _, c := range got.Components {
		if c.Name == "std" {
			g.Expect(c.Version).To(Equal(goVersion))
			continue
		}
		g.Expect(mods).NotTo(HaveKey(c.Name), "named twice")
		mods[c.Name] = c.Version
		g.Expect(c.PURL).To(HavePrefix("pkg:golang/" + c.Name + "@"))
		g.Expect(c.Properties).To(ContainElement(HaveField("Name", "cdx:gomod:module:sum")), c.Name)
	}
	g.Expect(mods).To(Equal(want))

	again, err := SBOM(data, pluginBin, "9.8.7", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(doc), "one binary, one document")
}
