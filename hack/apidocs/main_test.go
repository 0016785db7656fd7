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
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReferenceUpToDate fails when a CRD's page (docs/api-reference.md,
// docs/krosgrant-api-reference.md) no longer matches the CRD, e.g. after an
// API change and `make manifests`.
func TestReferenceUpToDate(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range references {
		in, err := os.ReadFile(filepath.Join(root, page.crd))
		if err != nil {
			t.Fatal(err)
		}
		want, err := generate(in, page.crd)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, page.out))
		if err != nil {
			t.Fatalf("%v: run go run ./hack/apidocs", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s is out of date with %s: run go run ./hack/apidocs", page.out, page.crd)
		}
	}
}

// TestGenerateIsDeterministic guards against map iteration order leaking
// into the output.
func TestGenerateIsDeterministic(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join(root, defaultCRD))
	if err != nil {
		t.Fatal(err)
	}
	first, err := generate(in, defaultCRD)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := generate(in, defaultCRD)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two runs over the same CRD differ")
		}
	}
}

// TestGenerateCoversEveryField renders a small CRD and checks that nested
// paths, required markers, defaults, bounds and both kinds of CEL rule appear.
func TestGenerateCoversEveryField(t *testing.T) {
	const in = `
spec:
  group: example.com
  names: {kind: Thing, plural: things}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            required: [mode]
            x-kubernetes-validations:
            - rule: "has(self.a) || has(self.b)"
              message: a or b
              fieldPath: .a
            properties:
              mode:
                type: string
                enum: [low, high]
                default: low
              outer:
                type: object
                properties:
                  inner:
                    type: object
                    required: [name]
                    properties:
                      name:
                        type: string
                        minLength: 1
                        maxLength: 5
                        pattern: ^[a-z]+$
                        x-kubernetes-validations:
                        - rule: self == oldSelf
                          message: immutable
              tags:
                type: array
                maxItems: 3
                items: {type: string}
`
	out, err := generate([]byte(in), "thing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### `spec.outer.inner`",
		"| `spec.outer.inner.name` | string | **required** |  | minLength 1<br>maxLength 5<br>pattern `^[a-z]+$`<br>" +
			"rule `self == oldSelf`: immutable |",
		"| `spec.mode` | string | **required** | `\"low\"` | one of `low`, `high` |",
		"| `has(self.a) \\|\\| has(self.b)` | a or b | `spec.a` |",
		"| `spec.tags` | []string | optional |  | maxItems 3 |",
		"[object](#specouterinner)",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCell checks that prose keeps its code spans and cannot break a table
// row or turn into HTML.
func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                          "plain",
		"a `x|y` b":                      "a `x\\|y` b",
		"any of <>\\^`{|} here":          "any of &lt;&gt;\\\\^\\`{\\|} here",
		"shown in `kubectl get`. Then `": "shown in `kubectl get`. Then \\`",
		"``a`b`` c":                      "``a`b`` c",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}
