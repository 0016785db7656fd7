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
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/krosai/kros-operator/internal/krosai/openapi"
)

type schema struct {
	Properties map[string]struct {
		Enum []string `json:"enum"`
	} `json:"properties"`
	Required []string `json:"required"`
}

// contract is the part of the merged OpenAPI document the types must follow.
func contract(t *testing.T) (schemas map[string]schema, patchBody schema) {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema schema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatal(err)
	}
	patch := doc.Paths["/endpoints/{id}"]["patch"].RequestBody.Content["application/json"].Schema
	if len(patch.Properties) == 0 {
		t.Fatal("no PATCH /endpoints/{id} request body schema in the document")
	}
	return doc.Components.Schemas, patch
}

// jsonFields maps the JSON names of v's fields to whether they are omitempty.
func jsonFields(v any) map[string]bool {
	out := map[string]bool{}
	for field := range reflect.TypeOf(v).Fields() {
		name, opts, _ := strings.Cut(field.Tag.Get("json"), ",")
		if name != "-" {
			out[name] = strings.Contains(opts, "omit")
		}
	}
	return out
}

func names[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func TestTypesMatchContract(t *testing.T) {
	schemas, patch := contract(t)
	providers := []string{"VapiConfig", "RetellConfig", "ElevenLabsConfig", "LiveKitConfig", "VogentConfig", "CustomSipConfig"}
	for _, tc := range []struct {
		name   string
		schema schema
		goType any
		extras []string // ours, documented in prose only
		absent []string // in the schema, deliberately not decoded
	}{
		{name: "Endpoint", schema: schemas["Endpoint"], goType: Endpoint{}, extras: []string{"secret"}},
		{name: "EndpointCreate", schema: schemas["EndpointCreate"], goType: EndpointCreate{}},
		{name: "PATCH /endpoints/{id} body", schema: patch, goType: EndpointUpdate{}},
		{name: "Error", schema: schemas["Error"], goType: apiError{}, extras: []string{"retry_after"}, absent: []string{"details"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.schema.Properties).NotTo(BeEmpty(), "schema missing from the document")
			fields := jsonFields(tc.goType)
			want := append(slices.DeleteFunc(names(tc.schema.Properties), func(p string) bool {
				return slices.Contains(tc.absent, p)
			}), tc.extras...)
			g.Expect(names(fields)).To(ConsistOf(want))
			for _, req := range tc.schema.Required {
				if _, ok := fields[req]; ok {
					g.Expect(fields[req]).To(BeFalse(), "required %q must always be sent", req)
				}
			}
		})
	}
	t.Run("ProviderConfig", func(t *testing.T) {
		g := NewWithT(t)
		fields := jsonFields(ProviderConfig{})
		var union []string
		for _, p := range providers {
			props := names(schemas[p].Properties)
			g.Expect(props).NotTo(BeEmpty(), "schema %s missing from the document", p)
			union = append(union, props...)
		}
		g.Expect(names(fields)).To(ConsistOf(union), "ProviderConfig is every provider's fields, each once")
		for name, omitted := range fields {
			g.Expect(omitted).To(BeTrue(), "%s belongs to one provider only: omit it when empty", name)
		}
	})
	t.Run("enums", func(t *testing.T) {
		g := NewWithT(t)
		types := []string{TypeWebhook, TypeVapi, TypeRetell, TypeLiveKit, TypeElevenLabs, TypeVogent, TypeCustomSIP}
		g.Expect(schemas["Endpoint"].Properties["type"].Enum).To(ConsistOf(types))
		g.Expect(schemas["EndpointCreate"].Properties["type"].Enum).To(ConsistOf(types))
		g.Expect(schemas["Endpoint"].Properties["status"].Enum).To(ConsistOf(StatusActive, StatusInactive, StatusError))
		g.Expect(patch.Properties["status"].Enum).To(ConsistOf(StatusActive, StatusInactive))
	})
}
