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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/plan"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fixtures"
)

// What `kubectl krosai plan` predicts is what the operator then does: each
// resource is paused, planned as it will be once unpaused, then unpaused;
// the writes the operator sends for it are compared with the plan.
var _ = Describe("The plan and the reconcile that follows it", func() {
	var (
		ns, key, org string
		planner      *plan.Planner
	)
	BeforeEach(func() {
		ns, key, org = fx.Isolated()
		api, err := krosai.New(krosai.Config{BaseURL: apiURL})
		Expect(err).NotTo(HaveOccurred())
		planner = &plan.Planner{Reader: k8sClient, API: api,
			DefaultCredentials: types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"}}
	})

	// update applies mutate to the latest ep, again if the operator wrote
	// in between.
	update := func(ep *cockpitv1alpha1.KrosEndpoint, mutate func(*cockpitv1alpha1.KrosEndpoint)) {
		GinkgoHelper()
		Eventually(func() error {
			got := fx.Get(ep)
			mutate(got)
			return k8sClient.Update(ctx, got)
		}, timeout, interval).Should(Succeed())
	}

	// unpause plans the paused ep as it will be unpaused, unpauses it, waits
	// for the operator to settle, and returns the plan and the writes sent
	// for ep's endpoint meanwhile.
	unpause := func(ep *cockpitv1alpha1.KrosEndpoint) (plan.Step, []krosaisim.RequestRecord) {
		GinkgoHelper()
		unpaused := fx.Get(ep)
		delete(unpaused.Annotations, cockpitv1alpha1.AnnotationPaused)
		predicted, err := planner.Plan(ctx, []cockpitv1alpha1.KrosEndpoint{*unpaused}, false)
		Expect(err).NotTo(HaveOccurred())
		step := predicted.Items[0]
		GinkgoWriter.Printf("plan for %s: %s %s %v: %s\n", ep.Name, step.Action, step.EndpointID, step.Changes, step.Message)

		since := len(sim.Requests())
		update(ep, func(got *cockpitv1alpha1.KrosEndpoint) { delete(got.Annotations, cockpitv1alpha1.AnnotationPaused) })
		switch step.Action {
		case plan.ActionBlocked:
			fx.WaitStalled(ep, step.Reason)
		case plan.ActionDelete, plan.ActionOrphan:
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), &cockpitv1alpha1.KrosEndpoint{}))
			}, timeout, interval).Should(BeTrue())
		default:
			fx.WaitReady(ep)
		}
		ids := []string{unpaused.Status.ID, unpaused.Annotations[cockpitv1alpha1.AnnotationEndpointID]}
		if got := (&cockpitv1alpha1.KrosEndpoint{}); k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), got) == nil {
			ids = append(ids, got.Status.ID)
		}
		var writes []krosaisim.RequestRecord
		for _, r := range sim.Requests()[since:] {
			if r.Method == "GET" {
				continue
			}
			if named(cmp.Or(unpaused.Spec.DisplayName, unpaused.Name))(r) ||
				slices.ContainsFunc(ids, func(id string) bool { return id != "" && forID(id)(r) }) {
				writes = append(writes, r)
			}
		}
		return step, writes
	}

	// pause pauses the existing ep and waits until the operator says so.
	pause := func(ep *cockpitv1alpha1.KrosEndpoint) {
		GinkgoHelper()
		update(ep, func(got *cockpitv1alpha1.KrosEndpoint) { got.Annotations[cockpitv1alpha1.AnnotationPaused] = "true" })
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))
	}

	withOwnKey := func(agent string) cockpitv1alpha1.KrosEndpointSpec {
		spec := fixtures.ElevenLabsWithOwnKey()
		spec.ElevenLabs.AgentID = agent
		return spec
	}

	It("agree for new resources: create, adopt, or blocked", func() {
		inLine := createRemote(key, org, "in line", map[string]any{"elevenlabs_agent_id": "agent"})
		changed := createRemote(key, org, "changed", map[string]any{"elevenlabs_agent_id": "old-agent"})
		act := func(name string, spec cockpitv1alpha1.KrosEndpointSpec, annotations map[string]string) (plan.Step, []krosaisim.RequestRecord) {
			GinkgoHelper()
			ep := fixtures.NewEndpoint(ns, name, spec)
			ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}
			maps.Copy(ep.Annotations, annotations)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))
			return unpause(ep)
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

	It("agree for resources that exist: dashboard edits and deletions, a switch to Full, a deletion", func() {
		ready := func(name string, spec cockpitv1alpha1.KrosEndpointSpec) *cockpitv1alpha1.KrosEndpoint {
			GinkgoHelper()
			ep := fixtures.NewEndpoint(ns, name, spec)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			return fx.WaitReady(ep)
		}

		By("an edit in the dashboard: one PATCH of exactly the planned fields")
		edited := ready("edited", withOwnKey("agent"))
		pause(edited)
		_, err := sim.UpdateEndpoint(edited.Status.ID, krosaisim.EndpointPatch{Name: new("renamed in the dashboard"),
			Status: new("inactive")})
		Expect(err).NotTo(HaveOccurred())
		step, writes := unpause(edited)
		Expect(step.Action).To(Equal(plan.ActionUpdate))
		Expect(changedFields(step)).To(Equal([]string{"name", "status"}))
		Expect(operations(writes)).To(Equal([]string{"updateEndpoint"}))
		Expect(patchedFields(writes[0])).To(Equal(changedFields(step)))

		By("a deletion in the dashboard: created again")
		deleted := ready("deleted", withOwnKey("agent"))
		pause(deleted)
		Expect(sim.DeleteEndpoint(deleted.Status.ID)).To(Succeed())
		step, writes = unpause(deleted)
		Expect(step.Action).To(Equal(plan.ActionRecreate))
		Expect(operations(writes)).To(Equal([]string{"createEndpoint"}))

		By("ObserveOnly switched to Full: the SIP credentials, and nothing else")
		Expect(k8sClient.Create(ctx, newSIPSecret(ns, "sip", "pbx", fx.NewSecretValue("pbx-pw")))).To(Succeed())
		pbx := createRemoteFrom(key, org, map[string]any{"name": "PBX", "type": "custom_sip", "url": "sip:pbx@pbx.example.com",
			"provider_config": map[string]any{"sip_uri": "sip:pbx@pbx.example.com", "username": "pbx", "password": "dashboard-pw"}}).ID
		sip := cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP, DisplayName: "PBX",
			APIKeySecretRef:  &cockpitv1alpha1.LocalSecretReference{Name: "key"},
			ManagementPolicy: cockpitv1alpha1.ManagementPolicyObserveOnly,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:pbx@pbx.example.com",
				CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "sip"}}}
		observed := fixtures.NewEndpoint(ns, "pbx", sip)
		observed.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: pbx}
		Expect(k8sClient.Create(ctx, observed)).To(Succeed())
		fx.WaitReady(observed)
		pause(observed)
		update(observed, func(got *cockpitv1alpha1.KrosEndpoint) {
			got.Spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyFull
		})
		step, writes = unpause(observed)
		Expect(step.Action).To(Equal(plan.ActionUpdate))
		Expect(step.Changes).To(HaveEach(HaveField("Secret", BeTrue())))
		Expect(operations(writes)).To(Equal([]string{"updateEndpoint"}))
		Expect(patchedFields(writes[0])).To(Equal(changedFields(step)))

		By("a deletion: the endpoint deleted in KrosAI")
		gone := ready("gone", withOwnKey("agent"))
		pause(gone)
		Expect(k8sClient.Delete(ctx, gone)).To(Succeed())
		step, writes = unpause(gone)
		Expect(step.Action).To(Equal(plan.ActionDelete))
		Expect(operations(writes)).To(Equal([]string{"deleteEndpoint"}))
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
