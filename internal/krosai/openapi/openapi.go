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

// Package openapi holds the KrosAI Cockpit API contract: the vendor's five
// OpenAPI fragments, verbatim under fragments/, and the single document merged
// from them, which the client's contract tests and the simulator's request
// validation both read.
//
// Nothing of ours is added to the document: what the vendor documents only in
// prose (the webhook `secret` field, the wrapped list shape) lives in code, in
// the client's tolerant decoding and in the simulator.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

//go:generate go run ./gen

// Document is the merged OpenAPI 3.0.3 document of the endpoint operations.
//
//go:embed cockpit-api.json
var Document []byte

// Merge combines OpenAPI fragments into one document. Objects are merged key
// by key; any other value present in two fragments must be identical, so a
// fragment can never silently override another.
func Merge(fragments ...[]byte) ([]byte, error) {
	merged := map[string]any{}
	for i, fragment := range fragments {
		var doc map[string]any
		if err := json.Unmarshal(fragment, &doc); err != nil {
			return nil, fmt.Errorf("fragment %d: %w", i, err)
		}
		if err := mergeInto(merged, doc, ""); err != nil {
			return nil, fmt.Errorf("fragment %d: %w", i, err)
		}
	}
	out, err := json.MarshalIndent(merged, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func mergeInto(dst, src map[string]any, path string) error {
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		here := path + "/" + k
		existing, ok := dst[k]
		if !ok {
			dst[k] = src[k]
			continue
		}
		existingObj, okDst := existing.(map[string]any)
		srcObj, okSrc := src[k].(map[string]any)
		if okDst && okSrc {
			if err := mergeInto(existingObj, srcObj, here); err != nil {
				return err
			}
			continue
		}
		if !reflect.DeepEqual(existing, src[k]) {
			return fmt.Errorf("conflicting values at %s", here)
		}
	}
	return nil
}
