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

package mapping

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

func TestParsePendingCreate(t *testing.T) {
	desired := krosai.EndpointCreate{Name: "now", Type: "vapi", ProviderConfig: &krosai.ProviderConfig{AssistantID: "a"}}
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	fromSpec := func(at time.Time) PendingCreate { return NewPendingCreate(at, desired) }
	tests := []struct {
		name, value string
		want        PendingCreate
	}{
		{"the operator's record", PendingCreate{At: at, Name: "then", Type: "retell", Readable: "r", Unreadable: "u"}.String(),
			PendingCreate{At: at, Name: "then", Type: "retell", Readable: "r", Unreadable: "u"}},
		{"an earlier version's record, without fingerprints", `{"at":"2026-11-29T10:00:00Z","name":"then","type":"retell"}`,
			PendingCreate{At: at, Name: "then", Type: "retell"}},
		{"a bare timestamp takes the rest from the spec", at.Format(time.RFC3339Nano), fromSpec(at)},
		{"unreadable: any time, the rest from the spec", "yesterday", fromSpec(time.Time{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(ParsePendingCreate(tt.value, desired)).To(Equal(tt.want))
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
	sent := NewPendingCreate(at, krosai.EndpointCreate{Name: "Sales", Type: "vogent", ProviderConfig: &sentConfig})
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
			NewWithT(t).Expect(sent.CouldHaveMade(e)).To(Equal(tt.want))
		})
	}
	NewWithT(t).Expect(sent.String()).NotTo(ContainSubstring("s3cret"), "the record holds no secret")
}

func TestClaims(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	made := krosai.Endpoint{ID: "e-made", Name: "Sales", Type: "elevenlabs", CreatedAt: at.Add(time.Second),
		ProviderConfig: krosai.ProviderConfig{ElevenLabsAgentID: "a"}}
	resource := func(name string, annotations map[string]string, statusID string) cockpitv1alpha1.KrosEndpoint {
		return cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: annotations},
			Status: cockpitv1alpha1.KrosEndpointStatus{ID: statusID}}
	}
	record := NewPendingCreate(at, krosai.EndpointCreate{Name: "Sales", Type: "elevenlabs",
		ProviderConfig: &krosai.ProviderConfig{ElevenLabsAgentID: "a"}}).String()
	tests := []struct {
		name     string
		all      []cockpitv1alpha1.KrosEndpoint
		claimant string
		twin     string
	}{
		{"nobody", []cockpitv1alpha1.KrosEndpoint{resource("other", map[string]string{
			cockpitv1alpha1.AnnotationEndpointID: "e-other"}, "e-other")}, "", ""},
		{"by annotation", []cockpitv1alpha1.KrosEndpoint{resource("a", map[string]string{
			cockpitv1alpha1.AnnotationEndpointID: "e-made"}, "")}, "a", ""},
		{"by status, the annotation lost", []cockpitv1alpha1.KrosEndpoint{resource("s", nil, "e-made")}, "s", ""},
		{"by an interrupted create's record", []cockpitv1alpha1.KrosEndpoint{resource("p", map[string]string{
			cockpitv1alpha1.AnnotationCreatePending: record}, "")}, "", "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			name := func(o *cockpitv1alpha1.KrosEndpoint) string {
				if o == nil {
					return ""
				}
				return o.Name
			}
			g.Expect(name(ClaimantIn(tt.all, made.ID))).To(Equal(tt.claimant))
			g.Expect(name(PendingTwin(tt.all, made))).To(Equal(tt.twin))
			g.Expect(Claimed(tt.all, made)).To(Equal(tt.claimant != "" || tt.twin != ""))
		})
	}
}

func TestRecoverCreate(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	desired := krosai.EndpointCreate{Name: "Sales", Type: "elevenlabs", ProviderConfig: &krosai.ProviderConfig{ElevenLabsAgentID: "a"}}
	sent := NewPendingCreate(at, desired)
	made := func(id string) krosai.Endpoint {
		return krosai.Endpoint{ID: id, Name: "Sales", Type: "elevenlabs", CreatedAt: at.Add(time.Second),
			ProviderConfig: krosai.ProviderConfig{ElevenLabsAgentID: "a"}}
	}
	other := func(annotation, value string) cockpitv1alpha1.KrosEndpoint {
		return cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other",
			Annotations: map[string]string{annotation: value}}}
	}
	tests := []struct {
		name   string
		all    []krosai.Endpoint
		others []cockpitv1alpha1.KrosEndpoint
		want   string
		reason string
	}{
		{name: "the POST never landed"},
		{name: "the one it made", all: []krosai.Endpoint{made("e-1")}, want: "e-1"},
		{name: "another resource's is not a candidate", all: []krosai.Endpoint{made("e-1"), made("e-2")},
			others: []cockpitv1alpha1.KrosEndpoint{other(cockpitv1alpha1.AnnotationEndpointID, "e-2")}, want: "e-1"},
		{name: "two candidates", all: []krosai.Endpoint{made("e-1"), made("e-2")}, reason: cockpitv1alpha1.ReasonAmbiguousCreate},
		{name: "a twin's interrupted create could have made it", all: []krosai.Endpoint{made("e-1")},
			others: []cockpitv1alpha1.KrosEndpoint{other(cockpitv1alpha1.AnnotationCreatePending, sent.String())},
			reason: cockpitv1alpha1.ReasonAmbiguousCreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			found, err := RecoverCreate(&cockpitv1alpha1.KrosEndpoint{}, sent, tt.all, tt.others)
			if tt.reason != "" {
				stalled, ok := errors.AsType[*Stalled](err)
				g.Expect(ok).To(BeTrue(), "%v", err)
				g.Expect(stalled.Reason).To(Equal(tt.reason))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if tt.want == "" {
				g.Expect(found).To(BeNil())
				return
			}
			g.Expect(found.ID).To(Equal(tt.want))
		})
	}
}

func TestEndpointID(t *testing.T) {
	tests := []struct {
		name         string
		annotations  map[string]string
		statusID     string
		want         string
		wantRestored bool
	}{
		{"none yet", nil, "", "", false},
		{"by annotation", map[string]string{cockpitv1alpha1.AnnotationEndpointID: "e-1"}, "e-1", "e-1", false},
		{"an adoption: the annotation over status", map[string]string{cockpitv1alpha1.AnnotationEndpointID: "e-2"}, "e-1", "e-2", false},
		{"the annotation lost: restored from status", nil, "e-1", "e-1", true},
		{"a create pending: not restored, recovered", map[string]string{cockpitv1alpha1.AnnotationCreatePending: "{}"}, "e-1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			ep := endpointWith(elevenLabs())
			ep.Annotations, ep.Status.ID = tt.annotations, tt.statusID
			id, restored := EndpointID(ep)
			g.Expect(id).To(Equal(tt.want))
			g.Expect(restored).To(Equal(tt.wantRestored))
		})
	}
}

func TestObservedID(t *testing.T) {
	g := NewWithT(t)
	ep := endpointWith(elevenLabs())
	g.Expect(ObservedID(ep)).To(BeEmpty())
	ep.Status.ID = "e-1"
	ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationCreatePending: "{}"}
	g.Expect(ObservedID(ep)).To(Equal("e-1"), "status, whatever a create record says: ObserveOnly never creates")
	ep.Annotations[cockpitv1alpha1.AnnotationEndpointID] = "e-2"
	g.Expect(ObservedID(ep)).To(Equal("e-2"), "the annotation over status")
}
