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
	"context"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fakeapi"
)

// roundTripCreates is a valid create of every endpoint type, each SIP
// password testPassword.
var roundTripCreates = []EndpointCreate{
	{Name: "hook", Type: TypeWebhook, URL: "https://example.com/hook"},
	{Name: "vapi", Type: TypeVapi, ProviderConfig: &ProviderConfig{AssistantID: "asst_1", CredentialID: "cred_1"}},
	{Name: "retell", Type: TypeRetell, ProviderConfig: &ProviderConfig{AgentID: "agent_1"}},
	{Name: "elevenlabs", Type: TypeElevenLabs, ProviderConfig: &ProviderConfig{ElevenLabsAgentID: "el_1"}},
	{Name: "livekit", Type: TypeLiveKit, ProviderConfig: &ProviderConfig{
		LiveKitSIPTrunkID: "trunk_1", LiveKitSIPURI: "sip:abcd.sip.livekit.cloud"}},
	{Name: "vogent", Type: TypeVogent, ProviderConfig: &ProviderConfig{
		VogentSIPPrefix: "pre", VogentSIPUsername: "user", VogentSIPPassword: testPassword}},
	{Name: "pbx", Type: TypeCustomSIP, URL: "sip:pbx@example.com", ProviderConfig: &ProviderConfig{
		SIPURI: "sip:pbx@example.com", Username: "u", Password: testPassword}},
}

// withoutPasswords is pc as a caller comparing readable fields sees it.
func withoutPasswords(pc ProviderConfig) ProviderConfig {
	pc.VogentSIPPassword, pc.Password = "", ""
	return pc
}

// TestEveryPasswordModeRoundTrips runs the client against the simulator in
// each of its password modes, since the vendor does not document which one
// the real API has: every type must create, get, update and list without
// error, and whatever comes back for a password (a mask, nothing, the
// password) must leave every other field as sent.
func TestEveryPasswordModeRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		mode string
		// readBack is the password the API answers for testPassword.
		readBack string
	}{
		{krosaisim.PasswordModeMask, krosaisim.PasswordMask},
		{krosaisim.PasswordModeOmit, ""},
		{krosaisim.PasswordModeEcho, testPassword},
	} {
		for _, shape := range []string{krosaisim.ListShapeArray, krosaisim.ListShapeWrapped} {
			t.Run(tc.mode+"/"+shape, func(t *testing.T) {
				g := NewWithT(t)
				sim, err := krosaisim.NewSimulator(krosaisim.Options{
					Keys:   []krosaisim.APIKey{{Key: testKey, Org: testOrg}},
					Faults: krosaisim.Faults{PasswordMode: tc.mode, ListShape: shape},
					Seed:   1,
				})
				g.Expect(err).NotTo(HaveOccurred())
				api := sim.Handler()
				f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, r *http.Request) { api.ServeHTTP(w, r) })
				t.Cleanup(func() { _ = sim.Close() }) // runs first: releases anything held
				c := newClient(t, f)
				ctx := context.Background()

				created := map[string]*Endpoint{}
				for _, in := range roundTripCreates {
					sent := ProviderConfig{}
					if in.ProviderConfig != nil {
						sent = *in.ProviderConfig
					}
					got, err := c.CreateEndpoint(ctx, testCred, in)
					g.Expect(err).NotTo(HaveOccurred(), in.Type)
					g.Expect(got.Name).To(Equal(in.Name))
					g.Expect(got.Type).To(Equal(in.Type))
					g.Expect(got.OrganizationID).To(Equal(testOrg))
					g.Expect(withoutPasswords(got.ProviderConfig)).To(Equal(withoutPasswords(sent)), in.Type)
					for _, password := range []string{got.ProviderConfig.VogentSIPPassword, got.ProviderConfig.Password} {
						g.Expect(password).To(BeElementOf("", tc.readBack), in.Type)
					}
					if sent.VogentSIPPassword != "" {
						g.Expect(got.ProviderConfig.VogentSIPPassword).To(Equal(tc.readBack))
					}
					if sent.Password != "" {
						g.Expect(got.ProviderConfig.Password).To(Equal(tc.readBack))
					}

					again, err := c.GetEndpoint(ctx, testCred, got.ID)
					g.Expect(err).NotTo(HaveOccurred(), in.Type)
					g.Expect(again).To(Equal(got), in.Type)

					if in.ProviderConfig != nil { // a credential rotation, as the controller pushes it
						rotated := sent
						if rotated.VogentSIPPassword != "" {
							rotated.VogentSIPPassword = "rotated-" + testPassword
						}
						if rotated.Password != "" {
							rotated.Password = "rotated-" + testPassword
						}
						updated, err := c.UpdateEndpoint(ctx, testCred, got.ID, EndpointUpdate{ProviderConfig: &rotated})
						g.Expect(err).NotTo(HaveOccurred(), in.Type)
						g.Expect(withoutPasswords(updated.ProviderConfig)).To(Equal(withoutPasswords(sent)), in.Type)
						got = updated
					}
					created[got.ID] = got
				}

				listed, err := c.ListEndpoints(ctx, testCred)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(listed).To(HaveLen(len(roundTripCreates)))
				for _, e := range listed {
					want := created[e.ID]
					g.Expect(want).NotTo(BeNil(), e.ID)
					g.Expect(withoutPasswords(e.ProviderConfig)).To(Equal(withoutPasswords(want.ProviderConfig)), e.Type)
					e.ProviderConfig = want.ProviderConfig
					g.Expect(e).To(Equal(*want), e.Type)
				}
			})
		}
	}
}
