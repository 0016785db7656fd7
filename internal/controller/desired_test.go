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
	"cmp"
	"encoding/json"
	"strings"
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

// TestDiffFields is the one comparison behind status.drift and the PATCH:
// every readable field of every type, the write-only ones, and the PATCH
// each difference makes.
func TestDiffFields(t *testing.T) {
	sip := &resolved{sipUsername: "u", sipPassword: "p"}
	credentials := &cockpitv1alpha1.LocalSecretReference{Name: "sip"}
	specs := map[cockpitv1alpha1.EndpointType]cockpitv1alpha1.KrosEndpointSpec{
		cockpitv1alpha1.EndpointTypeWebhook: {Type: cockpitv1alpha1.EndpointTypeWebhook,
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://x.example/hook"}},
		cockpitv1alpha1.EndpointTypeVapi: {Type: cockpitv1alpha1.EndpointTypeVapi,
			Vapi: &cockpitv1alpha1.VapiConfig{AssistantID: "a", CredentialID: "c", PhoneNumberID: "v"}},
		cockpitv1alpha1.EndpointTypeRetell: {Type: cockpitv1alpha1.EndpointTypeRetell,
			Retell: &cockpitv1alpha1.RetellConfig{AgentID: "a", PhoneNumber: "+14155550100"}},
		cockpitv1alpha1.EndpointTypeElevenLabs: elevenLabsSpec("a"),
		cockpitv1alpha1.EndpointTypeLiveKit: {Type: cockpitv1alpha1.EndpointTypeLiveKit,
			LiveKit: &cockpitv1alpha1.LiveKitConfig{AgentName: "n", SIPTrunkID: "t", SIPURI: "sip:x.sip.livekit.cloud"}},
		cockpitv1alpha1.EndpointTypeVogent: {Type: cockpitv1alpha1.EndpointTypeVogent,
			Vogent: &cockpitv1alpha1.VogentConfig{AgentID: "g", SIPPrefix: "p", CredentialsSecretRef: *credentials}},
		cockpitv1alpha1.EndpointTypeCustomSIP: {Type: cockpitv1alpha1.EndpointTypeCustomSIP,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:a@pbx.example.com", CredentialsSecretRef: credentials}},
	}
	// What each type's readable fields are, as the API names them and as the spec does.
	readable := map[cockpitv1alpha1.EndpointType][][2]string{
		cockpitv1alpha1.EndpointTypeWebhook: {{"url", "spec.webhook.url"}},
		cockpitv1alpha1.EndpointTypeVapi: {{"provider_config.assistant_id", "spec.vapi.assistantID"},
			{"provider_config.credential_id", "spec.vapi.credentialID"},
			{"provider_config.vapi_phone_number_id", "spec.vapi.phoneNumberID"}},
		cockpitv1alpha1.EndpointTypeRetell: {{"provider_config.agent_id", "spec.retell.agentID"},
			{"provider_config.retell_phone_number", "spec.retell.phoneNumber"}},
		cockpitv1alpha1.EndpointTypeElevenLabs: {{"provider_config.elevenlabs_agent_id", "spec.elevenLabs.agentID"}},
		cockpitv1alpha1.EndpointTypeLiveKit: {{"provider_config.livekit_agent_name", "spec.liveKit.agentName"},
			{"provider_config.livekit_sip_trunk_id", "spec.liveKit.sipTrunkID"},
			{"provider_config.livekit_sip_uri", "spec.liveKit.sipURI"}},
		cockpitv1alpha1.EndpointTypeVogent: {{"provider_config.vogent_agent_id", "spec.vogent.agentID"},
			{"provider_config.vogent_sip_prefix", "spec.vogent.sipPrefix"}},
		cockpitv1alpha1.EndpointTypeCustomSIP: {{"url", "spec.customSIP.sipURI"}, {"provider_config.sip_uri", "spec.customSIP.sipURI"}},
	}
	// observedAs is what the API returns for the desired endpoint: the same
	// readable fields, a generated URL for AI providers, a masked password.
	observedAs := func(d krosai.EndpointCreate) krosai.Endpoint {
		e := krosai.Endpoint{ID: "1", Name: d.Name, Type: d.Type, URL: cmp.Or(d.URL, "sip:1@sip.krosai.com"), Status: "active"}
		if d.ProviderConfig != nil {
			e.ProviderConfig = *d.ProviderConfig
			e.ProviderConfig.VogentSIPPassword, e.ProviderConfig.Password = "********", ""
		}
		return e
	}
	for typ, spec := range specs {
		t.Run(string(typ), func(t *testing.T) {
			g := NewWithT(t)
			ep := newEndpoint("ns", "res", spec)
			desired := desiredEndpoint(ep, sip)
			inSync := observedAs(desired)
			g.Expect(diffFields(ep, desired, "active", &inSync, true)).To(BeEmpty(), "in sync")
			g.Expect(patchFor(desired, "active", nil)).To(BeNil(), "nothing to send at rest")

			fields := append([][2]string{{"name", "spec.displayName"}, {"status", "spec.enabled"}}, readable[typ]...)
			for _, f := range fields {
				// Change the one field in what KrosAI holds, through its JSON name.
				observed := changed(t, inSync, f[0])
				diffs := diffFields(ep, desired, "active", &observed, true)
				if typ == cockpitv1alpha1.EndpointTypeCustomSIP && (f[0] == "url" || f[0] == "provider_config.sip_uri") {
					g.Expect(diffs).NotTo(BeEmpty(), f[0])
				} else {
					g.Expect(diffs).To(HaveLen(1), f[0])
				}
				d := diffs[0]
				g.Expect([]string{d.apiField, d.specField, d.observed}).To(Equal([]string{f[0], f[1], "changed"}), f[0])
				g.Expect(d.desired).NotTo(BeEmpty())
				g.Expect(d.writeOnly).To(BeFalse())

				patch := patchFor(desired, "active", diffs)
				switch f[0] {
				case "name":
					g.Expect(*patch).To(Equal(krosai.EndpointUpdate{Name: &desired.Name}))
				case "status":
					g.Expect(*patch).To(Equal(krosai.EndpointUpdate{Status: new("active")}))
				case "url":
					g.Expect(patch.URL).To(Equal(&desired.URL))
				default:
					g.Expect(patch.ProviderConfig).To(Equal(desired.ProviderConfig), "the whole config, SIP credentials included")
				}
			}

			unknown := diffFields(ep, desired, "active", &inSync, false)
			if !hasSIPCredentials(ep) {
				g.Expect(unknown).To(BeEmpty(), "no credentials, nothing unknown")
				return
			}
			g.Expect(unknown).To(HaveLen(2), "username and password, as write-only")
			for _, d := range unknown {
				g.Expect(d.writeOnly).To(BeTrue())
				g.Expect(d.observed+d.desired).To(BeEmpty(), "never a value of a credential")
				g.Expect(d.specField).To(ContainSubstring("credentialsSecretRef"))
			}
			g.Expect(patchFor(desired, "active", unknown).ProviderConfig).To(Equal(desired.ProviderConfig))
		})
	}

	t.Run("an endpoint in state error keeps its state", func(t *testing.T) {
		ep := newEndpoint("ns", "res", elevenLabsSpec("a"))
		desired := desiredEndpoint(ep, &resolved{})
		observed := observedAs(desired)
		observed.Status = krosai.StatusError
		NewWithT(t).Expect(diffFields(ep, desired, "active", &observed, true)).To(BeEmpty())
	})
	t.Run("a disabled spec asks for inactive", func(t *testing.T) {
		spec := elevenLabsSpec("a")
		spec.Enabled = new(false)
		ep := newEndpoint("ns", "res", spec)
		desired := desiredEndpoint(ep, &resolved{})
		observed := observedAs(desired)
		diffs := diffFields(ep, desired, desiredStatus(ep), &observed, true)
		NewWithT(t).Expect(driftOf(diffs)).To(Equal([]cockpitv1alpha1.FieldDrift{
			{Field: "status", SpecField: "spec.enabled", Observed: "active", Desired: "inactive"}}))
	})
}

// changed returns e with the field of JSON path field set to "changed".
func changed(t *testing.T, e krosai.Endpoint, field string) krosai.Endpoint {
	t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if pc, ok := strings.CutPrefix(field, "provider_config."); ok {
		m["provider_config"].(map[string]any)[pc] = "changed"
	} else {
		m[field] = "changed"
	}
	raw, _ = json.Marshal(m)
	var out krosai.Endpoint
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
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
