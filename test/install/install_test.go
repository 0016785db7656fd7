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

package install

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/krosai/kros-operator/test/harness"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const (
	installerNamespace = "kros-operator-system"
	installerPrefix    = "kros-operator-"
	installerImage     = "registry.example.com/kros-operator:v1.2.3"
)

// optIn is an optional piece of config/ that a comment offers: the commented
// entry whose first line is line, in file (under config/), and the lines
// after it that continue the entry ("#  target:").
type optIn struct{ file, line string }

// buildInstaller renders config/default with the manager image set to image,
// as `make build-installer IMG=image` does, but in-process and in memory: a
// copy of config/ plus an overlay with the image, so nothing on disk changes.
// Each opt-in is uncommented first, as a user would.
func buildInstaller(t *testing.T, image string, optIns ...optIn) bundle {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir(filepath.Join(repoRoot, "config"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join("/", filepath.ToSlash(rel)), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range optIns {
		file := path.Join("/config", o.file)
		data, err := mem.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text, err := uncomment(string(data), o.line)
		if err != nil {
			t.Fatalf("config/%s: %v", o.file, err)
		}
		if err := mem.WriteFile(file, []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	// The tag follows the last colon after the last slash (a registry may have a port).
	i := strings.LastIndex(image, ":")
	if i < strings.LastIndex(image, "/") {
		t.Fatalf("image %q has no tag", image)
	}
	name, tag := image[:i], image[i+1:]
	overlay := "resources:\n- ../config/default\n" +
		"images:\n- name: controller\n  newName: " + name + "\n  newTag: " + tag + "\n"
	if err := mem.WriteFile("/installer/kustomization.yaml", []byte(overlay)); err != nil {
		t.Fatal(err)
	}
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, "/installer")
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := harness.DecodeYAML(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// uncomment uncomments the entry of text whose first line is "#"+line, and
// the lines after it that start with "#  ", the entry's continuation.
func uncomment(text, line string) (string, error) {
	lines := strings.Split(text, "\n")
	i := slices.Index(lines, "#"+line)
	if i < 0 {
		return "", fmt.Errorf("no line %q", "#"+line)
	}
	lines[i] = line
	for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], "#  "); j++ {
		lines[j] = lines[j][1:]
	}
	return strings.Join(lines, "\n"), nil
}

func TestInstallerInvariants(t *testing.T) {
	b := buildInstaller(t, installerImage)
	checkBundle(t, b, expect{namespace: installerNamespace, prefix: installerPrefix, image: installerImage})

	g := NewWithT(t)
	ns := b.all("Namespace")
	g.Expect(ns).To(HaveLen(1))
	g.Expect(ns[0].GetName()).To(Equal(installerNamespace))

	g.Expect(b.names()).To(ConsistOf(
		"Namespace/kros-operator-system",
		"CustomResourceDefinition/krosendpoints.cockpit.krosai.com",
		"CustomResourceDefinition/krosgrants.cockpit.krosai.com",
		"ServiceAccount/kros-operator-controller-manager",
		"Role/kros-operator-leader-election-role",
		"RoleBinding/kros-operator-leader-election-rolebinding",
		"ClusterRole/kros-operator-manager-role",
		"ClusterRoleBinding/kros-operator-manager-rolebinding",
		"ClusterRole/kros-operator-metrics-auth-role",
		"ClusterRoleBinding/kros-operator-metrics-auth-rolebinding",
		"ClusterRole/kros-operator-metrics-reader",
		"ClusterRole/kros-operator-krosendpoint-admin-role",
		"ClusterRole/kros-operator-krosendpoint-editor-role",
		"ClusterRole/kros-operator-krosendpoint-viewer-role",
		"ClusterRole/kros-operator-krosgrant-admin-role",
		"ClusterRole/kros-operator-krosgrant-viewer-role",
		"Service/kros-operator-controller-manager-metrics-service",
		"Deployment/kros-operator-controller-manager",
	))

	g.Expect(rules(t, b.find("ClusterRole", "kros-operator-manager-role"))).
		To(Equal(configRules(t, "role.yaml")))

	_, c := b.manager(t)
	args := flags(c.Args)
	g.Expect(args).To(HaveKeyWithValue("leader-elect", "true"))
	g.Expect(args).To(HaveKeyWithValue("metrics-bind-address", ":8443"))
	g.Expect(args).NotTo(HaveKeyWithValue("metrics-secure", "false"))
}

// The image of `make build-installer` with the default IMG, and with a registry
// that has a port.
func TestInstallerImage(t *testing.T) {
	g := NewWithT(t)
	for _, image := range []string{"ghcr.io/krosai/kros-operator:latest", "localhost:5000/kros-operator:dev"} {
		_, c := buildInstaller(t, image).manager(t)
		g.Expect(c.Image).To(Equal(image))
	}
}

// The bundle, and the bundle with every opt-in that needs no CRD beyond
// its own, are accepted by a server-side dry run.
func TestInstallerDryRun(t *testing.T) {
	for name, optIns := range map[string][]optIn{
		"defaults": nil,
		"opted-in": {networkPolicyOptIn, eventReceiverOptIn, eventCertOptIn},
	} {
		t.Run(name, func(t *testing.T) {
			dryRunApply(t, buildInstaller(t, installerImage, optIns...))
		})
	}
}
