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
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestEndpointDecoding(t *testing.T) {
	g := NewWithT(t)
	var e Endpoint
	g.Expect(json.Unmarshal([]byte(`{
		"id": "3f0c6f1e-2b1a-4c6e-9a4e-1b2c3d4e5f60", "name": "hook", "type": "webhook",
		"url": "https://example.com/hook", "status": "active", "organization_id": "org",
		"created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:06.5+01:00",
		"secret": "whsec_abc", "unknown": {"ignored": true}
	}`), &e)).To(Succeed())
	g.Expect(e.ID).To(Equal("3f0c6f1e-2b1a-4c6e-9a4e-1b2c3d4e5f60"))
	g.Expect(e.Secret).To(Equal("whsec_abc"))
	g.Expect(e.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))).To(BeTrue())
	g.Expect(e.UpdatedAt.Equal(time.Date(2026, 1, 2, 2, 4, 6, 5e8, time.UTC))).To(BeTrue())

	for _, tc := range []struct {
		in   string
		want ProviderConfig
	}{
		{`{"id":"ep_1","type":"elevenlabs","provider_config":{"agent_id":"el_1"}}`, ProviderConfig{ElevenLabsAgentID: "el_1"}},
		{`{"id":"ep_1","type":"elevenlabs","provider_config":{"elevenlabs_agent_id":"el_1"}}`, ProviderConfig{ElevenLabsAgentID: "el_1"}},
		{`{"id":"ep_1","type":"retell","provider_config":{"agent_id":"re_1"}}`, ProviderConfig{AgentID: "re_1"}},
		{`{"id":"ep_1","type":"webhook","provider_config":null}`, ProviderConfig{}},
	} {
		var e Endpoint
		g.Expect(json.Unmarshal([]byte(tc.in), &e)).To(Succeed(), tc.in)
		g.Expect(e.ProviderConfig).To(Equal(tc.want), tc.in)
	}
	for _, bad := range []string{`{}`, `null`, `{"id":""}`, `{"id":7}`, `{"id":"x","created_at":"yesterday"}`} {
		g.Expect(json.Unmarshal([]byte(bad), &Endpoint{})).NotTo(Succeed(), bad)
	}
}

// TestEndpointIDs: an id is stored in an annotation and in status, logged and
// sent back in paths, so one no well-behaved API would send is refused as a
// malformed response.
func TestEndpointIDs(t *testing.T) {
	for _, id := range []string{
		"3f0c6f1e-2b1a-4c6e-9a4e-1b2c3d4e5f60", "ep_abc123", "a", "ép_1", strings.Repeat("x", 255),
	} {
		var e Endpoint
		NewWithT(t).Expect(json.Unmarshal(fmt.Appendf(nil, `{"id":%q}`, id), &e)).To(Succeed(), "%q", id)
	}
	for _, tc := range []struct{ name, json, err string }{
		{"empty", `""`, "endpoint has no id"},
		{"newline", `"ep_1\n"`, "endpoint id holds a space or a character that is not printable"},
		{"NUL", `"ep_\u0000"`, "endpoint id holds a space or a character that is not printable"},
		{"escape sequence", `"ep_\u001b[31m"`, "endpoint id holds a space or a character that is not printable"},
		{"DEL", `"ep_\u007f"`, "endpoint id holds a space or a character that is not printable"},
		{"C1 control", `"ep_\u0085"`, "endpoint id holds a space or a character that is not printable"},
		{"bidi override", `"ep_\u202e1"`, "endpoint id holds a space or a character that is not printable"},
		{"space", `"ep 1"`, "endpoint id holds a space or a character that is not printable"},
		{"no-break space", `"ep\u00a01"`, "endpoint id holds a space or a character that is not printable"},
		// encoding/json decodes invalid UTF-8 as U+FFFD.
		{"invalid UTF-8", "\"ep_\xff\"", "endpoint id is not valid UTF-8"},
		{"replacement character", `"ep_\ufffd"`, "endpoint id is not valid UTF-8"},
		{"dot", `"."`, "endpoint id names a path"},
		{"dot dot", `".."`, "endpoint id names a path"},
		{"longer than status.id holds", `"` + strings.Repeat("x", 256) + `"`, "endpoint id is longer than 255 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e Endpoint
			NewWithT(t).Expect(json.Unmarshal([]byte(`{"id":`+tc.json+`}`), &e)).To(MatchError(tc.err))
		})
	}
}

func TestRequestEncoding(t *testing.T) {
	g := NewWithT(t)
	b, err := json.Marshal(EndpointCreate{Name: "n", Type: TypeElevenLabs, ProviderConfig: &ProviderConfig{ElevenLabsAgentID: "el_1"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b).To(MatchJSON(`{"name":"n","type":"elevenlabs","provider_config":{"elevenlabs_agent_id":"el_1"}}`),
		"the OpenAPI's name is sent, not the narrative's")
	b, err = json.Marshal(EndpointUpdate{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b).To(MatchJSON(`{}`))
	b, err = json.Marshal(Endpoint{ID: "ep_1", Type: TypeWebhook})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(b)).NotTo(ContainSubstring("provider_config"), "a webhook has no provider config to send")
}

func TestCredentialsNeverShowTheKey(t *testing.T) {
	g := NewWithT(t)
	cred := Credentials{APIKey: testKey, OrganizationID: testOrg}
	holder := struct{ Cred Credentials }{cred}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %[1]v"}
	outs := make([]string, 0, 3*len(verbs)+5)
	for _, verb := range verbs {
		outs = append(outs, fmt.Sprintf(verb, cred), fmt.Sprintf(verb, &cred), fmt.Sprintf(verb, holder))
	}
	outs = append(outs, fmt.Sprint(cred), fmt.Sprintln(cred), cred.String(), cred.GoString())
	b, err := json.Marshal(cred)
	g.Expect(err).NotTo(HaveOccurred())
	outs = append(outs, string(b))
	for _, out := range outs {
		g.Expect(out).NotTo(ContainSubstring("kros_test_"))
		g.Expect(out).NotTo(ContainSubstring("0123456789abcdef"))
	}
	g.Expect(fmt.Sprintf("%+v", cred)).To(Equal("{APIKey:[REDACTED] OrganizationID:" + testOrg + "}"))
	g.Expect(fmt.Sprintf("%#v", cred)).To(Equal(`krosai.Credentials{APIKey:"[REDACTED]", OrganizationID:"` + testOrg + `"}`))
	g.Expect(fmt.Sprint(Credentials{})).To(Equal("{APIKey: OrganizationID:}"), "an unset key shows as unset")
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"plain", "Invalid API key", nil, "Invalid API key"},
		{"control characters and lines", "a\x00b\r\n\tc\x1b[0m\xff", nil, "ab c[0m"},
		{"secret", "key kros_live_X rejected", []string{"kros_live_X", ""}, "key [REDACTED] rejected"},
		{"secret split by a control character", "key kros_\x00live_X", []string{"kros_live_X"}, "key [REDACTED]"},
		{"long", strings.Repeat("ab", 300), nil, strings.Repeat("ab", 100) + "..."},
		{"cut on a rune boundary", "a" + strings.Repeat("é", 150), nil, "a" + strings.Repeat("é", 99) + "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(summarize(tc.in, tc.secrets)).To(Equal(tc.want))
		})
	}
}
