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
	"strings"
	"unicode"
)

// sanitize makes text from the API or the cluster safe to print on a
// terminal: control characters and the bidirectional formatting characters
// (which can make a line read differently than it is) are dropped, invalid
// UTF-8 replaced. With spaces, whitespace controls (newline, tab) become a
// space instead.
func sanitize(s string, spaces bool) string {
	return strings.Map(func(r rune) rune {
		switch {
		case spaces && unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), isBidiFormatting(r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// cell is s as one table cell: printable, without tabs or newlines, "-"
// when empty.
func cell(s string) string {
	s = oneLine(s)
	if s == "" {
		return "-"
	}
	return s
}

// isBidiFormatting reports the characters the CRD refuses in displayName:
// U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069.
func isBidiFormatting(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
