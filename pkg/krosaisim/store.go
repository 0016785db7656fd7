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
	"container/list"
	"slices"
	"sync"
	"time"
)

// Endpoint is an endpoint as the simulator stores it, write-only fields
// (SIP passwords) included: the Go API, the admin dump and the state file
// show it whole, the API never does.
type Endpoint struct {
	ID             string         `json:"id"`
	OrganizationID string         `json:"organization_id"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	URL            string         `json:"url"`
	Status         string         `json:"status"`
	ProviderConfig map[string]any `json:"provider_config,omitempty"`
	PhoneNumberID  string         `json:"phone_number_id,omitempty"`
	Secret         string         `json:"secret,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// EndpointPatch is a partial update: nil fields are left alone. A non-nil
// ProviderConfig replaces the stored config whole, because a merge could not
// express removing an optional field; clients send the complete config,
// passwords included.
type EndpointPatch struct {
	Name           *string        `json:"name,omitempty"`
	URL            *string        `json:"url,omitempty"`
	Status         *string        `json:"status,omitempty"`
	ProviderConfig map[string]any `json:"provider_config,omitempty"`
}

// apply merges p into e. The URL of an AI-provider endpoint is the SIP URI
// the API generated, so a URL given for one is ignored, as on create.
func (e *Endpoint) apply(p EndpointPatch, at time.Time) {
	if p.Name != nil {
		e.Name = *p.Name
	}
	if p.URL != nil && !generatesSIPURI(e.Type) {
		e.URL = *p.URL
	}
	if p.Status != nil {
		e.Status = *p.Status
	}
	if p.ProviderConfig != nil {
		e.ProviderConfig = p.ProviderConfig
	}
	e.UpdatedAt = at
}

// store holds endpoints by id, with a list per organization in creation
// order so that listing is stable and every other operation is O(1).
//
// Endpoints are values handed out by copy. Their ProviderConfig maps are
// shared with the copies but never modified in place (a patch swaps in a new
// map), so sharing them is safe.
type store struct {
	mu    sync.RWMutex
	byID  map[string]*list.Element // element values are *Endpoint
	byOrg map[string]*list.List
	// webhooks are the ids of each organization's webhook endpoints, in
	// creation order: every change is delivered to them, and scanning the
	// organization for them would make every change cost its size.
	webhooks map[string][]string
}

func newStore() *store {
	st := &store{}
	st.replace(nil)
	return st
}

// add stores e unless its id is taken. Ids come from a seeded source, so a
// restart with the same seed and a state file repeats them: the caller
// draws another.
func (st *store) add(e Endpoint) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byID[e.ID] != nil {
		return false
	}
	st.insert(e)
	return true
}

// insert appends e to its organization; the caller holds the write lock.
func (st *store) insert(e Endpoint) {
	l := st.byOrg[e.OrganizationID]
	if l == nil {
		l = list.New()
		st.byOrg[e.OrganizationID] = l
	}
	st.byID[e.ID] = l.PushBack(&e)
	if e.Type == typeWebhook { // a type never changes
		st.webhooks[e.OrganizationID] = append(st.webhooks[e.OrganizationID], e.ID)
	}
}

// find returns the element of id if it belongs to org; org "" matches any
// organization (out-of-band access). The caller holds a lock.
func (st *store) find(org, id string) *list.Element {
	el := st.byID[id]
	if el == nil || (org != "" && el.Value.(*Endpoint).OrganizationID != org) {
		return nil
	}
	return el
}

func (st *store) get(org, id string) (Endpoint, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	el := st.find(org, id)
	if el == nil {
		return Endpoint{}, false
	}
	return *el.Value.(*Endpoint), true
}

func (st *store) update(org, id string, p EndpointPatch, at time.Time) (Endpoint, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	el := st.find(org, id)
	if el == nil {
		return Endpoint{}, false
	}
	e := el.Value.(*Endpoint)
	e.apply(p, at)
	return *e, true
}

// remove deletes the endpoint and returns it as it was.
func (st *store) remove(org, id string) (Endpoint, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	el := st.find(org, id)
	if el == nil {
		return Endpoint{}, false
	}
	e := el.Value.(*Endpoint)
	l := st.byOrg[e.OrganizationID]
	l.Remove(el)
	if l.Len() == 0 {
		delete(st.byOrg, e.OrganizationID)
	}
	delete(st.byID, id)
	if e.Type == typeWebhook {
		hooks := slices.DeleteFunc(st.webhooks[e.OrganizationID], func(h string) bool { return h == id })
		if len(hooks) == 0 {
			delete(st.webhooks, e.OrganizationID)
		} else {
			st.webhooks[e.OrganizationID] = hooks
		}
	}
	return *e, true
}

// webhooksOf returns the webhook endpoints of org, in creation order.
func (st *store) webhooksOf(org string) []Endpoint {
	st.mu.RLock()
	defer st.mu.RUnlock()
	hooks := make([]Endpoint, len(st.webhooks[org]))
	for i, id := range st.webhooks[org] {
		hooks[i] = *st.byID[id].Value.(*Endpoint)
	}
	return hooks
}

// page returns the endpoints of org that keep accepts, skipping offset and
// returning at most limit (all if limit < 0), and how many were accepted.
func (st *store) page(org string, keep func(*Endpoint) bool, offset, limit int) ([]Endpoint, int) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	l := st.byOrg[org]
	if l == nil {
		return []Endpoint{}, 0
	}
	n := l.Len()
	if limit >= 0 {
		n = min(n, limit)
	}
	out := make([]Endpoint, 0, n)
	total := 0
	for el := l.Front(); el != nil; el = el.Next() {
		e := el.Value.(*Endpoint)
		if !keep(e) {
			continue
		}
		if total >= offset && (limit < 0 || len(out) < limit) {
			out = append(out, *e)
		}
		total++
	}
	return out, total
}

// snapshot returns every endpoint grouped by organization, in creation order.
func (st *store) snapshot() map[string][]Endpoint {
	st.mu.RLock()
	defer st.mu.RUnlock()
	groups := make(map[string][]Endpoint, len(st.byOrg))
	for org, l := range st.byOrg {
		group := make([]Endpoint, 0, l.Len())
		for el := l.Front(); el != nil; el = el.Next() {
			group = append(group, *el.Value.(*Endpoint))
		}
		groups[org] = group
	}
	return groups
}

// replace drops every endpoint and stores groups instead (a snapshot).
func (st *store) replace(groups map[string][]Endpoint) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.byID = map[string]*list.Element{}
	st.byOrg = map[string]*list.List{}
	st.webhooks = map[string][]string{}
	for org, group := range groups {
		for _, e := range group {
			e.OrganizationID = org
			st.insert(e)
		}
	}
}

func (st *store) len() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.byID)
}
