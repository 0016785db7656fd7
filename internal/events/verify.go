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

package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// maxSignatures bounds the signatures one delivery may carry (a sender
// rotating its secret signs with the old and the new).
const maxSignatures = 4

// parseSignatures reads "sha256=<hex>" values, several per header separated
// by commas or spaces. ok is false when none is well formed.
func parseSignatures(headers []string) (sums [][]byte, ok bool) {
	for _, h := range headers {
		for _, v := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == ' ' }) {
			hexSum, found := strings.CutPrefix(v, "sha256=")
			if !found || len(hexSum) != 2*sha256.Size {
				continue
			}
			sum, err := hex.DecodeString(hexSum)
			if err != nil {
				continue
			}
			if sums = append(sums, sum); len(sums) == maxSignatures {
				return sums, true
			}
		}
	}
	return sums, len(sums) > 0
}

// verify reports whether one of the signatures is the HMAC-SHA256 of body
// with secret. The comparison takes the same time wherever the bytes differ.
func verify(secret, body []byte, signatures [][]byte) bool {
	if len(secret) == 0 {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	want := mac.Sum(nil)
	valid := false
	for _, sig := range signatures {
		valid = hmac.Equal(want, sig) || valid
	}
	return valid
}

// Sign returns the X-Webhook-Signature value of body under secret, as
// KrosAI sends it: for tests and tools that deliver events.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver posts body to an event receiver's url, signed with secret as
// KrosAI signs, and returns the answer's status: for tests and tools.
func Deliver(ctx context.Context, c *http.Client, url string, secret, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(secret, body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
