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
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/krosai/kros-operator/internal/krosai"
)

// maxName is the longest metadata.name import writes: a DNS-1123 label.
const maxName = validation.DNS1123LabelMaxLength

// baseName is a DNS-1123 label made of a display name: lowercased, every run
// of characters other than a-z and 0-9 one "-", trimmed, prefixed, at most
// 63 characters; "endpoint" when nothing is left of the name.
func baseName(prefix, displayName string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(displayName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	name := b.String()
	if name == "" {
		name = "endpoint"
	}
	return fitName(prefix+name, "")
}

// fitName is name with suffix, cut so that the whole is at most maxName
// characters and does not end the name part in "-".
func fitName(name, suffix string) string {
	if len(name)+len(suffix) > maxName {
		name = strings.TrimRight(name[:maxName-len(suffix)], "-")
	}
	return name + suffix
}

// checkNamePrefix refuses a --name-prefix that cannot start a DNS-1123 label.
func checkNamePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// The prefix followed by "x" must be a label: letters, digits and "-",
	// starting with a letter or digit, short enough to leave room.
	if errs := validation.IsDNS1123Label(prefix + "x"); len(errs) > 0 || len(prefix) > maxName-8 {
		return fmt.Errorf("--name-prefix %q: want lowercase letters, digits and '-', starting with a letter or digit, "+
			"at most %d characters", sanitize(prefix, true), maxName-8)
	}
	return nil
}

// endpointNames gives every endpoint its metadata.name: its baseName, and
// where several endpoints share one, the first by id keeps it and the
// others get -2, -3, ..., skipping any name another endpoint's baseName or
// an earlier suffix took. It depends only on the set of endpoints, not on
// their order.
func endpointNames(endpoints []krosai.Endpoint, prefix string) map[string]string {
	byBase := map[string][]krosai.Endpoint{}
	for _, e := range endpoints {
		base := baseName(prefix, e.Name)
		byBase[base] = append(byBase[base], e)
	}
	bases := slices.Sorted(maps.Keys(byBase))
	taken := map[string]bool{}
	for _, b := range bases {
		taken[b] = true
	}
	names := make(map[string]string, len(endpoints))
	for _, base := range bases {
		group := byBase[base]
		slices.SortFunc(group, func(a, b krosai.Endpoint) int { return cmp.Compare(a.ID, b.ID) })
		names[group[0].ID] = base
		n := 2
		for _, e := range group[1:] {
			for {
				candidate := fitName(base, "-"+strconv.Itoa(n))
				n++
				if !taken[candidate] {
					taken[candidate] = true
					names[e.ID] = candidate
					break
				}
			}
		}
	}
	return names
}
