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

// Command apidocs writes docs/api-reference.md from the generated CRD, so the
// reference says exactly what the API server enforces: every field of spec
// and status with its type, whether it is required, its default, its bounds,
// its CEL rules and its description.
//
//	go run ./hack/apidocs
//
// Paths are relative to the module root, wherever the command runs from.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// JSON Schema types that nest fields.
const (
	typeObject = "object"
	typeArray  = "array"
)

const (
	defaultCRD = "config/crd/bases/cockpit.krosai.com_krosendpoints.yaml"
	defaultOut = "docs/api-reference.md"
)

// references are the pages written without flags: one per CRD.
var references = []struct{ crd, out string }{
	{defaultCRD, defaultOut},
	{"config/crd/bases/cockpit.krosai.com_krosgrants.yaml", "docs/krosgrant-api-reference.md"},
}

func main() {
	crdPath := flag.String("crd", "", "the CRD to read, relative to the module root (default: every CRD's page)")
	outPath := flag.String("out", "", "the Markdown file to write, relative to the module root")
	flag.Parse()
	pages := references
	if *crdPath != "" {
		pages = []struct{ crd, out string }{{*crdPath, *outPath}}
	}
	for _, page := range pages {
		if err := run(page.crd, page.out); err != nil {
			fmt.Fprintln(os.Stderr, "apidocs:", err)
			os.Exit(1)
		}
	}
}

func run(crdPath, outPath string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	in, err := os.ReadFile(filepath.Join(root, crdPath))
	if err != nil {
		return err
	}
	out, err := generate(in, crdPath)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, outPath), out, 0o644)
}

// moduleRoot is the nearest directory upwards holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// crd is the part of a CustomResourceDefinition the reference shows.
type crd struct {
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind       string   `json:"kind"`
			Plural     string   `json:"plural"`
			ShortNames []string `json:"shortNames"`
			Categories []string `json:"categories"`
		} `json:"names"`
		Scope    string `json:"scope"`
		Versions []struct {
			Name    string `json:"name"`
			Served  bool   `json:"served"`
			Storage bool   `json:"storage"`
			Columns []struct {
				Name     string `json:"name"`
				Type     string `json:"type"`
				JSONPath string `json:"jsonPath"`
				Priority int    `json:"priority"`
			} `json:"additionalPrinterColumns"`
			Schema struct {
				OpenAPIV3Schema *schema `json:"openAPIV3Schema"`
			} `json:"schema"`
			Subresources map[string]json.RawMessage `json:"subresources"`
		} `json:"versions"`
	} `json:"spec"`
}

// schema is the subset of JSON Schema (with Kubernetes extensions) that
// controller-gen emits.
type schema struct {
	Type        string             `json:"type"`
	Format      string             `json:"format"`
	Description string             `json:"description"`
	Default     json.RawMessage    `json:"default"`
	Enum        []json.RawMessage  `json:"enum"`
	MinLength   *int64             `json:"minLength"`
	MaxLength   *int64             `json:"maxLength"`
	Pattern     string             `json:"pattern"`
	Minimum     *float64           `json:"minimum"`
	Maximum     *float64           `json:"maximum"`
	MinItems    *int64             `json:"minItems"`
	MaxItems    *int64             `json:"maxItems"`
	Properties  map[string]*schema `json:"properties"`
	Items       *schema            `json:"items"`
	Required    []string           `json:"required"`
	Validations []validation       `json:"x-kubernetes-validations"`
	ListType    string             `json:"x-kubernetes-list-type"`
	ListMapKeys []string           `json:"x-kubernetes-list-map-keys"`
}

// validation is one CEL rule.
type validation struct {
	Rule              string `json:"rule"`
	Message           string `json:"message"`
	MessageExpression string `json:"messageExpression"`
	FieldPath         string `json:"fieldPath"`
	Reason            string `json:"reason"`
}

// object is one table of the reference: an object schema and its path.
type object struct {
	path string
	s    *schema
}

// generate renders the reference for the CRD in crdYAML, read from source.
func generate(crdYAML []byte, source string) ([]byte, error) {
	var c crd
	if err := yaml.Unmarshal(crdYAML, &c); err != nil {
		return nil, fmt.Errorf("read CRD: %w", err)
	}
	if len(c.Spec.Versions) == 0 {
		return nil, errors.New("the CRD has no versions")
	}
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!-- Code generated by `go run ./hack/apidocs` from %s. DO NOT EDIT. -->\n\n", source)
	p("# %s API reference\n\n", c.Spec.Names.Kind)
	p("This page is generated from the CRD, so it states what the API server enforces\n")
	p("at admission from the CRD's schema: types, defaults, OpenAPI bounds and CEL\n")
	p("rules. Fields are listed in alphabetical order. Regenerate it with\n")
	p("`go run ./hack/apidocs` after `make manifests`.\n\n")

	for _, v := range c.Spec.Versions {
		root := v.Schema.OpenAPIV3Schema
		if root == nil {
			return nil, fmt.Errorf("version %s has no schema", v.Name)
		}
		p("## %s/%s\n\n", c.Spec.Group, v.Name)
		p("| | |\n|---|---|\n")
		p("| apiVersion | `%s/%s` |\n", c.Spec.Group, v.Name)
		p("| kind | `%s` |\n", c.Spec.Names.Kind)
		p("| scope | %s |\n", c.Spec.Scope)
		p("| resource | `%s` |\n", c.Spec.Names.Plural)
		if len(c.Spec.Names.ShortNames) > 0 {
			p("| short names | %s |\n", codeList(c.Spec.Names.ShortNames))
		}
		if len(c.Spec.Names.Categories) > 0 {
			p("| categories | %s |\n", codeList(c.Spec.Names.Categories))
		}
		p("| served, storage | %t, %t |\n", v.Served, v.Storage)
		if len(v.Subresources) > 0 {
			p("| subresources | %s |\n", codeList(sortedKeys(v.Subresources)))
		}
		p("\n%s\n\n", cell(oneLine(root.Description)))
		if len(v.Columns) > 0 {
			p("`kubectl get` columns (`-o wide` adds those of priority 1):\n\n")
			p("| column | type | JSONPath | priority |\n|---|---|---|---|\n")
			for _, col := range v.Columns {
				p("| %s | %s | %s | %d |\n", col.Name, col.Type, code(col.JSONPath), col.Priority)
			}
			p("\n")
		}
		for _, top := range []string{"spec", "status"} {
			s := root.Properties[top]
			if s == nil {
				continue
			}
			for _, o := range objects(top, s) {
				writeObject(&b, o, slices.Contains(root.Required, top) && o.path == top)
			}
		}
	}
	return b.Bytes(), nil
}

// objects lists s and every object nested in it, depth first in key order.
func objects(path string, s *schema) []object {
	out := []object{{path: path, s: s}}
	for _, name := range sortedKeys(s.Properties) {
		child := s.Properties[name]
		childPath := path + "." + name
		switch {
		case child.Type == typeObject && len(child.Properties) > 0:
			out = append(out, objects(childPath, child)...)
		case child.Type == typeArray && child.Items != nil && child.Items.Type == typeObject && len(child.Items.Properties) > 0:
			out = append(out, objects(childPath+"[]", child.Items)...)
		}
	}
	return out
}

func writeObject(b *bytes.Buffer, o object, required bool) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### `%s`\n\n", o.path)
	intro := []string{cell(oneLine(o.s.Description))}
	if required {
		intro = append(intro, "Required.")
	}
	if len(o.s.Default) > 0 {
		intro = append(intro, "Default: "+code(string(o.s.Default))+".")
	}
	if line := strings.TrimSpace(strings.Join(intro, " ")); line != "" {
		p("%s\n\n", line)
	}
	if len(o.s.Validations) > 0 {
		p("Rules on the whole object:\n\n")
		p("| rule | message | reported on |\n|---|---|---|\n")
		for _, v := range o.s.Validations {
			on := code(o.path + v.FieldPath)
			p("| %s | %s | %s |\n", code(v.Rule), cell(message(v)), on)
		}
		p("\n")
	}
	p("| field | type | required | default | validation | description |\n")
	p("|---|---|---|---|---|---|\n")
	for _, name := range sortedKeys(o.s.Properties) {
		f := o.s.Properties[name]
		path := o.path + "." + name
		req := "optional"
		if slices.Contains(o.s.Required, name) {
			req = "**required**"
		}
		def := ""
		if len(f.Default) > 0 {
			def = code(string(f.Default))
		}
		p("| %s | %s | %s | %s | %s | %s |\n",
			code(path), typeOf(path, f), req, def, strings.Join(bounds(f), "<br>"), cell(oneLine(f.Description)))
	}
	p("\n")
}

// typeOf names a field's type, linking nested objects to their own table.
func typeOf(path string, s *schema) string {
	switch {
	case s.Type == typeObject && len(s.Properties) > 0:
		return fmt.Sprintf("[object](#%s)", anchor(path))
	case s.Type == typeArray && s.Items != nil:
		if s.Items.Type == typeObject && len(s.Items.Properties) > 0 {
			return fmt.Sprintf("[[]object](#%s)", anchor(path+"[]"))
		}
		return "[]" + typeOf(path+"[]", s.Items)
	case s.Format != "":
		return fmt.Sprintf("%s (%s)", s.Type, s.Format)
	}
	return s.Type
}

// bounds lists a field's OpenAPI bounds and field-level CEL rules.
func bounds(s *schema) []string {
	var out []string
	if len(s.Enum) > 0 {
		values := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			values = append(values, code(enumValue(e)))
		}
		out = append(out, "one of "+strings.Join(values, ", "))
	}
	if s.MinLength != nil {
		out = append(out, fmt.Sprintf("minLength %d", *s.MinLength))
	}
	if s.MaxLength != nil {
		out = append(out, fmt.Sprintf("maxLength %d", *s.MaxLength))
	}
	if s.Pattern != "" {
		out = append(out, "pattern "+code(s.Pattern))
	}
	if s.Minimum != nil {
		out = append(out, "minimum "+strconv.FormatFloat(*s.Minimum, 'f', -1, 64))
	}
	if s.Maximum != nil {
		out = append(out, "maximum "+strconv.FormatFloat(*s.Maximum, 'f', -1, 64))
	}
	if s.MinItems != nil {
		out = append(out, fmt.Sprintf("minItems %d", *s.MinItems))
	}
	if s.MaxItems != nil {
		out = append(out, fmt.Sprintf("maxItems %d", *s.MaxItems))
	}
	if s.ListType != "" {
		lt := "list type " + s.ListType
		if len(s.ListMapKeys) > 0 {
			lt += ", keyed by " + codeList(s.ListMapKeys)
		}
		out = append(out, lt)
	}
	for _, v := range s.Validations {
		out = append(out, fmt.Sprintf("rule %s: %s", code(v.Rule), cell(message(v))))
	}
	return out
}

func message(v validation) string {
	if v.Message == "" && v.MessageExpression != "" {
		return "(expression) " + v.MessageExpression
	}
	return v.Message
}

// enumValue renders an enum value: strings unquoted, anything else as JSON.
func enumValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// code renders s as a Markdown code span that is safe in a table cell.
func code(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// cell makes prose safe in a table cell: code spans (`...`) are kept, with
// their pipes escaped; elsewhere the characters Markdown or HTML would
// interpret (\ < > | and a backtick without a partner) are escaped.
func cell(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexAny(s, "`\\<>|")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch s[0] {
		case '`':
			run := len(s) - len(strings.TrimLeft(s, "`"))
			fence := s[:run]
			if end := closingFence(s[run:], fence); end >= 0 {
				b.WriteString(strings.ReplaceAll(s[:run+end+run], "|", `\|`))
				s = s[run+end+run:]
				continue
			}
			b.WriteString(strings.Repeat("\\`", run))
			s = s[run:]
		case '<':
			b.WriteString("&lt;")
			s = s[1:]
		case '>':
			b.WriteString("&gt;")
			s = s[1:]
		default: // \ and |
			b.WriteString("\\" + s[:1])
			s = s[1:]
		}
	}
	return b.String()
}

// closingFence returns the index in s of a backtick run exactly as long as
// fence, or -1.
func closingFence(s, fence string) int {
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], fence)
		if j < 0 {
			return -1
		}
		start := i + j
		end := start + len(fence)
		if end < len(s) && s[end] == '`' {
			i = end + len(s[end:]) - len(strings.TrimLeft(s[end:], "`"))
			continue
		}
		return start
	}
	return -1
}

// oneLine joins a multi-line description into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func codeList(items []string) string {
	out := make([]string, 0, len(items))
	for _, i := range items {
		out = append(out, code(i))
	}
	return strings.Join(out, ", ")
}

// anchor is the id GitHub gives a heading "`path`": lower case, with
// everything but letters, digits, '-' and '_' dropped.
func anchor(path string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(path) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
