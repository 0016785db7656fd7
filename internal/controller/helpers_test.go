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
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fixtures"
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

func elevenLabsSpec(agent string) cockpitv1alpha1.KrosEndpointSpec {
	return cockpitv1alpha1.KrosEndpointSpec{
		Type:       cockpitv1alpha1.EndpointTypeElevenLabs,
		ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: agent},
	}
}

// everyType is a spec of each endpoint type, by resource name; vogent and
// pbx read their SIP logins from the Secrets vogent-sip and pbx-sip.
func everyType() map[string]cockpitv1alpha1.KrosEndpointSpec {
	return map[string]cockpitv1alpha1.KrosEndpointSpec{
		"hook": {Type: cockpitv1alpha1.EndpointTypeWebhook, DisplayName: "Call events",
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/calls"}},
		"vapi": {Type: cockpitv1alpha1.EndpointTypeVapi,
			Vapi: &cockpitv1alpha1.VapiConfig{AssistantID: "asst-1", CredentialID: "cred-1", PhoneNumberID: "pn-1"}},
		"retell": {Type: cockpitv1alpha1.EndpointTypeRetell,
			Retell: &cockpitv1alpha1.RetellConfig{AgentID: "agent-r", PhoneNumber: "+14155550100"}},
		"eleven": elevenLabsSpec("agent-e"),
		"livekit": {Type: cockpitv1alpha1.EndpointTypeLiveKit, LiveKit: &cockpitv1alpha1.LiveKitConfig{
			AgentName: "lk-agent", SIPTrunkID: "ST_1", SIPURI: "sip:x.sip.livekit.cloud"}},
		"vogent": {Type: cockpitv1alpha1.EndpointTypeVogent, Vogent: &cockpitv1alpha1.VogentConfig{
			AgentID: "vg-1", SIPPrefix: "pre", CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "vogent-sip"}}},
		"pbx": {Type: cockpitv1alpha1.EndpointTypeCustomSIP, CustomSIP: &cockpitv1alpha1.CustomSIPConfig{
			SIPURI: "sips:desk@pbx.example.com", CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "pbx-sip"}}},
	}
}

// requests returns the simulator's log of an operation, filtered.
func requests(operation string, match func(krosaisim.RequestRecord) bool) []krosaisim.RequestRecord {
	var out []krosaisim.RequestRecord
	for _, r := range sim.Requests() {
		if r.Operation == operation && (match == nil || match(r)) {
			out = append(out, r)
		}
	}
	return out
}

// forID matches requests addressed to one endpoint.
func forID(id string) func(krosaisim.RequestRecord) bool {
	return func(r krosaisim.RequestRecord) bool { return strings.HasSuffix(r.Path, "/endpoints/"+id) }
}

// named matches creates of an endpoint name.
func named(name string) func(krosaisim.RequestRecord) bool {
	return func(r krosaisim.RequestRecord) bool {
		var body struct{ Name string }
		return json.Unmarshal(r.Body, &body) == nil && body.Name == name
	}
}

// inOrg matches requests made in one organization.
func inOrg(org string) func(krosaisim.RequestRecord) bool {
	return func(r krosaisim.RequestRecord) bool { return r.Org == org }
}

// remoteEndpoints returns the simulator's endpoints of an organization.
func remoteEndpoints(org string) []krosaisim.Endpoint {
	return sim.Endpoints()[org]
}

func remote(id string) krosaisim.Endpoint {
	GinkgoHelper()
	e, ok := sim.Endpoint(id)
	Expect(ok).To(BeTrue(), "endpoint %s not in the simulator", id)
	return e
}

// createRemote makes an ElevenLabs endpoint through the API, as a user of the
// dashboard would, and returns it.
func createRemote(key, org, name string, providerConfig map[string]any) krosaisim.Endpoint {
	GinkgoHelper()
	return createRemoteFrom(key, org, map[string]any{"name": name, "type": "elevenlabs", "provider_config": providerConfig})
}

// createRemoteFrom makes the endpoint a create request body describes
// through the API, and returns it.
func createRemoteFrom(key, org string, request map[string]any) krosaisim.Endpoint {
	GinkgoHelper()
	return createRemoteAt(sim, apiURL, key, org, request)
}

// createRemoteAt is createRemoteFrom for simulator s, served at apiURL.
func createRemoteAt(s *krosaisim.Simulator, apiURL, key, org string, request map[string]any) krosaisim.Endpoint {
	GinkgoHelper()
	before := map[string]bool{}
	for _, e := range s.Endpoints()[org] {
		before[e.ID] = true
	}
	body, err := json.Marshal(request)
	Expect(err).NotTo(HaveOccurred())
	status := postJSON(apiURL+"/endpoints", key, org, body)
	Expect(status).To(Equal(201))
	for _, e := range s.Endpoints()[org] {
		if !before[e.ID] {
			return e
		}
	}
	Fail("created endpoint not found")
	return krosaisim.Endpoint{}
}

func postJSON(url, key, org string, body []byte) int {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if org != "" {
		req.Header.Set("x-organization-id", org)
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	return resp.StatusCode
}

// createInterrupted creates a resource in the state a manager killed between
// the POST and the id write leaves behind: create-pending set, no id.
func createInterrupted(ns, name string, pendingSince time.Time) *cockpitv1alpha1.KrosEndpoint {
	GinkgoHelper()
	ep := fixtures.NewEndpoint(ns, name, fixtures.ElevenLabsWithOwnKey())
	ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationCreatePending: pendingSince.UTC().Format(time.RFC3339Nano)}
	Expect(k8sClient.Create(ctx, ep)).To(Succeed())
	return ep
}

// counterValue reads the counter name of the manager's registry whose label
// has value, or 0 before its first increment.
func counterValue(name, label, value string) float64 {
	GinkgoHelper()
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
