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
	"fmt"

	"github.com/krosai/kros-operator/pkg/crds"
)

// The CRDs go into envtest.Environment{CRDs: ...} as they are.
func ExampleAll() {
	all, err := crds.All()
	if err != nil {
		panic(err)
	}
	for _, crd := range all {
		for _, v := range crd.Spec.Versions {
			fmt.Println(crd.Spec.Names.Kind, crd.Spec.Group+"/"+v.Name, "served:", v.Served)
		}
	}
	// Output:
	// KrosEndpoint cockpit.krosai.com/v1alpha1 served: true
	// KrosGrant cockpit.krosai.com/v1alpha1 served: true
}
