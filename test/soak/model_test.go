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
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// event is one entry of the event log: an operation of the driver.
type event struct {
	at     time.Duration // since the driver started
	op     string
	target string // "ns/name", "ns", "remote:<id>", or "" for the whole system
	detail string
}

func (e event) String() string {
	target := e.target
	if target == "" {
		target = "-"
	}
	return fmt.Sprintf("%8.3fs  %-18s %-22s %s", e.at.Seconds(), e.op, target, e.detail)
}

// eventLog is the driver's record of everything it did, in memory.
type eventLog struct {
	start time.Time
	mu    sync.Mutex
	list  []event
}

func (l *eventLog) add(op, target, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, event{at: time.Since(l.start), op: op, target: target, detail: fmt.Sprintf(format, args...)})
}

// touching returns the entries about a resource (its key, its namespace's
// namespace-wide operations, any of its remote ids), and the system-wide
// faults between the first and the last of those: the shortest log that
// shows what happened to it.
func (l *eventLog) touching(key string, ids []string) []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	ns, _, _ := strings.Cut(key, "/")
	about := func(e event) bool {
		if e.target == key || (key != "" && e.target == ns) || strings.Contains(e.detail, key+" ") ||
			strings.HasSuffix(e.detail, key) {
			return true
		}
		for _, id := range ids {
			if id != "" && (e.target == "remote:"+id || strings.Contains(e.detail, id)) {
				return true
			}
		}
		return false
	}
	first, last := -1, -1
	for i, e := range l.list {
		if about(e) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	var out []event
	for i := first; i <= last; i++ {
		if e := l.list[i]; about(e) || e.target == "" {
			out = append(out, e)
		}
	}
	return out
}

// all returns a copy of the entries.
func (l *eventLog) all() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

// counter counts operations or faults by kind, as done or failed.
type counter struct {
	ok, failed map[string]int
}

func newCounter() *counter { return &counter{ok: map[string]int{}, failed: map[string]int{}} }

func (c *counter) add(kind string, err error) {
	if err != nil {
		c.failed[kind]++
	} else {
		c.ok[kind]++
	}
}

func (c *counter) kinds() []string {
	return slices.Sorted(maps.Keys(merge(c.ok, c.failed)))
}

func merge(a, b map[string]int) map[string]int {
	out := maps.Clone(a)
	for k, v := range b {
		out[k] += v
	}
	return out
}

// resModel is what the driver knows of a KrosEndpoint it made.
type resModel struct {
	key, ns, name string
	typ           string
	// names are every display name the resource has had: a remote endpoint
	// left behind carries one of them.
	names []string
	// adoptedFrom is the remote id the resource was created to adopt.
	adoptedFrom string
	paused      bool
	// tokens are every identifying value its specs have carried (agent ids,
	// URLs, trunks...): a request that carries none of them was not sent for
	// it.
	tokens map[string]bool
	// moving is set while it is moved to another organization: Orphan, then
	// deleted.
	moving bool
	// observeOnly is set for a resource created with managementPolicy
	// ObserveOnly to observe adoptedFrom; the driver never switches it.
	observeOnly bool
	// deleting is when the driver first asked for its deletion with its
	// deletionPolicy Delete: no DELETE of its endpoint is for it before.
	deleting time.Time
	// orphaned is set when it was deleted with deletionPolicy Orphan.
	orphaned bool
}

// remember records the identifying values of a spec the resource is given.
func (r *resModel) remember(spec *cockpitv1alpha1.KrosEndpointSpec) {
	if r.tokens == nil {
		r.tokens = map[string]bool{}
	}
	for _, t := range specTokens(spec) {
		if t != "" {
			r.tokens[t] = true
		}
	}
}

// specTokens are the values of a spec that the driver draws at random, one
// at least per type: no two resources share one.
func specTokens(spec *cockpitv1alpha1.KrosEndpointSpec) []string {
	switch {
	case spec.Webhook != nil:
		return []string{spec.Webhook.URL}
	case spec.Vapi != nil:
		return []string{spec.Vapi.AssistantID, spec.Vapi.CredentialID, spec.Vapi.PhoneNumberID}
	case spec.Retell != nil:
		return []string{spec.Retell.AgentID}
	case spec.ElevenLabs != nil:
		return []string{spec.ElevenLabs.AgentID}
	case spec.LiveKit != nil:
		return []string{spec.LiveKit.SIPTrunkID, spec.LiveKit.SIPURI, spec.LiveKit.AgentName}
	case spec.Vogent != nil:
		return []string{spec.Vogent.SIPPrefix, spec.Vogent.AgentID}
	case spec.CustomSIP != nil:
		return []string{spec.CustomSIP.SIPURI}
	}
	return nil
}

// requestTokens are the values of a create or update body that specTokens
// draws from: the url and the provider config, SIP credentials aside.
func requestTokens(body []byte) []string {
	var b struct {
		URL            string         `json:"url"`
		ProviderConfig map[string]any `json:"provider_config"`
	}
	if json.Unmarshal(body, &b) != nil {
		return nil
	}
	var out []string
	if b.URL != "" {
		out = append(out, b.URL)
	}
	for k, v := range b.ProviderConfig {
		if str, ok := v.(string); ok && str != "" && !sipCredentialKeys[k] {
			out = append(out, str)
		}
	}
	return out
}

// leftover is a remote endpoint that may legitimately outlive its resource:
// orphaned on purpose (deletionPolicy: Orphan), or an adoption source whose
// adopter was deleted before the operator claimed it.
type leftover struct {
	key   string
	ids   []string
	names []string
	why   string
}

func (l *leftover) matches(id, name string) bool {
	return slices.Contains(l.ids, id) || (id != "" && slices.Contains(l.names, name))
}
