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

package operatortest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// Secrets are the values that must never appear where the operator writes:
// logs, Events, status, metrics. Add each API key, SIP password and signing
// secret a test uses; Find and Scan then look for them, and for their
// base64 (the form Secret data takes in JSON). Safe for concurrent use.
type Secrets struct {
	mu sync.Mutex
	// byPrefix holds each value under its first minLen bytes, so that a
	// search is one pass over the text however many values there are.
	byPrefix map[string][]secret
}

type secret struct{ value, what string }

// minLen is the shortest value looked for: a shorter one would be found by
// chance in ordinary text, so Add ignores it.
const minLen = 8

// Leak is a secret value found where it must not be.
type Leak struct {
	// What is the description the value was added with.
	What string
	// Where names the place: "logs", an Event, a KrosEndpoint, a metric.
	Where string
	// Context is the line the value was found in, the value replaced by
	// <What>: safe to print.
	Context string
}

func (l Leak) String() string { return fmt.Sprintf("%s in %s: %s", l.What, l.Where, l.Context) }

// Add remembers value, described by what ("API key of team-a"), which is
// what a Leak reports instead of the value. Values shorter than 8 bytes are
// ignored.
func (s *Secrets) Add(value, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byPrefix == nil {
		s.byPrefix = map[string][]secret{}
	}
	for _, sv := range []secret{{value, what}, {base64.StdEncoding.EncodeToString([]byte(value)), what + " (base64)"}} {
		if len(sv.value) < minLen || slices.Contains(s.byPrefix[sv.value[:minLen]], sv) {
			continue
		}
		s.byPrefix[sv.value[:minLen]] = append(s.byPrefix[sv.value[:minLen]], sv)
	}
}

// Len is how many values (base64 forms included) are looked for.
func (s *Secrets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, group := range s.byPrefix {
		n += len(group)
	}
	return n
}

// Find returns the first occurrence of each value in text, where names the
// text in the Leaks.
func (s *Secrets) Find(where string, text []byte) []Leak {
	s.mu.Lock()
	byPrefix := maps.Clone(s.byPrefix)
	s.mu.Unlock()
	var out []Leak
	found := map[string]bool{}
	for i := 0; i+minLen <= len(text); i++ {
		for _, sv := range byPrefix[string(text[i:i+minLen])] {
			if found[sv.value] || !strings.HasPrefix(string(text[i:min(len(text), i+len(sv.value))]), sv.value) {
				continue
			}
			found[sv.value] = true
			out = append(out, Leak{What: sv.what, Where: where, Context: lineAround(text, i, sv)})
		}
	}
	return out
}

// lineAround is the line of text at i, with the value masked.
func lineAround(text []byte, i int, sv secret) string {
	start := strings.LastIndexByte(string(text[:i]), '\n') + 1
	end := len(text)
	if j := strings.IndexByte(string(text[i:]), '\n'); j >= 0 {
		end = i + j
	}
	line := strings.ReplaceAll(string(text[start:end]), sv.value, "<"+sv.what+">")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// Sources are what Scan reads besides the cluster.
type Sources struct {
	// Logs is what the operator logged (a zap logger writing to a buffer,
	// say); empty skips them.
	Logs []byte
	// Metrics is the registry the operator's metrics are in, such as
	// controller-runtime's metrics.Registry; nil skips them. Names, help
	// texts and label values are read.
	Metrics prometheus.Gatherer
	// Namespace limits the cluster reads to one namespace; empty reads all.
	Namespace string
}

// Report is what Scan found, and how much it read: a scan that read
// nothing finds nothing, so a test should check the counts too.
type Report struct {
	Leaks []Leak
	// LogBytes, CoreEvents (core/v1), Events (events.k8s.io/v1) and
	// KrosEndpoints count what was read.
	LogBytes, CoreEvents, Events, KrosEndpoints int
	// Metrics are the names of the metric families read.
	Metrics []string
}

// Scan looks for the values in everything the operator writes that a
// test can reach: the logs and metrics in src, and through c every Event of
// both Event APIs and every KrosEndpoint, whole, as JSON.
func (s *Secrets) Scan(ctx context.Context, c client.Reader, src Sources) (Report, error) {
	r := Report{LogBytes: len(src.Logs)}
	r.Leaks = append(r.Leaks, s.Find("logs", src.Logs)...)

	var opts []client.ListOption
	if src.Namespace != "" {
		opts = append(opts, client.InNamespace(src.Namespace))
	}
	var events eventsv1.EventList
	if err := c.List(ctx, &events, opts...); err != nil {
		return r, fmt.Errorf("list events.k8s.io/v1 Events: %w", err)
	}
	r.Events = len(events.Items)
	for i := range events.Items {
		e := &events.Items[i]
		r.Leaks = append(r.Leaks, s.findJSON("events.k8s.io/v1 Event "+e.Namespace+"/"+e.Name, e)...)
	}
	var coreEvents corev1.EventList
	if err := c.List(ctx, &coreEvents, opts...); err != nil {
		return r, fmt.Errorf("list core/v1 Events: %w", err)
	}
	r.CoreEvents = len(coreEvents.Items)
	for i := range coreEvents.Items {
		e := &coreEvents.Items[i]
		r.Leaks = append(r.Leaks, s.findJSON("core/v1 Event "+e.Namespace+"/"+e.Name, e)...)
	}
	var endpoints cockpitv1alpha1.KrosEndpointList
	if err := c.List(ctx, &endpoints, opts...); err != nil {
		return r, fmt.Errorf("list KrosEndpoints: %w", err)
	}
	r.KrosEndpoints = len(endpoints.Items)
	for i := range endpoints.Items {
		ep := &endpoints.Items[i]
		r.Leaks = append(r.Leaks, s.findJSON("KrosEndpoint "+ep.Namespace+"/"+ep.Name, ep)...)
	}

	if src.Metrics == nil {
		return r, nil
	}
	families, err := src.Metrics.Gather()
	if err != nil {
		return r, fmt.Errorf("gather metrics: %w", err)
	}
	for _, mf := range families {
		r.Metrics = append(r.Metrics, mf.GetName())
		var text strings.Builder
		text.WriteString(mf.GetName() + " " + mf.GetHelp() + "\n")
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				text.WriteString(l.GetName() + "=" + l.GetValue() + "\n")
			}
		}
		r.Leaks = append(r.Leaks, s.Find("metric "+mf.GetName(), []byte(text.String()))...)
	}
	return r, nil
}

func (s *Secrets) findJSON(where string, v any) []Leak {
	data, err := json.Marshal(v)
	if err != nil { // API types always marshal; say so rather than skip
		return []Leak{{What: "unreadable object", Where: where, Context: err.Error()}}
	}
	return s.Find(where, data)
}
