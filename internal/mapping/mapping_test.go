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
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

func endpointWith(spec cockpitv1alpha1.KrosEndpointSpec) *cockpitv1alpha1.KrosEndpoint {
	return &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "res"}, Spec: spec}
}

// elevenLabs is the simplest spec.
func elevenLabs() cockpitv1alpha1.KrosEndpointSpec {
	return cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs,
		ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: "a"}}
}

func TestDesired(t *testing.T) {
	sip := SIPLogin{Username: "u", Password: "p"}
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
		{"elevenlabs", elevenLabs(),
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
			ep := endpointWith(tt.spec)
			NewWithT(t).Expect(Desired(ep, sip)).To(Equal(tt.want))
		})
	}
}

// TestDiff is the one comparison behind status.drift and the PATCH:
// every readable field of every type, the write-only ones, and the PATCH
// each difference makes.
func TestDiff(t *testing.T) {
	sip := SIPLogin{Username: "u", Password: "p"}
	credentials := &cockpitv1alpha1.LocalSecretReference{Name: "sip"}
	specs := map[cockpitv1alpha1.EndpointType]cockpitv1alpha1.KrosEndpointSpec{
		cockpitv1alpha1.EndpointTypeWebhook: {Type: cockpitv1alpha1.EndpointTypeWebhook,
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://x.example/hook"}},
		cockpitv1alpha1.EndpointTypeVapi: {Type: cockpitv1alpha1.EndpointTypeVapi,
			Vapi: &cockpitv1alpha1.VapiConfig{AssistantID: "a", CredentialID: "c", PhoneNumberID: "v"}},
		cockpitv1alpha1.EndpointTypeRetell: {Type: cockpitv1alpha1.EndpointTypeRetell,
			Retell: &cockpitv1alpha1.RetellConfig{AgentID: "a", PhoneNumber: "+14155550100"}},
		cockpitv1alpha1.EndpointTypeElevenLabs: elevenLabs(),
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
			ep := endpointWith(spec)
			desired := Desired(ep, sip)
			inSync := observedAs(desired)
			g.Expect(Diff(ep, desired, "active", &inSync, true)).To(BeEmpty(), "in sync")
			g.Expect(Patch(desired, "active", nil)).To(BeNil(), "nothing to send at rest")

			fields := append([][2]string{{"name", "spec.displayName"}, {"status", "spec.enabled"}}, readable[typ]...)
			for _, f := range fields {
				// Change the one field in what KrosAI holds, through its JSON name.
				observed := changed(t, inSync, f[0])
				diffs := Diff(ep, desired, "active", &observed, true)
				if typ == cockpitv1alpha1.EndpointTypeCustomSIP && (f[0] == "url" || f[0] == "provider_config.sip_uri") {
					g.Expect(diffs).NotTo(BeEmpty(), f[0])
				} else {
					g.Expect(diffs).To(HaveLen(1), f[0])
				}
				d := diffs[0]
				g.Expect([]string{d.APIField, d.SpecField, d.Remote}).To(Equal([]string{f[0], f[1], "changed"}), f[0])
				g.Expect(d.Desired).NotTo(BeEmpty())
				g.Expect(d.WriteOnly).To(BeFalse())

				patch := Patch(desired, "active", diffs)
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

			unknown := Diff(ep, desired, "active", &inSync, false)
			if !HasSIPLogin(ep) {
				g.Expect(unknown).To(BeEmpty(), "no credentials, nothing unknown")
				return
			}
			g.Expect(unknown).To(HaveLen(2), "username and password, as write-only")
			for _, d := range unknown {
				g.Expect(d.WriteOnly).To(BeTrue())
				g.Expect(d.Remote+d.Desired).To(BeEmpty(), "never a value of a credential")
				g.Expect(d.SpecField).To(ContainSubstring("credentialsSecretRef"))
			}
			g.Expect(Patch(desired, "active", unknown).ProviderConfig).To(Equal(desired.ProviderConfig))
		})
	}

	t.Run("a SIP login KrosAI holds that the spec no longer asks for is dropped", func(t *testing.T) {
		g := NewWithT(t)
		ep := endpointWith(cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:a@pbx.example.com"}})
		desired := Desired(ep, SIPLogin{})
		held := observedAs(desired)
		held.ProviderConfig.Username, held.ProviderConfig.Password = "u", "********"
		diffs := Diff(ep, desired, "active", &held, true)
		g.Expect(diffs).To(HaveLen(2), "username and password")
		for _, d := range diffs {
			g.Expect(d.WriteOnly).To(BeTrue())
			g.Expect(d.Remote+d.Desired).To(BeEmpty(), "never a value of a credential")
		}
		patch := Patch(desired, "active", diffs)
		g.Expect(patch.ProviderConfig).To(Equal(desired.ProviderConfig), "sent whole, without a login")
		g.Expect(patch.ProviderConfig.Username + patch.ProviderConfig.Password).To(BeEmpty())
	})

	t.Run("a whole PATCH sets every field the spec sets, and nothing at rest", func(t *testing.T) {
		g := NewWithT(t)
		for typ, spec := range specs {
			ep := endpointWith(spec)
			desired := Desired(ep, sip)
			inSync := observedAs(desired)
			g.Expect(WholePatch(desired, "active", nil, &inSync)).To(BeNil(), typ)
			renamed := inSync
			renamed.Name = "changed"
			whole := WholePatch(desired, "active", Diff(ep, desired, "active", &renamed, true), &renamed)
			want := krosai.EndpointUpdate{Name: &desired.Name, Status: new("active"), ProviderConfig: desired.ProviderConfig}
			if desired.URL != "" {
				want.URL = &desired.URL
			}
			g.Expect(*whole).To(Equal(want), typ)
			renamed.Status = krosai.StatusError
			g.Expect(WholePatch(desired, "active", Diff(ep, desired, "active", &renamed, true), &renamed).Status).
				To(BeNil(), "%s: an endpoint in state error keeps its state", typ)
		}
	})
	t.Run("an endpoint in state error keeps its state", func(t *testing.T) {
		ep := endpointWith(elevenLabs())
		desired := Desired(ep, SIPLogin{})
		observed := observedAs(desired)
		observed.Status = krosai.StatusError
		NewWithT(t).Expect(Diff(ep, desired, "active", &observed, true)).To(BeEmpty())
	})
	t.Run("a disabled spec asks for inactive", func(t *testing.T) {
		spec := elevenLabs()
		spec.Enabled = new(false)
		ep := endpointWith(spec)
		desired := Desired(ep, SIPLogin{})
		observed := observedAs(desired)
		diffs := Diff(ep, desired, DesiredStatus(ep), &observed, true)
		NewWithT(t).Expect(Drift(diffs)).To(Equal([]cockpitv1alpha1.FieldDrift{
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

// TestSpecOfRoundTrips: an endpoint mapped to a spec, and that spec mapped
// back to a request, carries exactly the endpoint's readable fields, and the
// comparison finds nothing to change: importing an endpoint is a no-op.
func TestSpecOfRoundTrips(t *testing.T) {
	roundTrip := func(g Gomega, e krosai.Endpoint) {
		spec := SpecOf(e, "sip-credentials")
		ep := endpointWith(spec)
		desired := Desired(ep, SIPLogin{})
		g.Expect(ReadableOfRequest(desired)).To(Equal(ReadableOfEndpoint(e)), "%+v", e)
		g.Expect(DesiredStatus(ep)).To(Equal(e.Status))
		g.Expect(Diff(ep, desired, DesiredStatus(ep), &e, true)).To(BeEmpty(), "%+v", e)
		if e.Type == krosai.TypeVogent || (e.Type == krosai.TypeCustomSIP && e.ProviderConfig.Username != "") {
			g.Expect(HasSIPLogin(ep)).To(BeTrue(), "a credentialsSecretRef for what cannot be read back")
		}
	}
	every := []krosai.Endpoint{
		{Type: krosai.TypeWebhook, Name: "Hook", URL: "https://x.example/h", Status: "active"},
		{Type: krosai.TypeVapi, Name: "Vapi", Status: "inactive", ProviderConfig: krosai.ProviderConfig{
			AssistantID: "a", CredentialID: "c", VapiPhoneNumberID: "p"}},
		{Type: krosai.TypeRetell, Name: "Retell", Status: "active", ProviderConfig: krosai.ProviderConfig{
			AgentID: "a", RetellPhoneNumber: "+14155550100"}},
		{Type: krosai.TypeElevenLabs, Name: "EL", Status: "active", ProviderConfig: krosai.ProviderConfig{ElevenLabsAgentID: "a"}},
		{Type: krosai.TypeLiveKit, Name: "LK", Status: "active", ProviderConfig: krosai.ProviderConfig{
			LiveKitAgentName: "n", LiveKitSIPTrunkID: "t", LiveKitSIPURI: "sip:x.sip.livekit.cloud"}},
		{Type: krosai.TypeVogent, Name: "Vogent", Status: "active", ProviderConfig: krosai.ProviderConfig{
			VogentAgentID: "g", VogentSIPPrefix: "p", VogentSIPUsername: "u", VogentSIPPassword: "********"}},
		{Type: krosai.TypeCustomSIP, Name: "PBX", URL: "sip:a@pbx.example.com", Status: "active", ProviderConfig: krosai.ProviderConfig{
			SIPURI: "sip:a@pbx.example.com", Username: "u"}},
		{Type: krosai.TypeCustomSIP, Name: "Open PBX", URL: "sip:b@pbx.example.com", Status: "active",
			ProviderConfig: krosai.ProviderConfig{SIPURI: "sip:b@pbx.example.com"}},
	}
	for _, e := range every {
		t.Run(e.Type+" "+e.Name, func(t *testing.T) {
			e.ID = "1"
			if e.URL == "" {
				e.URL = "sip:1@sip.krosai.com"
			}
			roundTrip(NewWithT(t), e)
		})
	}

	t.Run("random endpoints of every type", func(t *testing.T) {
		g := NewWithT(t)
		rng := rand.New(rand.NewPCG(11, 12))
		token := func() string {
			if rng.IntN(4) == 0 {
				return "" // optional fields are often absent
			}
			return fmt.Sprintf("t-%x", rng.Uint32())
		}
		required := func() string { return fmt.Sprintf("r-%x", rng.Uint32()) }
		for i := range 500 {
			e := krosai.Endpoint{ID: fmt.Sprint(i), Name: required(), Status: []string{"active", "inactive"}[rng.IntN(2)]}
			e.URL = "sip:" + e.ID + "@sip.krosai.com"
			pc := &e.ProviderConfig
			switch rng.IntN(7) {
			case 0:
				e.Type, e.URL = krosai.TypeWebhook, "https://hooks.example.com/"+required()
			case 1:
				e.Type, pc.AssistantID, pc.CredentialID, pc.VapiPhoneNumberID = krosai.TypeVapi, required(), token(), token()
			case 2:
				e.Type, pc.AgentID = krosai.TypeRetell, required()
				if rng.IntN(2) == 0 {
					pc.RetellPhoneNumber = fmt.Sprintf("+1415555%04d", rng.IntN(10000))
				}
			case 3:
				e.Type, pc.ElevenLabsAgentID = krosai.TypeElevenLabs, required()
			case 4:
				e.Type, pc.LiveKitAgentName, pc.LiveKitSIPTrunkID = krosai.TypeLiveKit, token(), required()
				pc.LiveKitSIPURI = "sip:" + required() + ".sip.livekit.cloud"
			case 5:
				e.Type, pc.VogentAgentID, pc.VogentSIPPrefix, pc.VogentSIPUsername = krosai.TypeVogent, token(), required(), required()
				pc.VogentSIPPassword = []string{"", "********", "echoed"}[rng.IntN(3)]
			default:
				e.Type, e.URL = krosai.TypeCustomSIP, "sip:"+required()+"@pbx.example.com"
				pc.SIPURI, pc.Username = e.URL, token()
			}
			roundTrip(g, e)
		}
	})
}
