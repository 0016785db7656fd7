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

package crds_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/krosai/kros-operator/pkg/crds"
)

// TestInStepWithConfig fails when config/crd/bases changed and make
// manifests was not run: the embedded copy must be the generated files.
func TestInStepWithConfig(t *testing.T) {
	generated, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("config/crd/bases: %v %v", generated, err)
	}
	embedded, err := fs.Glob(crds.Files(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(embedded) != len(generated) {
		t.Errorf("embedded %v, generated %v: run make manifests", embedded, generated)
	}
	for _, path := range generated {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.ReadFile(crds.Files(), filepath.Base(path))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: the embedded copy differs (%v): run make manifests", filepath.Base(path), err)
		}
	}
}

func TestAllDecodesEveryFile(t *testing.T) {
	all, err := crds.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no CRDs")
	}
	for _, crd := range all {
		if crd.Kind != "CustomResourceDefinition" || crd.Spec.Group != "cockpit.krosai.com" || len(crd.Spec.Versions) == 0 {
			t.Errorf("%s: kind %q, group %q, %d versions", crd.Name, crd.Kind, crd.Spec.Group, len(crd.Spec.Versions))
		}
	}
	again, _ := crds.All()
	again[0].Name = "changed"
	if all[0].Name == "changed" {
		t.Error("All returned values shared between calls")
	}
}
