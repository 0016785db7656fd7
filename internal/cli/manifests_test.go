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

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const kepTemplate = "apiVersion: cockpit.krosai.com/v1alpha1\nkind: KrosEndpoint\nmetadata: {name: %s}\n" +
	"spec: {type: elevenlabs, elevenLabs: {agentID: x}}\n"

func kepYAML(name string) string { return strings.ReplaceAll(kepTemplate, "%s", name) }

func TestReadManifests(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.yaml":           kepYAML("b1") + "---\n# only a comment\n---\n" + kepYAML("b2"),
		"a.yml":            "---\n" + kepYAML("a"),
		"c.json":           `{"apiVersion":"cockpit.krosai.com/v1alpha1","kind":"KrosEndpoint","metadata":{"name":"c"}}`,
		"list.yaml":        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: cockpit.krosai.com/v1alpha1\n  kind: KrosEndpoint\n  metadata: {name: l1}\n- apiVersion: cockpit.krosai.com/v1alpha1\n  kind: KrosEndpoint\n  metadata: {name: l2}\n",
		"notes.txt":        "not a manifest",
		"sub/deep.yaml":    "kind: ConfigMap\n",
		"empty.yaml":       "",
		"kustomization.md": "# not read",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g := NewWithT(t)
	sources, err := readManifests([]string{dir, "-"}, strings.NewReader(kepYAML("stdin")))
	g.Expect(err).NotTo(HaveOccurred())
	got := make([]string, 0, len(sources))
	for _, s := range sources {
		got = append(got, s.resource.Name+"@"+strings.TrimPrefix(s.String(), dir+"/"))
	}
	g.Expect(got).To(Equal([]string{
		"a@a.yml: document 1",
		"b1@b.yaml: document 1", "b2@b.yaml: document 2",
		"c@c.json: document 1",
		"l1@list.yaml: document 1", "l2@list.yaml: document 1",
		"stdin@stdin: document 1",
	}), "directories are read in name order, not recursively, and only their manifests")

	_, err = readManifests([]string{"-", "-"}, strings.NewReader(""))
	g.Expect(err).To(MatchError("-f - given twice: stdin can be read once"))
}

func TestPlaceResources(t *testing.T) {
	g := NewWithT(t)
	sources, err := readManifests([]string{"-"}, strings.NewReader(kepYAML("a")+"---\n"+
		strings.Replace(kepYAML("b"), "{name: b}", "{name: b, namespace: other}", 1)))
	g.Expect(err).NotTo(HaveOccurred())
	placed, err := placeResources(sources, "team-a", false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(placed[0].Namespace).To(Equal("team-a"), "without a namespace: the default")
	g.Expect(placed[1].Namespace).To(Equal("other"), "its own, when -n did not say otherwise")
	_, err = placeResources(sources, "team-a", true)
	g.Expect(err).To(MatchError(`stdin: document 2: the namespace "other" of KrosEndpoint "b" does not match -n "team-a"`))
}
