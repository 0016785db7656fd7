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
	"fmt"
	"io"
)

// Credentials select the API key and organization of one call. The reconciler
// resolves them from Secrets; the client only ever sees these plain values.
//
// Formatting a Credentials with any fmt verb, or as JSON, never shows the key.
type Credentials struct {
	// APIKey is sent as a Bearer token or an x-api-key header.
	APIKey string `json:"-"`
	// OrganizationID, when set, is sent as x-organization-id; without it the
	// API uses the key owner's first organization.
	OrganizationID string
	// Redact lists other secret values the caller holds, such as SIP
	// passwords, to keep out of error strings even when the API quotes
	// them in answer to a request that did not carry them.
	Redact []string `json:"-"`
	// DailyQuota is the requests the key may make per UTC day, from the
	// key's plan (Free 1,000); 0 when not set, and the client learns it from
	// the API's headers where they say it. See Client.Budget.
	DailyQuota int
}

// String shows whether a key is set, never the key.
func (c Credentials) String() string {
	return fmt.Sprintf("{APIKey:%s OrganizationID:%s}", redacted(c.APIKey), c.OrganizationID)
}

// GoString is String for %#v.
func (c Credentials) GoString() string {
	return fmt.Sprintf("krosai.Credentials{APIKey:%q, OrganizationID:%q}", redacted(c.APIKey), c.OrganizationID)
}

// Format makes every verb print the redacted forms: fmt consults String only
// for %v, %s, %q and %x, and would print the fields of a %d by reflection.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, c.GoString())
		return
	}
	_, _ = io.WriteString(f, c.String())
}

func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[REDACTED]"
}
