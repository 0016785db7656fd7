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

// Command gen merges the vendor's OpenAPI fragments into cockpit-api.json.
// Run it through `go generate ./internal/krosai/openapi`.
package main

import (
	"log"
	"os"
	"path/filepath"
	"slices"

	"github.com/krosai/kros-operator/internal/krosai/openapi"
)

func main() {
	paths, err := filepath.Glob(filepath.Join("fragments", "*.json"))
	if err != nil {
		log.Fatal(err)
	}
	slices.Sort(paths)
	fragments := make([][]byte, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		fragments = append(fragments, b)
	}
	merged, err := openapi.Merge(fragments...)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("cockpit-api.json", merged, 0o644); err != nil {
		log.Fatal(err)
	}
}
