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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/fixtures"
)

// Observe before you manage (issue 12).
var _ = Describe("managementPolicy ObserveOnly", func() {
	// writes counts the requests that change an endpoint of org.
	writes := func(org string) int {
		n := 0
		for _, op := range []string{"createEndpoint", "updateEndpoint", "deleteEndpoint"} {
			n += len(requests(op, inOrg(org)))
		}
		return n
	}
	// observeOnly is a resource observing id with the given agent and name.
	observeOnly := func(ns, name, id, agent, display string) *cockpitv1alpha1.KrosEndpoint {
		spec := fixtures.ElevenLabsWithOwnKey()
		spec.ElevenLabs.AgentID, spec.DisplayName = agent, display
		spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
		ep := fixtures.NewEndpoint(ns, name, spec)
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: id}
		return ep
	}

	It("reports drift without writing, clears it when the manifest is fixed, and applies what remains in one PATCH", func() {
		ns, key, org := fx.Isolated()
		dashboard := createRemote(key, org, "Clicked together", map[string]any{"elevenlabs_agent_id": "agent-dashboard"})
		_, err := sim.UpdateEndpoint(dashboard.ID, krosaisim.EndpointPatch{Status: new("inactive")})
		Expect(err).NotTo(HaveOccurred())
		ep := observeOnly(ns, "brownfield", dashboard.ID, "agent-git", "From Git")
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())

		got := fx.WaitReady(ep)
		Expect(got.Status.ID).To(Equal(dashboard.ID))
		Expect(got.Status.State).To(Equal(cockpitv1alpha1.EndpointStateInactive), "status mirrors KrosAI")
		Expect(got.Status.URL).To(Equal(remote(dashboard.ID).URL))
		Expect(got.Status.Drift).To(ConsistOf(
			cockpitv1alpha1.FieldDrift{Field: "name", SpecField: "spec.displayName", Observed: "Clicked together", Desired: "From Git"},
			cockpitv1alpha1.FieldDrift{Field: "status", SpecField: "spec.enabled", Observed: "inactive", Desired: "active"},
			cockpitv1alpha1.FieldDrift{Field: "provider_config.elevenlabs_agent_id", SpecField: "spec.elevenLabs.agentID",
				Observed: "agent-dashboard", Desired: "agent-git"},
		))
		synced := meta.FindStatusCondition(got.Status.Conditions, cockpitv1alpha1.ConditionSynced)
		Expect(synced.Status).To(Equal(metav1.ConditionFalse))
		Expect(synced.Reason).To(Equal(cockpitv1alpha1.ReasonDriftDetected))
		Expect(writes(org)).To(Equal(1), "only the dashboard's own create")
		time.Sleep(3 * syncPeriod)
		Expect(writes(org)).To(Equal(1), "no POST, PATCH or DELETE over several syncs")
		Expect(requests("listEndpoints", inOrg(org))).NotTo(BeEmpty(), "observed on the list-based schedule")

		By("fixing the manifest until the drift is empty")
		patchSpec(ep, func(spec *cockpitv1alpha1.KrosEndpointSpec) {
			spec.DisplayName, spec.ElevenLabs.AgentID, spec.Enabled = "Clicked together", "agent-dashboard", new(false)
		})
		Eventually(func(g Gomega) {
			got := fx.Get(ep)
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(got.Status.Drift).To(BeEmpty())
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, cockpitv1alpha1.ConditionSynced)).To(BeTrue())
		}, timeout, interval).Should(Succeed())

		By("switching to Full with no drift left: nothing is written")
		patchSpec(ep, func(spec *cockpitv1alpha1.KrosEndpointSpec) {
			spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyFull
		})
		fx.WaitReady(ep)
		time.Sleep(2 * syncPeriod)
		Expect(writes(org)).To(Equal(1))

		By("back to ObserveOnly, a dashboard edit is reported, and switching to Full applies it in one PATCH")
		patchSpec(ep, func(spec *cockpitv1alpha1.KrosEndpointSpec) {
			spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
		})
		fx.WaitReady(ep)
		_, err = sim.UpdateEndpoint(dashboard.ID, krosaisim.EndpointPatch{Name: new("Renamed in the dashboard")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() []cockpitv1alpha1.FieldDrift { return fx.Get(ep).Status.Drift }, timeout, interval).Should(ConsistOf(
			cockpitv1alpha1.FieldDrift{Field: "name", SpecField: "spec.displayName", Observed: "Renamed in the dashboard",
				Desired: "Clicked together"}))
		Expect(writes(org)).To(Equal(1), "ObserveOnly does not correct it")
		patchSpec(ep, func(spec *cockpitv1alpha1.KrosEndpointSpec) {
			spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyFull
		})
		Eventually(func() string { return remote(dashboard.ID).Name }, timeout, interval).Should(Equal("Clicked together"))
		Expect(fx.WaitReady(ep).Status.Drift).To(BeEmpty())
		patches := requests("updateEndpoint", forID(dashboard.ID))
		Expect(patches).To(HaveLen(1))
		// Computed against the shared list, the PATCH carries every field
		// the spec sets; it changes only the listed drift.
		Expect(string(patches[0].Body)).To(MatchJSON(
			`{"name":"Clicked together","status":"inactive","provider_config":{"elevenlabs_agent_id":"agent-dashboard"}}`),
			"the listed drift, the rest as KrosAI held it")
	})

	It("never deletes the endpoint, whatever deletionPolicy says", func() {
		ns, key, org := fx.Isolated()
		dashboard := createRemote(key, org, "Keep me", map[string]any{"elevenlabs_agent_id": "a"})
		ep := observeOnly(ns, "keep", dashboard.ID, "a", "Keep me")
		ep.Spec.DeletionPolicy = cockpitv1alpha1.DeletionPolicyDelete
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		fx.WaitReady(ep)
		Expect(k8sClient.Delete(ctx, ep)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), &cockpitv1alpha1.KrosEndpoint{}))
		}, timeout, interval).Should(BeTrue())
		Expect(remote(dashboard.ID).Name).To(Equal("Keep me"))
		Expect(writes(org)).To(Equal(1))
	})

	It("leaves its SIP Secret alone: it never pushes the login, so it adds no in-use finalizer", func() {
		ns, key, org := fx.Isolated()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "pbx-sip", "pbx", fx.NewSecretValue("pbx-pw")))).To(Succeed())
		pbx := createRemoteFrom(key, org, map[string]any{"name": "PBX", "type": "custom_sip", "url": "sip:pbx@pbx.example.com",
			"provider_config": map[string]any{"sip_uri": "sip:pbx@pbx.example.com", "username": "pbx", "password": "dashboard-pw"}})
		ep := fixtures.NewEndpoint(ns, "pbx", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
			DisplayName: "PBX", APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "key"},
			ManagementPolicy: cockpitv1alpha1.ManagementPolicyObserveOnly,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:pbx@pbx.example.com",
				CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "pbx-sip"}}})
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: pbx.ID}
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		fx.WaitReady(ep)
		finalizers := func(name string) []string {
			secret := cluster.SecretMetadata()
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, secret)).To(Succeed())
			return secret.Finalizers
		}
		Expect(finalizers("key")).To(ContainElement(cockpitv1alpha1.SecretInUseFinalizer), "its API key is read")
		Consistently(func() []string { return finalizers("pbx-sip") }, 2*syncPeriod, interval).
			ShouldNot(ContainElement(cockpitv1alpha1.SecretInUseFinalizer))

		By("switched to Full, it pushes the login, and protects the Secret first")
		patchSpec(ep, func(spec *cockpitv1alpha1.KrosEndpointSpec) {
			spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyFull
		})
		Eventually(func(g Gomega) {
			got := fx.Get(ep)
			g.Expect(got).To(operatortest.BeReady())
			g.Expect(got.Status.SecretResourceVersions).NotTo(BeEmpty())
		}, timeout, interval).Should(Succeed())
		Expect(finalizers("pbx-sip")).To(ContainElement(cockpitv1alpha1.SecretInUseFinalizer))

		By("status records the Secret's version after its own finalizer: nothing left to push, for a restart or a plan")
		secret := cluster.SecretMetadata()
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "pbx-sip"}, secret)).To(Succeed())
		Expect(fx.Get(ep).Status.SecretResourceVersions).To(ContainElement(
			cockpitv1alpha1.SecretResourceVersion{Name: "pbx-sip", ResourceVersion: secret.ResourceVersion}))
		Expect(requests("updateEndpoint", forID(pbx.ID))).To(HaveLen(1), "the login, pushed once")
	})

	It("stalls with a clear message without an endpoint id", func() {
		ns, _, org := fx.Isolated()
		ep := observeOnly(ns, "no-id", "", "a", "")
		ep.Annotations = nil
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonEndpointIDRequired)
		Expect(cond.Message).To(ContainSubstring(cockpitv1alpha1.AnnotationEndpointID))
		Expect(writes(org)).To(BeZero())
	})
})

var _ = Describe("Drift under managementPolicy Full", func() {
	It("corrects a dashboard edit at once, with an Event naming the fields and a metric", func() {
		ns, _, _ := fx.Isolated()
		ep := fixtures.NewEndpoint(ns, "corrected", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID
		before := counterValue("kros_operator_drift_corrections_total", "namespace", ns)

		_, err := sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Name: new("edited"),
			ProviderConfig: map[string]any{"elevenlabs_agent_id": "someone-else"}})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { return remote(id).Name }, timeout, interval).Should(Equal("corrected"))
		Expect(remote(id).ProviderConfig).To(HaveKeyWithValue("elevenlabs_agent_id", "agent"))
		expectEventNote(ns, "corrected", "DriftCorrected", "name, provider_config.elevenlabs_agent_id")
		Expect(counterValue("kros_operator_drift_corrections_total", "namespace", ns)).To(Equal(before + 1))
		got := fx.WaitReady(ep)
		Expect(got.Status.Drift).To(BeEmpty())
		Expect(meta.IsStatusConditionTrue(got.Status.Conditions, cockpitv1alpha1.ConditionSynced)).To(BeTrue())
	})
})

// expectEventNote waits for an Event of reason on the resource whose note
// contains note.
func expectEventNote(ns, name, reason, note string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		var events eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &events, client.InNamespace(ns))).To(Succeed())
		var notes []string
		for _, e := range events.Items {
			if e.Regarding.Name == name && e.Reason == reason {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring(note)))
	}, timeout, interval).Should(Succeed())
}
