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
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fixtures"
)

// Nothing changed means nothing written, and a status that is not fresh
// says so (issue 22). Each case failed before its fix.
var _ = Describe("Quiet at rest", func() {
	It("writes nothing to KrosAI or Kubernetes over three sync periods at rest, for every type and policy", func() {
		ns, key, org := fx.Isolated()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "vogent-sip", "vogent-user", fx.NewSecretValue("vogent-pass-")))).To(Succeed())
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "pbx-sip", "pbx-user", fx.NewSecretValue("pbx-pass-")))).To(Succeed())
		observed := createRemote(key, org, "dashboard-made", map[string]any{"elevenlabs_agent_id": "agent-d"})
		own := &cockpitv1alpha1.LocalSecretReference{Name: "key"}
		specs := everyType()
		eleven := specs["eleven"]
		eleven.Enabled = new(false)
		specs["eleven"] = eleven
		specs["observed"] = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs,
			ElevenLabs:       &cockpitv1alpha1.ElevenLabsConfig{AgentID: "other"},
			ManagementPolicy: cockpitv1alpha1.ManagementPolicyObserveOnly}
		for name, spec := range specs {
			spec.APIKeySecretRef = own
			ep := fixtures.NewEndpoint(ns, name, spec)
			if name == "observed" {
				ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: observed.ID}
			}
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		}
		for name, spec := range specs {
			fx.WaitReady(fixtures.NewEndpoint(ns, name, spec))
		}
		// The first sync after the creates: the list replaces the answers
		// to the operator's own writes, which is where a SIP login once
		// looked changed.
		time.Sleep(2 * syncPeriod)

		versions := resourceVersions(ns)
		writesBefore, eventsBefore := writesIn(org), eventsIn(ns)
		listsBefore := len(requests("listEndpoints", inOrg(org)))
		time.Sleep(3 * syncPeriod)

		Expect(len(requests("listEndpoints", inOrg(org)))).To(BeNumerically(">", listsBefore), "KrosAI was read meanwhile")
		Expect(writesIn(org)).To(Equal(writesBefore), "no POST, PATCH or DELETE at rest")
		Expect(resourceVersions(ns)).To(Equal(versions), "no status or metadata write at rest")
		Expect(eventsIn(ns)).To(Equal(eventsBefore), "no Event at rest")
	})

	It("keeps a Ready status through a short outage, says Stale past two sync periods, and Ready once read again", func() {
		ns, _, org := fx.Isolated()
		ep := fixtures.NewEndpoint(ns, "through-outage", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		fx.WaitReady(ep)
		time.Sleep(2 * syncPeriod) // past the answer to the create: now read by lists

		DeferCleanup(func() { Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed()) })
		Expect(sim.SetFaults(krosaisim.Faults{ListFault: krosaisim.ListFaultServerError})).To(Succeed())
		failingSince := len(requests("listEndpoints", inOrg(org)))

		// Every Ready reason the resource goes through until it is Stale:
		// Synced, then Stale, never the failure itself within the bound.
		var reasons []string
		Eventually(func() string {
			reason := readyReason(fx.Get(ep))
			if len(reasons) == 0 || reasons[len(reasons)-1] != reason {
				reasons = append(reasons, reason)
			}
			return reason
		}, timeout, 50*time.Millisecond).Should(Equal(cockpitv1alpha1.ReasonStale))
		Expect(reasons).To(Equal([]string{cockpitv1alpha1.ReasonSynced, cockpitv1alpha1.ReasonStale}))
		Expect(len(requests("listEndpoints", inOrg(org)))).To(BeNumerically(">", failingSince))

		got := fx.Get(ep)
		Expect(meta.IsStatusConditionTrue(got.Status.Conditions, cockpitv1alpha1.ConditionReconciling)).To(BeTrue(),
			"kstatus reads it as in progress, not Current")
		Expect(meta.FindStatusCondition(got.Status.Conditions, cockpitv1alpha1.ConditionReady).Message).
			To(ContainSubstring("has not been read for this endpoint since"))
		Expect(got.Status.State).To(Equal(cockpitv1alpha1.EndpointStateActive), "status still shows the endpoint as last read")

		Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed())
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonSynced))
	})

	It("waits out an outage with one shared reason, and resumes once KrosAI answers", func() {
		ns, _, _ := fx.Isolated()
		before := fixtures.NewEndpoint(ns, "before-outage", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, before)).To(Succeed())
		fx.WaitReady(before)

		DeferCleanup(func() { Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed()) })
		Expect(sim.SetFaults(krosaisim.Faults{FailRate: 1})).To(Succeed())
		during := fixtures.NewEndpoint(ns, "during-outage", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, during)).To(Succeed())
		Eventually(func() *metav1.Condition {
			return meta.FindStatusCondition(fx.Get(during).Status.Conditions, cockpitv1alpha1.ConditionReady)
		}, timeout, interval).Should(And(
			HaveField("Reason", cockpitv1alpha1.ReasonAPIUnavailable),
			HaveField("Message", ContainSubstring("KrosAI has failed every request for this organization since"))))

		Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed())
		fx.WaitReady(during)
		fx.WaitReady(before)
	})

	It("corrects a spec edit made against a stale list with one PATCH, whatever changed at KrosAI since", func() {
		ns, _, _ := fx.Isolated()
		ep := fixtures.NewEndpoint(ns, "stale-edit", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID
		time.Sleep(2 * syncPeriod) // now read from the shared list

		// A dashboard edit the operator has not listed yet, then a spec
		// edit of another field.
		_, err := sim.UpdateEndpoint(id, krosaisim.EndpointPatch{ProviderConfig: map[string]any{"elevenlabs_agent_id": "dashboard"}})
		Expect(err).NotTo(HaveOccurred())
		patchesBefore, getsBefore := len(requests("updateEndpoint", forID(id))), len(requests("getEndpoint", forID(id)))
		Expect(k8sClient.Patch(ctx, ep, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"displayName":"renamed"}}`)))).
			To(Succeed())
		fx.WaitReady(ep)

		Expect(remote(id).Name).To(Equal("renamed"))
		Expect(remote(id).ProviderConfig).To(HaveKeyWithValue("elevenlabs_agent_id", "agent"), "the dashboard edit undone too")
		Expect(requests("updateEndpoint", forID(id))).To(HaveLen(patchesBefore+1), "one PATCH")
		Expect(requests("getEndpoint", forID(id))).To(HaveLen(getsBefore), "no GET")
	})
})

// resourceVersions maps each KrosEndpoint of ns to its resourceVersion.
func resourceVersions(ns string) map[string]string {
	GinkgoHelper()
	var list cockpitv1alpha1.KrosEndpointList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	out := map[string]string{}
	for _, ep := range list.Items {
		out[ep.Name] = ep.ResourceVersion
	}
	return out
}

// writesIn counts the API's writes in org.
func writesIn(org string) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Org == org && r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// eventsIn counts each Event of ns, with its series count.
func eventsIn(ns string) map[string]int32 {
	GinkgoHelper()
	var list eventsv1.EventList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	out := map[string]int32{}
	for _, e := range list.Items {
		count := int32(1)
		if e.Series != nil {
			count = e.Series.Count
		}
		out[e.Name] = count
	}
	return out
}
