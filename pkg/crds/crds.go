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

// Package crds holds the operator's CustomResourceDefinitions as Go values,
// so that a suite installs them without a path into the module cache:
//
//	crdList, err := crds.All()
//	env := &envtest.Environment{CRDs: crdList}
//
// The YAML is config/crd/bases as controller-gen writes it; make manifests
// copies it here (go:embed cannot reach a parent directory) and a test fails
// when the copy is stale.
//
// # Stability
//
// All and Files are stable within a major version of the module. The
// definitions themselves change as the API does: a CRD's own versions
// (v1alpha1, ...) say how stable each is, not this package.
package crds

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed *.yaml
var files embed.FS

// Files is the CRDs' YAML, one file per CRD, for tools that apply manifests
// rather than Go values.
func Files() fs.FS { return files }

// All decodes the CRDs, in file name order. Each call returns new values,
// which the caller may change.
func All() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(names))
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		out = append(out, crd)
	}
	return out, nil
}
