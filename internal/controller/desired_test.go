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

func TestDesiredEndpoint(t *testing.T) {
	sip := &resolved{sipUsername: "u", sipPassword: "p"}
	tests := []struct {
		name string
		spec cockpitv1alpha1.KrosEndpointSpec
		want krosai.EndpointCreate
	}{
		{"webhook, name defaults to metadata.name",
			cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
				Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://x.example"}},
			krosai.EndpointCreate{Name: "res", Type: "webhook", URL: "https://x.example"}},
		{"vapi with displayName and phone number",
			cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVapi, DisplayName: "Sales",
				PhoneNumberID: "6f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
				Vapi:          &cockpitv1alpha1.VapiConfig{AssistantID: "a", CredentialID: "c", PhoneNumberID: "v"}},
			krosai.EndpointCreate{Name: "Sales", Type: "vapi", PhoneNumberID: "6f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
				ProviderConfig: &krosai.ProviderConfig{AssistantID: "a", CredentialID: "c", VapiPhoneNumberID: "v"}}},
		{"retell",
			cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeRetell,
				Retell: &cockpitv1alpha1.RetellConfig{AgentID: "a", PhoneNumber: "+1415"}},
			krosai.EndpointCreate{Name: "res", Type: "retell",
				ProviderConfig: &krosai.ProviderConfig{AgentID: "a", RetellPhoneNumber: "+1415"}}},
		{"elevenlabs", elevenLabsSpec("a"),
			krosai.EndpointCreate{Name: "res", Type: "elevenlabs", ProviderConfig: &krosai.ProviderConfig{ElevenLabsAgentID: "a"}}},
		{"livekit",
			cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeLiveKit,
				LiveKit: &cockpitv1alpha1.LiveKitConfig{AgentName: "n", SIPTrunkID: "t", SIPURI: "sip:x"}},
			krosai.EndpointCreate{Name: "res", Type: "livekit", ProviderConfig: &krosai.ProviderConfig{
				LiveKitAgentName: "n", LiveKitSIPTrunkID: "t", LiveKitSIPURI: "sip:x"}}},
		{"vogent with SIP credentials",
			cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVogent,
				Vogent: &cockpitv1alpha1.VogentConfig{AgentID: "a", SIPPrefix: "p"}},
			krosai.EndpointCreate{Name: "res", Type: "vogent", ProviderConfig: &krosai.ProviderConfig{
				VogentAgentID: "a", VogentSIPPrefix: "p", VogentSIPUsername: "u", VogentSIPPassword: "p"}}},
		{"custom SIP: the URI is also the url",
			cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
				CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:a@b"}},
			krosai.EndpointCreate{Name: "res", Type: "custom_sip", URL: "sip:a@b",
				ProviderConfig: &krosai.ProviderConfig{SIPURI: "sip:a@b", Username: "u", Password: "p"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newEndpoint("ns", "res", tt.spec)
			NewWithT(t).Expect(desiredEndpoint(ep, sip)).To(Equal(tt.want))
		})
	}
}

func TestDiff(t *testing.T) {
	desired := krosai.EndpointCreate{Name: "n", Type: "custom_sip", URL: "sip:a@b",
		ProviderConfig: &krosai.ProviderConfig{SIPURI: "sip:a@b", Username: "u", Password: "p"}}
	inSync := krosai.Endpoint{ID: "1", Name: "n", Type: "custom_sip", URL: "sip:a@b", Status: "active",
		ProviderConfig: krosai.ProviderConfig{SIPURI: "sip:a@b", Username: "u"}}
	with := func(change func(*krosai.Endpoint)) *krosai.Endpoint {
		e := inSync
		change(&e)
		return &e
	}
	tests := []struct {
		name               string
		observed           *krosai.Endpoint
		wantStatus         string
		credentialsChanged bool
		want               *krosai.EndpointUpdate
	}{
		{"in sync: nothing to send", &inSync, "active", false, nil},
		{"write-only fields absent from the response are not drift",
			with(func(e *krosai.Endpoint) { e.ProviderConfig.Username = "" }), "active", false, nil},
		{"name", with(func(e *krosai.Endpoint) { e.Name = "x" }), "active", false,
			&krosai.EndpointUpdate{Name: new("n")}},
		{"url", with(func(e *krosai.Endpoint) { e.URL = "sip:c@d" }), "active", false,
			&krosai.EndpointUpdate{URL: new("sip:a@b")}},
		{"disabled", &inSync, "inactive", false, &krosai.EndpointUpdate{Status: new("inactive")}},
		{"state error is left to the API", with(func(e *krosai.Endpoint) { e.Status = "error" }), "active", false, nil},
		{"provider config drift sends the whole config",
			with(func(e *krosai.Endpoint) { e.ProviderConfig.SIPURI = "sip:z" }), "active", false,
			&krosai.EndpointUpdate{ProviderConfig: desired.ProviderConfig}},
		{"rotated credentials send the whole config", &inSync, "active", true,
			&krosai.EndpointUpdate{ProviderConfig: desired.ProviderConfig}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(diff(desired, tt.wantStatus, tt.observed, tt.credentialsChanged)).To(Equal(tt.want))
		})
	}

	t.Run("AI providers: the generated url is not ours to set", func(t *testing.T) {
		ai := krosai.EndpointCreate{Name: "n", Type: "vapi", ProviderConfig: &krosai.ProviderConfig{AssistantID: "a"}}
		observed := &krosai.Endpoint{Name: "n", Type: "vapi", URL: "sip:gen@sip.krosai.com", Status: "active",
			ProviderConfig: krosai.ProviderConfig{AssistantID: "a"}}
		NewWithT(t).Expect(diff(ai, "active", observed, false)).To(BeNil())
	})
}

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
