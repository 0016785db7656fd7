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

package controller

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

func TestUserAnnotationsChanged(t *testing.T) {
	withAnnotations := func(a map[string]string) *cockpitv1alpha1.KrosEndpoint {
		return &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Annotations: a}}
	}
	const (
		id      = cockpitv1alpha1.AnnotationEndpointID
		pending = cockpitv1alpha1.AnnotationCreatePending
	)
	tests := []struct {
		name     string
		old, new map[string]string
		want     bool
	}{
		{"paused set", nil, map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}, true},
		{"reconcile requested", nil, map[string]string{cockpitv1alpha1.AnnotationReconcileRequestedAt: "now"}, true},
		{"an unrelated annotation", nil, map[string]string{"team": "a"}, false},
		{"the operator records pending before a create", nil, map[string]string{pending: "t"}, false},
		{"the operator records the id after a create", map[string]string{pending: "t"}, map[string]string{id: "1"}, false},
		{"a person names the endpoint after an ambiguous create",
			map[string]string{pending: "t"}, map[string]string{pending: "t", id: "1"}, true},
		{"a person changes the id", map[string]string{id: "1"}, map[string]string{id: "2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := userAnnotationsChanged().Update(event.UpdateEvent{ObjectOld: withAnnotations(tt.old), ObjectNew: withAnnotations(tt.new)})
			NewWithT(t).Expect(got).To(Equal(tt.want))
		})
	}
}

func TestParsePendingCreate(t *testing.T) {
	desired := krosai.EndpointCreate{Name: "now", Type: "vapi", ProviderConfig: &krosai.ProviderConfig{AssistantID: "a"}}
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	fromSpec := func(at time.Time) pendingCreate { return newPendingCreate(at, desired) }
	tests := []struct {
		name, value string
		want        pendingCreate
	}{
		{"the operator's record", pendingCreate{At: at, Name: "then", Type: "retell", Readable: "r", Unreadable: "u"}.String(),
			pendingCreate{At: at, Name: "then", Type: "retell", Readable: "r", Unreadable: "u"}},
		{"an earlier version's record, without fingerprints", `{"at":"2026-11-29T10:00:00Z","name":"then","type":"retell"}`,
			pendingCreate{At: at, Name: "then", Type: "retell"}},
		{"a bare timestamp takes the rest from the spec", at.Format(time.RFC3339Nano), fromSpec(at)},
		{"unreadable: any time, the rest from the spec", "yesterday", fromSpec(time.Time{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(parsePendingCreate(tt.value, desired)).To(Equal(tt.want))
		})
	}
}

// TestPendingCreateFingerprint checks that recovery tells apart what the
// API returns differently, and only that: a twin with the same name and type
// but another agent is not ours; the SIP credentials and the URL the API
// generates for AI providers are not compared.
func TestPendingCreateFingerprint(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	vogent := func(agent, user, password string) krosai.ProviderConfig {
		return krosai.ProviderConfig{VogentAgentID: agent, VogentSIPPrefix: "p", VogentSIPUsername: user, VogentSIPPassword: password}
	}
	sentConfig := vogent("agent-a", "alice", "s3cret")
	sent := newPendingCreate(at, krosai.EndpointCreate{Name: "Sales", Type: "vogent", ProviderConfig: &sentConfig})
	created := krosai.Endpoint{ID: "1", Name: "Sales", Type: "vogent", URL: "sip:1@sip.krosai.com",
		ProviderConfig: vogent("agent-a", "alice", "********"), CreatedAt: at.Add(time.Second)}
	tests := []struct {
		name   string
		mutate func(*krosai.Endpoint)
		want   bool
	}{
		{"what the create made", func(*krosai.Endpoint) {}, true},
		{"the password masked, omitted or echoed", func(e *krosai.Endpoint) { e.ProviderConfig.VogentSIPPassword = "" }, true},
		{"another generated URL", func(e *krosai.Endpoint) { e.URL = "sip:2@sip.krosai.com" }, true},
		{"created within the clock skew before the record", func(e *krosai.Endpoint) { e.CreatedAt = at.Add(-time.Minute) }, true},
		{"a twin's agent", func(e *krosai.Endpoint) { e.ProviderConfig.VogentAgentID = "agent-b" }, false},
		{"another name", func(e *krosai.Endpoint) { e.Name = "Support" }, false},
		{"created before the record", func(e *krosai.Endpoint) { e.CreatedAt = at.Add(-time.Hour) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := created
			tt.mutate(&e)
			NewWithT(t).Expect(sent.couldHaveMade(e)).To(Equal(tt.want))
		})
	}
	NewWithT(t).Expect(sent.String()).NotTo(ContainSubstring("s3cret"), "the record holds no secret")
}
