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

package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/plan"
)

// planCluster is a cluster whose KrosEndpoints, against everyType(), the
// operator would leave alone, update, create, adopt, recreate, delete and
// stop at.
func planCluster() []client.Object {
	kep := func(ns, name, endpointID string, spec cockpitv1alpha1.KrosEndpointSpec) *cockpitv1alpha1.KrosEndpoint {
		ep := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Finalizers: []string{cockpitv1alpha1.Finalizer}}, Spec: spec}
		if endpointID != "" {
			ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: endpointID}
			ep.Status.ID = endpointID
		}
		return ep
	}
	elevenLabs := func(name, agent string) cockpitv1alpha1.KrosEndpointSpec {
		return cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs, DisplayName: name,
			ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: agent}}
	}
	inSync := kep("team-a", "order-events", id(1), cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
		DisplayName: "Order Events", Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/krosai/orders"}})
	drifted := kep("team-a", "sales-line", id(2), cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVapi,
		DisplayName: "Sales Line", Vapi: &cockpitv1alpha1.VapiConfig{AssistantID: "asst_new", CredentialID: "cred_byo",
			PhoneNumberID: "pn_vapi_1"}})
	fresh := kep("team-a", "new-bot", "", elevenLabs("New Bot", "el_new"))
	adopting := kep("team-b", "concierge", "", elevenLabs("Concierge", "el_agent_7"))
	adopting.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: id(4)}
	vogent := kep("team-b", "collections", id(6), cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVogent,
		DisplayName: "Collections", Vogent: &cockpitv1alpha1.VogentConfig{AgentID: "vg_1", SIPPrefix: "kros",
			CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "collections-sip"}}})
	noSecret := kep("team-b", "pbx-main", id(7), cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
		DisplayName: "PBX Main", CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:agent@pbx.example.com",
			CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "pbx-main-sip"}}})
	gone := kep("team-c", "gone", id(77), elevenLabs("Gone", "el_gone"))
	deleting := kep("team-c", "livekit-agent", id(5), cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeLiveKit,
		DisplayName: "LiveKit Agent", LiveKit: &cockpitv1alpha1.LiveKitConfig{AgentName: "inbound-agent", SIPTrunkID: "ST_abc",
			SIPURI: "sip:xyz.sip.livekit.cloud"}})
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	sip := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "collections-sip", ResourceVersion: "7"},
		Data: map[string][]byte{"username": []byte("kros-demo"), "password": []byte(sipPassword)}}
	return []client.Object{inSync, drifted, fresh, adopting, vogent, noSecret, gone, deleting, sip}
}

// planFile is a manifest for kubectl apply: the in-sync resource as it is,
// the drifted one corrected, and a new one without a namespace.
const planFile = `# what the team would apply
apiVersion: cockpit.krosai.com/v1alpha1
kind: KrosEndpoint
metadata:
  name: order-events
spec:
  type: webhook
  displayName: Order Events
  webhook:
    url: https://hooks.example.com/krosai/orders
---
apiVersion: cockpit.krosai.com/v1alpha1
kind: KrosEndpoint
metadata:
  name: sales-line
  namespace: team-a
spec:
  type: vapi
  displayName: Sales Line
  enabled: false
  vapi:
    assistantID: asst_sales
    credentialID: cred_byo
    phoneNumberID: pn_vapi_1
---
apiVersion: cockpit.krosai.com/v1alpha1
kind: KrosEndpoint
metadata:
  name: support-bot
spec:
  type: retell
  retell:
    agentID: agent_x
    phoneNumber: "+14155550199"
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlanGolden(t *testing.T) {
	tests := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"plan-all", func(*testing.T) []string { return []string{"plan", "-A"} }},
		{"plan-all-json", func(*testing.T) []string { return []string{"plan", "--all-namespaces", "-o", "json"} }},
		{"plan-namespace", func(*testing.T) []string { return []string{"plan"} }},
		{"plan-files", func(t *testing.T) []string { return []string{"plan", "-f", writeFile(t, "apply.yaml", planFile)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, everyType()...)
			h.objects = append(h.objects, planCluster()...)
			stdout, stderr, code := h.run(tt.args(t)...)
			g.Expect(stderr).To(BeEmpty())
			g.Expect(code).To(Equal(ExitChanges))
			expectNoSecrets(g, stdout, stderr)
			golden(t, tt.name+".out", stdout)
		})
	}
}

func TestPlanJSONIsAPlan(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, everyType()...)
	h.objects = append(h.objects, planCluster()...)
	stdout, _, code := h.run("plan", "-A", "-o", "json")
	g.Expect(code).To(Equal(ExitChanges))
	var p plan.Plan
	g.Expect(json.Unmarshal([]byte(stdout), &p)).To(Succeed())
	g.Expect(p.APIVersion).To(Equal("cockpit.krosai.com/plan/v1alpha1"))
	g.Expect(p.Kind).To(Equal("Plan"))
	g.Expect(p.Items).To(HaveLen(8))
}

func TestPlanExitCodes(t *testing.T) {
	inSync, _, _ := strings.Cut(planFile, "---\n")
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"nothing would change", inSync, []string{"plan", "-f", "-"}, ExitOK,
			"NAMESPACE   NAME           ACTION   ENDPOINT                               CHANGES\n" +
				"team-a      order-events   none     " + id(1) + "   -\n" +
				"Plan: 0 to create, 0 to update, 0 to delete, 0 blocked, 1 unchanged.\n", ""},
		{"nothing to plan", "", []string{"plan", "-n", "empty"}, ExitOK, "", "No KrosEndpoints found.\n"},
		{"nothing to plan, as JSON", "", []string{"plan", "-n", "empty", "-o", "json"}, ExitOK,
			"{\n    \"apiVersion\": \"cockpit.krosai.com/plan/v1alpha1\",\n    \"kind\": \"Plan\",\n    \"items\": []\n}\n", ""},
		{"a blocked resource", "", []string{"plan", "-n", "team-b"}, ExitChanges, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, everyType()...)
			h.objects = append(h.objects, planCluster()...)
			h.stdin = tt.stdin
			stdout, stderr, code := h.run(tt.args...)
			g.Expect(code).To(Equal(tt.code), stderr)
			if tt.stdout != "" || tt.code == ExitOK {
				g.Expect(stdout).To(Equal(tt.stdout))
			}
			g.Expect(stderr).To(Equal(tt.stderr))
		})
	}
}

// TestPlanReadsOnly: plan lists with GETs, once per organization, and
// writes nothing to the cluster.
func TestPlanReadsOnly(t *testing.T) {
	for _, args := range [][]string{{"plan", "-A"}, {"plan", "-f", "-"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, everyType()...)
			h.objects = append(h.objects, planCluster()...)
			h.stdin = planFile
			_, stderr, code := h.run(args...)
			g.Expect(code).To(Equal(ExitChanges), stderr)
			g.Expect(h.writes.Load()).To(BeZero())
			requests := h.sim.Requests()
			g.Expect(requests).To(HaveLen(1), "one list of the one organization")
			g.Expect(requests[0].Method).To(Equal(http.MethodGet))
		})
	}
}

// TestPlanWithKeyFromEnvironment: $KROSAI_API_KEY replaces every Secret;
// a refused key is then an error that names it.
func TestPlanWithKeyFromEnvironment(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, everyType()...)
	h.objects = planCluster() // no default credentials Secret
	h.env[envAPIKey] = testKey
	stdout, stderr, code := h.run("plan", "-n", "team-a")
	g.Expect(code).To(Equal(ExitChanges), stderr)
	g.Expect(stdout).To(ContainSubstring("Plan: 1 to create, 1 to update, 0 to delete, 0 blocked, 1 unchanged."))

	h.env[envAPIKey] = testKey + "-revoked"
	stdout, stderr, code = h.run("plan", "-n", "team-a")
	g.Expect(code).To(Equal(ExitError))
	g.Expect(stdout).To(BeEmpty())
	g.Expect(stderr).To(Equal("error: KrosAI refused the API key from $KROSAI_API_KEY (401 Unauthorized)\n"))
	expectNoSecrets(g, stdout, stderr)
}

// TestPlanTable pins the table for every action, with values that must
// not reach a terminal as they are.
func TestPlanTable(t *testing.T) {
	p := plan.Plan{Items: []plan.Step{
		{Namespace: "a", Name: "created", Action: plan.ActionCreate, Changes: []plan.Change{
			{Field: "name", New: "Created"}, {Field: "provider_config.password", Secret: true}}},
		{Namespace: "a", Name: "updated", Action: plan.ActionUpdate, EndpointID: "ep1", Changes: []plan.Change{
			{Field: "provider_config.assistant_id", Old: "old", New: "new\x1b[2J\u202e"},
			{Field: "provider_config.password", Secret: true}}},
		{Namespace: "a", Name: "adopted", Action: plan.ActionAdopt, EndpointID: "ep2", Message: "adopt the existing endpoint"},
		{Namespace: "b", Name: "recreated", Action: plan.ActionRecreate, EndpointID: "ep3",
			Message: "endpoint ep3 was deleted outside Kubernetes; create it again",
			Changes: []plan.Change{{Field: "name", New: "R"}}},
		{Namespace: "b", Name: "deleted", Action: plan.ActionDelete, EndpointID: "ep4", Message: "delete endpoint ep4 from KrosAI"},
		{Namespace: "b", Name: "orphaned", Action: plan.ActionOrphan, EndpointID: "ep5", Message: "deletionPolicy Orphan"},
		{Namespace: "c", Name: "blocked", Action: plan.ActionBlocked, Reason: "SecretNotFound",
			Message: "Secret \"x\" named by spec.apiKeySecretRef\nnot found"},
		{Namespace: "c", Name: "same", Action: plan.ActionNone, EndpointID: "ep6", Message: "the endpoint matches the spec"},
	}}
	var out, errOut bytes.Buffer
	g := NewWithT(t)
	g.Expect(writePlan(&out, &errOut, p, "table")).To(Succeed())
	g.Expect(errOut.String()).To(BeEmpty())
	golden(t, "plan-table.out", out.String())
}
