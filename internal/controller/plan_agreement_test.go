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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/plan"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fixtures"
)

// What `kubectl krosai plan` predicts is what the operator then does: for
// each kind of decision, resources are paused, planned as they will be once
// unpaused, then unpaused; the operator must send exactly the writes the
// plan names for each (writesNamed), no more, and stall with the reason the
// plan gives when it is blocked.
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

	// unpause plans the paused eps as they will be unpaused, unpauses them,
	// waits for the operator to settle, and checks that each got exactly
	// the writes its step names. It returns the steps.
	unpause := func(eps ...*cockpitv1alpha1.KrosEndpoint) []plan.Step {
		GinkgoHelper()
		unpaused := make([]cockpitv1alpha1.KrosEndpoint, 0, len(eps))
		for _, ep := range eps {
			got := fx.Get(ep)
			delete(got.Annotations, cockpitv1alpha1.AnnotationPaused)
			unpaused = append(unpaused, *got)
		}
		predicted, err := planner.Plan(ctx, unpaused, false)
		Expect(err).NotTo(HaveOccurred())
		steps := map[string]plan.Step{}
		for _, step := range predicted.Items {
			GinkgoWriter.Printf("plan for %s: %s %s %v: %s\n", step.Name, step.Action, step.EndpointID, step.Changes, step.Message)
			steps[step.Name] = step
		}

		since := len(sim.Requests())
		for _, ep := range eps {
			update(ep, func(got *cockpitv1alpha1.KrosEndpoint) { delete(got.Annotations, cockpitv1alpha1.AnnotationPaused) })
		}
		out := make([]plan.Step, 0, len(eps))
		for i, ep := range eps {
			step := steps[ep.Name]
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
			ids := []string{unpaused[i].Status.ID, unpaused[i].Annotations[cockpitv1alpha1.AnnotationEndpointID], step.EndpointID}
			if got := (&cockpitv1alpha1.KrosEndpoint{}); k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), got) == nil {
				ids = append(ids, got.Status.ID)
			}
			var writes []krosaisim.RequestRecord
			for _, r := range sim.Requests()[since:] {
				if r.Method == "GET" {
					continue
				}
				if named(cmp.Or(unpaused[i].Spec.DisplayName, unpaused[i].Name))(r) ||
					slices.ContainsFunc(ids, func(id string) bool { return id != "" && forID(id)(r) }) {
					writes = append(writes, r)
				}
			}
			Expect(operations(writes)).To(Equal(writesNamed(step)), "the writes for %s", ep.Name)
			for _, w := range writes {
				if w.Operation == "updateEndpoint" {
					Expect(patchedFields(w)).To(Equal(patchNamed(step)), "the PATCH for %s", ep.Name)
				}
			}
			out = append(out, step)
		}
		return out
	}

	// paused creates a resource paused, and waits until the operator says so.
	paused := func(name string, spec cockpitv1alpha1.KrosEndpointSpec, annotations map[string]string) *cockpitv1alpha1.KrosEndpoint {
		GinkgoHelper()
		ep := fixtures.NewEndpoint(ns, name, spec)
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}
		maps.Copy(ep.Annotations, annotations)
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))
		return ep
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

	It("agree for new resources: create, recover, adopt, or blocked", func() {
		inLine := createRemote(key, org, "in line", map[string]any{"elevenlabs_agent_id": "agent"})
		changed := createRemote(key, org, "changed", map[string]any{"elevenlabs_agent_id": "old-agent"})

		By("a new resource: one POST")
		Expect(unpause(paused("new", withOwnKey("agent"), nil))).To(ConsistOf(HaveField("Action", plan.ActionCreate)))

		By("a new disabled resource: the POST, then the PATCH of the status the create cannot set")
		disabled := withOwnKey("agent")
		disabled.Enabled = new(false)
		steps := unpause(paused("disabled", disabled, nil))
		Expect(steps[0].Action).To(Equal(plan.ActionCreate))
		Expect(changedFields(steps[0])).To(ContainElement("status"))

		By("an interrupted create that made its endpoint: taken over, nothing written")
		pendingSince := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
		made := createRemote(key, org, "interrupted", map[string]any{"elevenlabs_agent_id": "agent"})
		steps = unpause(paused("interrupted", withOwnKey("agent"),
			map[string]string{cockpitv1alpha1.AnnotationCreatePending: pendingSince}))
		Expect(steps[0].Action).To(Equal(plan.ActionAdopt))
		Expect(steps[0].EndpointID).To(Equal(made.ID))

		By("adopting an endpoint that matches: no write")
		matching := withOwnKey("agent")
		matching.DisplayName = "in line"
		steps = unpause(paused("in-line", matching, map[string]string{cockpitv1alpha1.AnnotationEndpointID: inLine.ID}))
		Expect(steps[0].Action).To(Equal(plan.ActionAdopt))
		Expect(steps[0].Changes).To(BeEmpty())

		By("adopting an endpoint that differs: one PATCH of exactly the planned fields")
		differing := withOwnKey("new-agent")
		differing.DisplayName = "changed, renamed"
		steps = unpause(paused("changed", differing, map[string]string{cockpitv1alpha1.AnnotationEndpointID: changed.ID}))
		Expect(steps[0].Action).To(Equal(plan.ActionAdopt))
		Expect(changedFields(steps[0])).To(Equal([]string{"name", "provider_config"}))

		By("an endpoint another resource owns: blocked, and the operator stalls with the same reason")
		steps = unpause(paused("second-owner", matching, map[string]string{cockpitv1alpha1.AnnotationEndpointID: inLine.ID}))
		Expect(steps[0].Reason).To(Equal(cockpitv1alpha1.ReasonEndpointOwnedByAnother))

		By("two resources naming one endpoint at once: both blocked, and both stall")
		spare := createRemote(key, org, "spare", map[string]any{"elevenlabs_agent_id": "agent"})
		steps = unpause(paused("twin-a", matching, map[string]string{cockpitv1alpha1.AnnotationEndpointID: spare.ID}),
			paused("twin-b", matching, map[string]string{cockpitv1alpha1.AnnotationEndpointID: spare.ID}))
		Expect(steps).To(HaveEach(HaveField("Reason", cockpitv1alpha1.ReasonEndpointOwnedByAnother)))

		By("a webhook whose signing Secret's name is taken: blocked before the create, and the operator creates nothing")
		Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hooked-webhook-signing"}})).
			To(Succeed())
		steps = unpause(paused("hooked", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
			APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "key"},
			Webhook:         &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/hooked"}}, nil))
		Expect(steps[0].Reason).To(Equal(cockpitv1alpha1.ReasonSigningSecretConflict))

		By("a missing SIP Secret: blocked, and the operator stalls with the same reason")
		sip := cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVogent,
			APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "key"},
			Vogent: &cockpitv1alpha1.VogentConfig{AgentID: "v", SIPPrefix: "p",
				CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "absent"}}}
		steps = unpause(paused("no-secret", sip, nil))
		Expect(steps[0].Reason).To(Equal(cockpitv1alpha1.ReasonSecretNotFound))
	})

	It("agree under KrosGrants: what is not granted is blocked, and the operator stalls alike without a call", func() {
		secretName := "krosai-plan-" + ns
		Expect(k8sClient.Create(ctx, fx.APIKeySecret(operatorNamespace, secretName, key, org))).To(Succeed())
		grant := &cockpitv1alpha1.KrosGrant{ObjectMeta: metav1.ObjectMeta{Name: "plan-" + ns}, Spec: cockpitv1alpha1.KrosGrantSpec{
			NamespaceSelector:    metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
			CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: secretName}}}
		Expect(k8sClient.Create(ctx, grant)).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, grant)).To(Succeed()) })
		theirs := createRemote(key, org, "theirs", map[string]any{"elevenlabs_agent_id": "agent"})
		shared := elevenLabsSpec("agent")
		shared.DisplayName = "theirs"

		By("a new resource on the granted credentials: one POST")
		Expect(unpause(paused("granted-new", elevenLabsSpec("agent"), nil))).To(ConsistOf(HaveField("Action", plan.ActionCreate)))

		By("an endpoint it did not create, not granted: blocked")
		notGranted := paused("not-granted", shared, map[string]string{cockpitv1alpha1.AnnotationEndpointID: theirs.ID})
		steps := unpause(notGranted)
		Expect(steps[0].Reason).To(Equal(cockpitv1alpha1.ReasonNotGranted))
		Expect(k8sClient.Delete(ctx, notGranted)).To(Succeed(), "it has no finalizer: it goes at once, and deletes nothing")

		By("a phone number not granted: blocked")
		withPhone := elevenLabsSpec("agent")
		withPhone.PhoneNumberID = "66666666-6666-4666-8666-666666666666"
		steps = unpause(paused("phone", withPhone, nil))
		Expect(steps[0].Reason).To(Equal(cockpitv1alpha1.ReasonNotGranted))

		By("granted: adopted")
		Eventually(func() error {
			current := &cockpitv1alpha1.KrosGrant{}
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(grant), current); err != nil {
				return err
			}
			current.Spec.EndpointIDs = []string{theirs.ID}
			return k8sClient.Update(ctx, current)
		}, timeout, interval).Should(Succeed())
		steps = unpause(paused("granted", shared, map[string]string{cockpitv1alpha1.AnnotationEndpointID: theirs.ID}))
		Expect(steps[0].Action).To(Equal(plan.ActionAdopt))
	})

	It("agree for resources that exist: nothing, dashboard edits and deletions, a switch to Full, a key moved, deletions", func() {
		ready := func(name string, spec cockpitv1alpha1.KrosEndpointSpec) *cockpitv1alpha1.KrosEndpoint {
			GinkgoHelper()
			ep := fixtures.NewEndpoint(ns, name, spec)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			return fx.WaitReady(ep)
		}

		By("nothing changed: nothing written")
		quiet := ready("quiet", withOwnKey("agent"))
		pause(quiet)
		Expect(unpause(quiet)).To(ConsistOf(HaveField("Action", plan.ActionNone)))

		By("an edit in the dashboard: one PATCH of exactly the planned fields")
		edited := ready("edited", withOwnKey("agent"))
		pause(edited)
		_, err := sim.UpdateEndpoint(edited.Status.ID, krosaisim.EndpointPatch{Name: new("renamed in the dashboard"),
			Status: new("inactive")})
		Expect(err).NotTo(HaveOccurred())
		steps := unpause(edited)
		Expect(steps[0].Action).To(Equal(plan.ActionUpdate))
		Expect(changedFields(steps[0])).To(Equal([]string{"name", "status"}))

		By("a deletion in the dashboard: created again")
		deleted := ready("deleted", withOwnKey("agent"))
		pause(deleted)
		Expect(sim.DeleteEndpoint(deleted.Status.ID)).To(Succeed())
		Expect(unpause(deleted)).To(ConsistOf(HaveField("Action", plan.ActionRecreate)))

		By("ObserveOnly switched to Full: the SIP login, and nothing else")
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip", "pbx", fx.NewSecretValue("pbx-pw")))).To(Succeed())
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
		steps = unpause(observed)
		Expect(steps[0].Action).To(Equal(plan.ActionUpdate))
		Expect(steps[0].Changes).To(HaveEach(HaveField("Secret", BeTrue())))

		By("a deletion: the endpoint deleted in KrosAI")
		gone := ready("gone", withOwnKey("agent"))
		pause(gone)
		Expect(k8sClient.Delete(ctx, gone)).To(Succeed())
		Expect(unpause(gone)).To(ConsistOf(HaveField("Action", plan.ActionDelete)))

		By("a deletion with deletionPolicy Orphan: the endpoint left in KrosAI")
		orphaned := withOwnKey("agent")
		orphaned.DeletionPolicy = cockpitv1alpha1.DeletionPolicyOrphan
		left := ready("left", orphaned)
		pause(left)
		Expect(k8sClient.Delete(ctx, left)).To(Succeed())
		Expect(unpause(left)).To(ConsistOf(HaveField("Action", plan.ActionOrphan)))

		By("the key Secret now holds a key of another organization: blocked on the organization, as the operator stalls")
		moved := ready("moved", withOwnKey("agent"))
		pause(moved)
		otherKey, _ := fx.NewOrg()
		Eventually(func() error {
			secret := &corev1.Secret{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "key"}, secret); err != nil {
				return err
			}
			secret.Data = map[string][]byte{cockpitv1alpha1.SecretKeyAPIKey: []byte(otherKey)}
			return k8sClient.Update(ctx, secret)
		}, timeout, interval).Should(Succeed())
		steps = unpause(moved)
		Expect(steps[0].Reason).To(Equal(cockpitv1alpha1.ReasonOrganizationChanged))
	})
})

// writesNamed are the writes a step names, in order: a create's POST, and
// the PATCH of what a create cannot carry; an adoption's or update's PATCH
// when it changes anything; a deletion's DELETE; nothing else.
func writesNamed(s plan.Step) []string {
	switch s.Action {
	case plan.ActionCreate, plan.ActionRecreate:
		if slices.Contains(changedFields(s), "status") {
			return []string{"createEndpoint", "updateEndpoint"}
		}
		return []string{"createEndpoint"}
	case plan.ActionAdopt, plan.ActionUpdate:
		if len(s.Changes) > 0 {
			return []string{"updateEndpoint"}
		}
	case plan.ActionDelete:
		return []string{"deleteEndpoint"}
	}
	return []string{}
}

// patchNamed are the top-level fields of the PATCH a step names: after a
// create, the status the create cannot carry; else every field it changes.
func patchNamed(s plan.Step) []string {
	if s.Action == plan.ActionCreate || s.Action == plan.ActionRecreate {
		return []string{"status"}
	}
	return changedFields(s)
}

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
