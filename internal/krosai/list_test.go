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

package krosai

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/krosai/kros-operator/test/fakeapi"
)

// endpoints returns n endpoints with distinct ids.
func endpoints(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = endpoint(fmt.Sprintf("ep_%03d", i))
	}
	return out
}

// page serves all[offset:offset+limit] as the query asks, defaulting to the
// API's limit of 50.
func page(all []map[string]any, q url.Values) []map[string]any {
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil {
		limit = 50
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = min(offset, len(all))
	return all[offset:min(offset+limit, len(all))]
}

func TestListShapes(t *testing.T) {
	all := endpoints(250)
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
		want   int // endpoints listed
		hits   int
	}{
		{"bare array, all at once", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, all)
		}, 250, 1},
		{"bare array of exactly one page size, limit and offset ignored", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, all[:pageSize])
		}, pageSize, 2},
		{"bare array, paged", func(w http.ResponseWriter, r *http.Request) {
			fakeapi.WriteJSON(w, 200, page(all, r.URL.Query()))
		}, 250, 3},
		{"empty bare array", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, []any{})
		}, 0, 1},
		{"wrapped, paged", func(w http.ResponseWriter, r *http.Request) {
			fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": page(all, r.URL.Query()), "total": len(all)})
		}, 250, 3},
		{"wrapped, limit ignored", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			q.Del("limit")
			fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": page(all, q), "total": len(all)})
		}, 250, 5},
		{"wrapped without total", func(w http.ResponseWriter, r *http.Request) {
			fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": page(all, r.URL.Query())})
		}, 250, 3},
		{"wrapped, empty", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": []any{}, "total": 0})
		}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var queries []url.Values
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				queries = append(queries, r.URL.Query())
				tc.handle(w, r)
			})
			got, err := newClient(t, f).ListEndpoints(context.Background(), testCred)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(HaveLen(tc.want))
			for i, e := range got {
				g.Expect(e.ID).To(Equal(fmt.Sprintf("ep_%03d", i)))
			}
			g.Expect(f.Hits()).To(BeEquivalentTo(tc.hits))
			g.Expect(queries[0].Get("limit")).To(Equal("100"))
			g.Expect(queries[0].Get("offset")).To(Equal("0"))
		})
	}
}

func TestListThatCannotComplete(t *testing.T) {
	all := endpoints(250)
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
		hits   int
	}{
		{"offset ignored", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": all[:50], "total": len(all)})
		}, 2},
		{"total larger than what is served", func(w http.ResponseWriter, r *http.Request) {
			fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": page(all, r.URL.Query()), "total": 1000})
		}, 4},
		{"object without endpoints", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, map[string]any{"error": "maintenance"})
		}, 1},
		{"endpoint without id", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, []any{map[string]any{"name": "x"}})
		}, 1},
		{"null", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, nil)
		}, 1},
		{"an id with a newline", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 200, []any{endpoint("ep_1"), endpoint("ep_2\n")})
		}, 1},
		{"an id with a NUL on the second page", func(w http.ResponseWriter, r *http.Request) {
			bad := slices.Clone(all)
			bad[150] = endpoint("ep_\x00150")
			fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": page(bad, r.URL.Query()), "total": len(bad)})
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, r *http.Request) { tc.handle(w, r) })
			got, err := newClient(t, f).ListEndpoints(context.Background(), testCred)
			g.Expect(KindOf(err)).To(Equal(KindTransient), "%v", err)
			g.Expect(got).To(BeNil(), "a partial list is never returned")
			g.Expect(f.Hits()).To(BeEquivalentTo(tc.hits))
		})
	}
}

func TestListIsBounded(t *testing.T) {
	g := NewWithT(t)
	// A server inventing a new endpoint on every page, forever.
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": []any{map[string]any{"id": fmt.Sprint(n)}}, "total": 1 << 30})
	})
	_, err := newClient(t, f).ListEndpoints(context.Background(), testCred)
	g.Expect(err).To(MatchError(ContainSubstring("more than 1000 pages")))
	g.Expect(f.Hits()).To(BeEquivalentTo(maxPages))
}

func TestListBytesAreBounded(t *testing.T) {
	g := NewWithT(t)
	defer func(limit int64) { maxListBytes = limit }(maxListBytes)
	maxListBytes = 64 << 10
	// Full pages of new endpoints with long names: each page is under the
	// per-response cap, the listing is not under its own.
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		page := make([]any, pageSize)
		for i := range page {
			page[i] = map[string]any{"id": fmt.Sprintf("%d-%d", n, i), "name": strings.Repeat("x", 100)}
		}
		fakeapi.WriteJSON(w, 200, map[string]any{"endpoints": page, "total": 1 << 30})
	})
	_, err := newClient(t, f).ListEndpoints(context.Background(), testCred)
	// Whichever page spends the budget is refused: cut short at the rest of
	// the budget, or counted over it.
	g.Expect(err).To(Or(MatchError(ContainSubstring("listing exceeds 65536 bytes")),
		MatchError(ContainSubstring("response body too large"))))
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(f.Hits()).To(BeNumerically("<", 10), "stops as soon as the budget is spent")
}
