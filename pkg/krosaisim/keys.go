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

package krosaisim

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// uuidPattern is what the contract's `format: uuid` accepts: the canonical
// 8-4-4-4-12 hex form, any version.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// orgNamespace namespaces the organizations derived from keys.
var orgNamespace = uuid.MustParse("5c1e0d2a-7b8f-4c3e-9a41-6f2d8e0b7a15")

// keyring maps each API key to its organizations, the first being the
// default one used when a request names none.
type keyring struct {
	mu   sync.RWMutex
	orgs map[string][]string
}

func newKeyring() *keyring { return &keyring{orgs: map[string][]string{}} }

func (k *keyring) add(key, org string) error {
	if key == "" {
		return errors.New("API key must not be empty")
	}
	if org == "" {
		// Derived from the key rather than drawn at random, so that a restart
		// keeps the organization and with it the state file's endpoints.
		org = uuid.NewSHA1(orgNamespace, []byte(key)).String()
	}
	if !uuidPattern.MatchString(org) {
		return fmt.Errorf("organization %q is not a UUID", org)
	}
	org = strings.ToLower(org) // UUIDs compare case-insensitively
	k.mu.Lock()
	defer k.mu.Unlock()
	if !slices.Contains(k.orgs[key], org) {
		k.orgs[key] = append(k.orgs[key], org)
	}
	return nil
}

// authenticate returns the configured key the request presents, as a bearer
// token or, failing that, in x-api-key.
func (k *keyring) authenticate(r *http.Request) (string, bool) {
	key := r.Header.Get("x-api-key")
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		key = strings.TrimSpace(token)
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	_, ok := k.orgs[key]
	return key, ok && key != ""
}

// org returns the organization a request with key acts in: requested if the
// key belongs to it, the key's first organization if requested is empty.
func (k *keyring) org(key, requested string) (string, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	orgs := k.orgs[key]
	if requested == "" {
		return orgs[0], true
	}
	requested = strings.ToLower(requested)
	return requested, slices.Contains(orgs, requested)
}
