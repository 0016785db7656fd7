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

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fixtures"
)

// Tenants reach only what is theirs (issue 23).
var _ = Describe("KrosGrants", func() {
	const phoneNumber = "44444444-4444-4444-8444-444444444444"

	// touching are the requests since that named endpoint id, or acted in
	// org.
	touching := func(since time.Time, id, org string) []krosaisim.RequestRecord {
		var out []krosaisim.RequestRecord
		for _, r := range sim.Requests() {
			if r.Time.After(since) && ((id != "" && r.EndpointID == id) || (org != "" && r.Org == org)) {
				out = append(out, r)
			}
		}
		return out
	}
	// grantFor gives namespace ns the credentials Secret secret of the
	// operator's namespace (none when empty), and removes the grant after
	// the test.
	grantFor := func(ns, secret string) *cockpitv1alpha1.KrosGrant {
		GinkgoHelper()
		g := &cockpitv1alpha1.KrosGrant{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: cockpitv1alpha1.KrosGrantSpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}}}
		if secret != "" {
			g.Spec.CredentialsSecretRef = &cockpitv1alpha1.LocalSecretReference{Name: secret}
		}
		Expect(k8sClient.Create(ctx, g)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, g))).To(Succeed()) })
		return g
	}
	// sharedSpec uses the namespace's shared credentials.
	sharedSpec := func(agent string) cockpitv1alpha1.KrosEndpointSpec { return elevenLabsSpec(agent) }
	naming := func(ep *cockpitv1alpha1.KrosEndpoint, id string) *cockpitv1alpha1.KrosEndpoint {
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: id}
		return ep
	}

	It("keeps a namespace to what its grant gives, refusing before any API call, and lets it reach what it is granted", func() {
		ns := fx.NewNamespace()
		key, org := fx.NewOrg()
		_, elsewhere := fx.NewOrg()
		Expect(sim.AddKey(key, elsewhere)).To(Succeed(), "the platform's key reaches a second organization")
		secretName := "krosai-" + ns
		Expect(k8sClient.Create(ctx, fx.APIKeySecret(operatorNamespace, secretName, key, org))).To(Succeed())
		grant := grantFor(ns, secretName)
		toAdopt := createRemote(key, org, "Another team's line", map[string]any{"elevenlabs_agent_id": "their-agent"})
		toObserve := createRemote(key, org, "Another team's desk", map[string]any{"elevenlabs_agent_id": "their-desk"})
		theirHook := createRemoteFrom(key, org, map[string]any{"name": "Another team's events", "type": "webhook",
			"url": "https://hooks.example.com/theirs"})
		secretValues.Add(theirHook.Secret, "another team's webhook signing secret")
		since := time.Now()

		By("creating its own endpoint with the granted credentials: no grant needed")
		own := fixtures.NewEndpoint(ns, "own", sharedSpec("our-agent"))
		Expect(k8sClient.Create(ctx, own)).To(Succeed())
		ownID := fx.WaitReady(own).Status.ID

		By("naming endpoints, a phone number and an organization it was not granted")
		adopt := naming(fixtures.NewEndpoint(ns, "adopt", sharedSpec("our-agent")), toAdopt.ID)
		observe := naming(fixtures.NewEndpoint(ns, "observe", sharedSpec("their-desk")), toObserve.ID)
		observe.Spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
		phone := fixtures.NewEndpoint(ns, "phone", sharedSpec("our-agent"))
		phone.Spec.DisplayName, phone.Spec.PhoneNumberID = "Our hotline", phoneNumber
		otherOrg := fixtures.NewEndpoint(ns, "other-org", sharedSpec("our-agent"))
		otherOrg.Spec.OrganizationID = elsewhere
		hook := naming(fixtures.NewEndpoint(ns, "hook", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
			DisplayName: "Another team's events", DeletionPolicy: cockpitv1alpha1.DeletionPolicyOrphan,
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/theirs"}}), theirHook.ID)
		refused := []*cockpitv1alpha1.KrosEndpoint{adopt, observe, phone, otherOrg, hook}
		for _, ep := range refused {
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		}
		for _, ep := range refused {
			cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonNotGranted)
			Expect(cond.Message).To(ContainSubstring("KrosGrant"))
			Expect(cond.Message).NotTo(ContainSubstring("Another team"), "nothing of the endpoint is shown")
			Expect(fx.Get(ep).Finalizers).To(BeEmpty(), "deleting it can delete nothing")
		}
		Expect(touching(since, toAdopt.ID, "")).To(BeEmpty(), "not read, patched or deleted")
		Expect(touching(since, toObserve.ID, "")).To(BeEmpty())
		Expect(touching(since, theirHook.ID, "")).To(BeEmpty())
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hook-webhook-signing"}, &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "another team's signing secret is not written here: %v", err)
		Expect(touching(since, "", elsewhere)).To(BeEmpty(), "nothing sent to the organization not granted")
		Expect(requests("createEndpoint", named("Our hotline"))).To(BeEmpty())

		By("re-routing its own resource to another team's endpoint")
		current := fx.Get(own)
		setAnnotation(current, cockpitv1alpha1.AnnotationEndpointID, toAdopt.ID)
		own.Annotations = current.Annotations
		patchAnnotations(own)
		fx.WaitStalled(own, cockpitv1alpha1.ReasonNotGranted)
		Expect(touching(since, toAdopt.ID, "")).To(BeEmpty())
		setAnnotation(own, cockpitv1alpha1.AnnotationEndpointID, ownID)
		patchAnnotations(own)
		Expect(fx.WaitReady(own).Status.ID).To(Equal(ownID))

		By("deleting the resource that named it: nothing is deleted")
		Expect(k8sClient.Delete(ctx, adopt)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(adopt), &cockpitv1alpha1.KrosEndpoint{}))
		}, timeout, interval).Should(BeTrue())
		Expect(touching(since, toAdopt.ID, "")).To(BeEmpty())
		remote(toAdopt.ID)

		By("granting each: the stalled resources go ahead without being touched")
		current2 := &cockpitv1alpha1.KrosGrant{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(grant), current2)).To(Succeed())
		patch := client.MergeFrom(current2.DeepCopy())
		current2.Spec.EndpointIDs = []string{toAdopt.ID, toObserve.ID}
		current2.Spec.PhoneNumberIDs = []string{phoneNumber}
		current2.Spec.OrganizationIDs = []string{elsewhere}
		Expect(k8sClient.Patch(ctx, current2, patch)).To(Succeed())
		Expect(fx.WaitReady(observe).Status.ID).To(Equal(toObserve.ID))
		Expect(fx.WaitReady(phone).Status.ID).NotTo(BeEmpty())
		Expect(fx.WaitReady(otherOrg).Status.OrganizationID).To(Equal(elsewhere))
		adopted := naming(fixtures.NewEndpoint(ns, "adopted", sharedSpec("our-agent")), toAdopt.ID)
		Expect(k8sClient.Create(ctx, adopted)).To(Succeed())
		Expect(fx.WaitReady(adopted).Status.ID).To(Equal(toAdopt.ID))
		Expect(remote(toAdopt.ID).ProviderConfig["elevenlabs_agent_id"]).To(Equal("our-agent"))
	})

	It("lets a grant of nothing take the shared credentials from a namespace, which may bring its own", func() {
		ns, _, _ := fx.Isolated()
		grantFor(ns, "")
		shared := fixtures.NewEndpoint(ns, "shared", elevenLabsSpec("a"))
		shared.Spec.DisplayName = "Lockdown " + ns
		Expect(k8sClient.Create(ctx, shared)).To(Succeed())
		cond := fx.WaitStalled(shared, cockpitv1alpha1.ReasonNotGranted)
		Expect(cond.Message).To(ContainSubstring("spec.apiKeySecretRef"))
		Expect(requests("createEndpoint", named(shared.Spec.DisplayName))).To(BeEmpty())

		own := fixtures.NewEndpoint(ns, "own", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, own)).To(Succeed())
		fx.WaitReady(own)
	})

	It("recovers what its own interrupted create made, with no grant", func() {
		ns := fx.NewNamespace()
		key, org := fx.NewOrg()
		secretName := "krosai-" + ns
		Expect(k8sClient.Create(ctx, fx.APIKeySecret(operatorNamespace, secretName, key, org))).To(Succeed())
		grantFor(ns, secretName)
		ep := fixtures.NewEndpoint(ns, "interrupted", sharedSpec("agent"))
		ep.Spec.DisplayName = "Interrupted " + ns
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationPaused: "true",
			cockpitv1alpha1.AnnotationCreatePending: time.Now().UTC().Format(time.RFC3339Nano)}
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		made := createRemote(key, org, ep.Spec.DisplayName, map[string]any{"elevenlabs_agent_id": "agent"})

		current := fx.Get(ep)
		delete(current.Annotations, cockpitv1alpha1.AnnotationPaused)
		ep.Annotations = current.Annotations
		patchAnnotations(ep)
		Expect(fx.WaitReady(ep).Status.ID).To(Equal(made.ID))
		Expect(requests("createEndpoint", named(ep.Spec.DisplayName))).To(HaveLen(1), "only the interrupted one")
	})

	It("gives one phone number to one resource, and names no other namespace's resource to a tenant", func() {
		first, second := fx.NewNamespace(), fx.NewNamespace()
		number := uuid.NewString()
		holder := fixtures.NewEndpoint(first, "holder", elevenLabsSpec("a"))
		holder.Spec.PhoneNumberID = number
		Expect(k8sClient.Create(ctx, holder)).To(Succeed())
		holderID := fx.WaitReady(holder).Status.ID

		late := fixtures.NewEndpoint(second, "late", elevenLabsSpec("b"))
		late.Spec.DisplayName, late.Spec.PhoneNumberID = "Late "+second, number
		Expect(k8sClient.Create(ctx, late)).To(Succeed())
		cond := fx.WaitStalled(late, cockpitv1alpha1.ReasonPhoneNumberClaimed)
		Expect(cond.Message).To(ContainSubstring("a KrosEndpoint in another namespace"))
		Expect(cond.Message).NotTo(ContainSubstring(first))
		Expect(requests("createEndpoint", named(late.Spec.DisplayName))).To(BeEmpty())

		taker := naming(fixtures.NewEndpoint(second, "taker", elevenLabsSpec("b")), holderID)
		Expect(k8sClient.Create(ctx, taker)).To(Succeed())
		cond = fx.WaitStalled(taker, cockpitv1alpha1.ReasonEndpointOwnedByAnother)
		Expect(cond.Message).NotTo(ContainSubstring(first))
		Expect(controllerutil.ContainsFinalizer(fx.Get(taker), cockpitv1alpha1.Finalizer)).To(BeFalse())
	})
})
