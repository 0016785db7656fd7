//go:build soak

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

package soak

import (
	"encoding/base64"
	"testing"
)

// TestNeedles checks the secret search itself, without a cluster: a check
// that cannot find a leak would pass for the wrong reason.
func TestNeedles(t *testing.T) {
	n := newNeedles()
	n.add("kros_test_abcdefghijklmnopqrstuvwxyz0123", "API key")
	n.add("pw-0123456789abcdefghij", "SIP password")
	n.add(base64.StdEncoding.EncodeToString([]byte("pw-0123456789abcdefghij")), "SIP password (base64)")
	n.add("short", "ignored: under 8 bytes")
	text := []byte("line one\n" +
		`{"msg":"x","auth":"Bearer kros_test_abcdefghijklmnopqrstuvwxyz0123"}` + "\n" +
		"pw-0123456789abcdefghi is one byte short\n" +
		`data: {"password":"` + base64.StdEncoding.EncodeToString([]byte("pw-0123456789abcdefghij")) + `"}` + "\n" +
		"kros_test_abcdefghijklmnopqrstuvwxyz0123 again\n" +
		"short")
	hits := n.find(text)
	if len(hits) != 2 {
		t.Fatalf("want the key and the base64 password, once each; got %d: %+v", len(hits), hits)
	}
	if hits[0].what != "API key" || hits[0].context != `{"msg":"x","auth":"Bearer <API key>"}` {
		t.Errorf("first hit: %+v", hits[0])
	}
	if hits[1].what != "SIP password (base64)" || hits[1].context != `data: {"password":"<SIP password (base64)>"}` {
		t.Errorf("second hit: %+v", hits[1])
	}
}
