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
	"testing"
	"time"

	"github.com/krosai/kros-operator/test/fakeapi"
)

const (
	testKey      = "kros_test_0123456789abcdef0123456789abcdef"
	testOrg      = "7f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	testPassword = "s3cr3t-SIP-p4ss"
)

var testCred = Credentials{APIKey: testKey, OrganizationID: testOrg}

// newClient returns a Client for f with fast retries and a loose rate limit,
// changed by mutate.
func newClient(t *testing.T, f *fakeapi.Server, mutate ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:     f.URL + "/v1",
		UserAgent:   "kros-operator/test",
		Timeout:     2 * time.Second,
		RateLimit:   1000,
		Burst:       1000,
		BackoffBase: time.Millisecond,
		BackoffCap:  2 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func endpoint(id string) map[string]any {
	return map[string]any{
		"id": id, "name": "ep " + id, "type": "webhook", "url": "https://example.com/hook",
		"status": "active", "organization_id": testOrg,
		"created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z",
	}
}
