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

package openapi

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	. "github.com/onsi/gomega"
)

// fragments returns the vendor's fragments, sorted by file name as gen reads
// them.
func fragments(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("fragments", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fragments: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

func TestDocumentIsTheMergedFragments(t *testing.T) {
	g := NewWithT(t)
	frags := fragments(t)
	ordered := make([][]byte, 0, len(frags))
	for _, name := range slices.Sorted(maps.Keys(frags)) {
		ordered = append(ordered, frags[name])
	}
	merged, err := Merge(ordered...)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(Document)).To(Equal(string(merged)),
		"cockpit-api.json is stale or was edited by hand: run go generate ./internal/krosai/openapi")
}

// operations maps "METHOD path" to the operationId of every operation in doc.
func operations(t *testing.T, doc []byte) map[string]string {
	t.Helper()
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for path, methods := range d.Paths {
		for method, op := range methods {
			out[method+" "+path] = op.OperationID
		}
	}
	return out
}

func TestEveryFragmentOperationIsInTheDocument(t *testing.T) {
	g := NewWithT(t)
	inDoc := operations(t, Document)
	fromFragments := map[string]string{}
	for name, frag := range fragments(t) {
		ops := operations(t, frag)
		g.Expect(ops).To(HaveLen(1), "%s documents one operation", name)
		for k, id := range ops {
			g.Expect(id).NotTo(BeEmpty(), "%s: %s has no operationId", name, k)
			g.Expect(inDoc).To(HaveKeyWithValue(k, id), name)
			fromFragments[k] = id
		}
	}
	g.Expect(inDoc).To(Equal(fromFragments), "the document has no operation of its own")
	g.Expect(slices.Sorted(maps.Values(inDoc))).To(Equal([]string{"createEndpoint", "deleteEndpoint", "getEndpoint", "listEndpoints", "updateEndpoint"}))
}

func TestDocumentIsValidOpenAPI(t *testing.T) {
	g := NewWithT(t)
	doc, err := openapi3.NewLoader().LoadFromData(Document)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(doc.Validate(context.Background())).To(Succeed())
}

func TestMergeRefusesConflicts(t *testing.T) {
	g := NewWithT(t)
	merged, err := Merge([]byte(`{"info":{"title":"T"},"a":[1]}`), []byte(`{"info":{"version":"1"},"a":[1]}`))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(merged).To(MatchJSON(`{"info":{"title":"T","version":"1"},"a":[1]}`))

	_, err = Merge([]byte(`{"info":{"version":"1"}}`), []byte(`{"info":{"version":"2"}}`))
	g.Expect(err).To(MatchError(ContainSubstring("conflicting values at /info/version")))
	_, err = Merge([]byte(`{"info":{}}`), []byte(`{"info":"x"}`))
	g.Expect(err).To(HaveOccurred())
	_, err = Merge([]byte(`not json`))
	g.Expect(err).To(HaveOccurred())
}
