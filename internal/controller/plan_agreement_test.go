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
	"maps"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/plan"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fixtures"
)

// What `kubectl krosai plan` predicts is what the operator then does: each
// resource is created paused, planned as it will be once unpaused, then
// unpaused; the writes the operator sends for it are compared with the plan.
var _ = Describe("The plan and the reconcile that follows it", func() {
	It("agree on the action and on the fields written", func() {
		ns, key, org := fx.Isolated()
		api, err := krosai.New(krosai.Config{BaseURL: apiURL})
		Expect(err).NotTo(HaveOccurred())
		planner := &plan.Planner{Reader: k8sClient, API: api,
			DefaultCredentials: types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"}}
		withOwnKey := func(agent string) cockpitv1alpha1.KrosEndpointSpec {
			spec := fixtures.ElevenLabsWithOwnKey()
			spec.ElevenLabs.AgentID = agent
			return spec
		}
		inLine := createRemote(key, org, "in line", map[string]any{"elevenlabs_agent_id": "agent"})
		changed := createRemote(key, org, "changed", map[string]any{"elevenlabs_agent_id": "old-agent"})

		// act plans ep as it will be unpaused, unpauses it, waits for the
		// operator to settle, and returns the plan and what was written.
		act := func(name string, spec cockpitv1alpha1.KrosEndpointSpec, annotations map[string]string) (plan.Step, []krosaisim.RequestRecord) {
			GinkgoHelper()
			ep := fixtures.NewEndpoint(ns, name, spec)
			ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}
			maps.Copy(ep.Annotations, annotations)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))

			unpaused := fx.Get(ep)
			delete(unpaused.Annotations, cockpitv1alpha1.AnnotationPaused)
			predicted, err := planner.Plan(ctx, []cockpitv1alpha1.KrosEndpoint{*unpaused}, false)
			Expect(err).NotTo(HaveOccurred())
			step := predicted.Items[0]
			GinkgoWriter.Printf("plan for %s: %s %s %v: %s\n", name, step.Action, step.EndpointID, step.Changes, step.Message)

			since := len(sim.Requests())
			Expect(k8sClient.Update(ctx, unpaused)).To(Succeed())
			if step.Action == plan.ActionBlocked {
				fx.WaitStalled(ep, step.Reason)
			} else {
				fx.WaitReady(ep)
			}
			id := fx.Get(ep).Status.ID
			var writes []krosaisim.RequestRecord
			for _, r := range sim.Requests()[since:] {
				if r.Method != "GET" && (forID(id)(r) || named(cmp.Or(spec.DisplayName, name))(r)) {
					writes = append(writes, r)
				}
			}
			return step, writes
		}

		By("a new resource: one POST")
		step, writes := act("new", withOwnKey("agent"), nil)
		Expect(step.Action).To(Equal(plan.ActionCreate))
		Expect(operations(writes)).To(Equal([]string{"createEndpoint"}))

		By("a new disabled resource: the POST, then the PATCH of the status the create cannot set")
		disabled := withOwnKey("agent")
		disabled.Enabled = new(false)
		step, writes = act("disabled", disabled, nil)
		Expect(step.Action).To(Equal(plan.ActionCreate))
		Expect(operations(writes)).To(Equal([]string{"createEndpoint", "updateEndpoint"}))
		Expect(patchedFields(writes[1])).To(Equal([]string{"status"}))
		Expect(changedFields(step)).To(ContainElement("status"))

		By("adopting an endpoint that matches: no write")
		matching := withOwnKey("agent")
		matching.DisplayName = "in line"
		step, writes = act("in-line", matching, map[string]string{cockpitv1alpha1.AnnotationEndpointID: inLine.ID})
		Expect(step.Action).To(Equal(plan.ActionAdopt))
		Expect(step.Changes).To(BeEmpty())
		Expect(writes).To(BeEmpty())

		By("adopting an endpoint that differs: one PATCH of exactly the planned fields")
		differing := withOwnKey("new-agent")
		differing.DisplayName = "changed, renamed"
		step, writes = act("changed", differing, map[string]string{cockpitv1alpha1.AnnotationEndpointID: changed.ID})
		Expect(step.Action).To(Equal(plan.ActionAdopt))
		Expect(changedFields(step)).To(Equal([]string{"name", "provider_config"}))
		Expect(operations(writes)).To(Equal([]string{"updateEndpoint"}))
		Expect(patchedFields(writes[0])).To(Equal(changedFields(step)))

		By("an endpoint another resource owns: blocked, and the operator stalls with the same reason")
		step, writes = act("second-owner", matching, map[string]string{cockpitv1alpha1.AnnotationEndpointID: inLine.ID})
		Expect(step.Reason).To(Equal(cockpitv1alpha1.ReasonEndpointOwnedByAnother))
		Expect(writes).To(BeEmpty())

		By("a missing SIP Secret: blocked, and the operator stalls with the same reason")
		sip := cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVogent,
			APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "key"},
			Vogent: &cockpitv1alpha1.VogentConfig{AgentID: "v", SIPPrefix: "p",
				CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "absent"}}}
		step, writes = act("no-secret", sip, nil)
		Expect(step.Reason).To(Equal(cockpitv1alpha1.ReasonSecretNotFound))
		Expect(writes).To(BeEmpty())
	})
})

// operations names the requests in order.
func operations(records []krosaisim.RequestRecord) []string {
	out := make([]string, 0, len(records))
	for _, r := range records {
		out = append(out, r.Operation)
	}
	return out
}

// patchedFields are the top-level fields of a PATCH body, sorted.
func patchedFields(r krosaisim.RequestRecord) []string {
	GinkgoHelper()
	var body map[string]json.RawMessage
	Expect(json.Unmarshal(r.Body, &body)).To(Succeed())
	return slices.Sorted(maps.Keys(body))
}

// changedFields are the top-level API fields a plan step changes, sorted:
// the provider config is sent whole.
func changedFields(s plan.Step) []string {
	var out []string
	for _, c := range s.Changes {
		field, _, _ := strings.Cut(c.Field, ".")
		if !slices.Contains(out, field) {
			out = append(out, field)
		}
	}
	slices.Sort(out)
	return out
}
