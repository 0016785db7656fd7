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

package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// source is one KrosEndpoint read from -f, and where.
type source struct {
	resource cockpitv1alpha1.KrosEndpoint
	file     string
	doc      int
}

func (s source) String() string { return fmt.Sprintf("%s: document %d", s.file, s.doc) }

// readManifests reads the KrosEndpoints of -f's files, directories (their
// .yaml, .yml and .json files, not recursively) and "-" (stdin), in the
// order given. Any other kind of object is an error: plan would otherwise
// silently say nothing about it.
func readManifests(paths []string, stdin io.Reader) ([]source, error) {
	var files []string
	for _, p := range paths {
		if p == "-" {
			files = append(files, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		found := false
		for _, e := range entries {
			if ext := strings.ToLower(filepath.Ext(e.Name())); !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
				files = append(files, filepath.Join(p, e.Name()))
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: no .yaml, .yml or .json files", p)
		}
	}
	var out []source
	stdinRead := false
	for _, file := range files {
		var data []byte
		var err error
		if file == "-" {
			if stdinRead {
				return nil, errors.New("-f - given twice: stdin can be read once")
			}
			stdinRead = true
			data, err = io.ReadAll(stdin)
			file = "stdin"
		} else {
			data, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, err
		}
		resources, err := decodeManifests(file, data)
		if err != nil {
			return nil, err
		}
		out = append(out, resources...)
	}
	return out, nil
}

// decodeManifests splits a multi-document YAML (or JSON) stream and decodes
// each document that is not empty, expanding a v1 List.
func decodeManifests(file string, data []byte) ([]source, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []source
	doc := 0
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if isEmptyDocument(raw) {
			continue
		}
		doc++
		at := source{file: file, doc: doc}
		var head struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Items      []json.RawMessage `json:"items"`
		}
		if err := yaml.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		items := [][]byte{raw}
		if head.APIVersion == "v1" && head.Kind == "List" {
			items = items[:0]
			for _, item := range head.Items {
				items = append(items, item)
			}
		}
		for _, item := range items {
			ep, err := decodeKrosEndpoint(item)
			if err != nil {
				return nil, fmt.Errorf("%s %w", at, err)
			}
			at.resource = ep
			out = append(out, at)
		}
	}
}

// decodeKrosEndpoint decodes one object, strictly: a misspelt field would
// otherwise be planned as if absent.
func decodeKrosEndpoint(raw []byte) (cockpitv1alpha1.KrosEndpoint, error) {
	var ep cockpitv1alpha1.KrosEndpoint
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(raw, &head); err != nil {
		return ep, fmt.Errorf("is not an object: %w", err)
	}
	want := cockpitv1alpha1.GroupVersion.String() + " " + kindKrosEndpoint
	if head.APIVersion != cockpitv1alpha1.GroupVersion.String() || head.Kind != kindKrosEndpoint {
		what := "an object without a kind"
		if head.Kind != "" {
			what = article(head.Kind) + " " + sanitize(head.Kind, true)
			if head.Kind == kindKrosEndpoint {
				what = "a " + sanitize(head.APIVersion, true) + " KrosEndpoint"
			}
		}
		return ep, fmt.Errorf("is %s, not a %s", what, want)
	}
	if err := yaml.UnmarshalStrict(raw, &ep); err != nil {
		return ep, fmt.Errorf("is not a valid KrosEndpoint: %w", err)
	}
	return ep, nil
}

func isEmptyDocument(raw []byte) bool {
	for line := range strings.Lines(string(raw)) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			return false
		}
	}
	return true
}

// article is "a" or "an" for a kind.
func article(kind string) string {
	if kind != "" && strings.ContainsRune("AEIOUaeiou", rune(kind[0])) {
		return "an"
	}
	return "a"
}

// placeResources gives each resource without a namespace the default one,
// refuses one whose namespace differs from an explicit -n (as kubectl apply
// does), and refuses the same resource twice.
func placeResources(sources []source, namespace string, explicit bool) ([]cockpitv1alpha1.KrosEndpoint, error) {
	seen := map[types.NamespacedName]source{}
	out := make([]cockpitv1alpha1.KrosEndpoint, 0, len(sources))
	for _, s := range sources {
		ep := s.resource
		switch {
		case ep.Namespace == "":
			ep.Namespace = namespace
		case explicit && ep.Namespace != namespace:
			return nil, fmt.Errorf("%s: the namespace %q of KrosEndpoint %q does not match -n %q",
				s, sanitize(ep.Namespace, true), sanitize(ep.Name, true), namespace)
		}
		if ep.Name == "" {
			return nil, fmt.Errorf("%s: KrosEndpoint has no metadata.name", s)
		}
		key := types.NamespacedName{Namespace: ep.Namespace, Name: ep.Name}
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: KrosEndpoint %s is also in %s", s, sanitize(key.String(), true), first)
		}
		seen[key] = s
		out = append(out, ep)
	}
	return slices.Clip(out), nil
}
