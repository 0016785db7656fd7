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
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/fixtures"
)

// What status says is what KrosAI has now, and each resource owns exactly
// the endpoint it created (issue 11). Each case failed before its fix.
var _ = Describe("Status never lies", func() {
	It("re-observes on unpause: an endpoint deleted while paused is created again, never reported Ready", func() {
		ns, _, _ := fx.Isolated()
		ep := fixtures.NewEndpoint(ns, "unpause", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID

		setAnnotation(ep, cockpitv1alpha1.AnnotationPaused, "true")
		patchAnnotations(ep)
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))
		Expect(sim.DeleteEndpoint(id)).To(Succeed())
		delete(ep.Annotations, cockpitv1alpha1.AnnotationPaused)
		patchAnnotations(ep)

		got := readyWithout(ep, func(got *cockpitv1alpha1.KrosEndpoint) bool { return got.Status.ID == id })
		Expect(got.Status.ID).NotTo(Equal(id))
		Expect(requests("getEndpoint", forID(id))).NotTo(BeEmpty(), "the deletion was read, not assumed")
		expectEvent(ns, "unpause", "Recreating")
	})

	It("follows a remote error: RemoteError, then Stalled after three syncs, then Ready when active again", func() {
		ns, _, _ := fx.Isolated()
		ep := fixtures.NewEndpoint(ns, "errs", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID

		_, err := sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Status: new("error")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonRemoteError))
		Expect(fx.Get(ep).Status.State).To(Equal(cockpitv1alpha1.EndpointStateError))
		fx.WaitStalled(ep, cockpitv1alpha1.ReasonRemoteError)

		_, err = sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Status: new("active")})
		Expect(err).NotTo(HaveOccurred())
		got := fx.WaitReady(ep)
		Expect(got.Status.ID).To(Equal(id))
		Expect(got.Status.State).To(Equal(cockpitv1alpha1.EndpointStateActive))
		Expect(meta.FindStatusCondition(got.Status.Conditions, cockpitv1alpha1.ConditionStalled)).To(BeNil())
		Expect(requests("updateEndpoint", forID(id))).To(BeEmpty(), "an endpoint in error is KrosAI's to recover")
	})

	It("creates again an endpoint deleted while in remote error", func() {
		ns, _, org := fx.Isolated()
		ep := fixtures.NewEndpoint(ns, "err-gone", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID
		_, err := sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Status: new("error")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonRemoteError))

		Expect(sim.DeleteEndpoint(id)).To(Succeed())
		got := readyWithout(ep, func(got *cockpitv1alpha1.KrosEndpoint) bool { return got.Status.ID == id })
		Expect(remote(got.Status.ID).Status).To(Equal("active"))
		Expect(remoteEndpoints(org)).To(HaveLen(1))
		expectEvent(ns, "err-gone", "Recreating")
	})

	It("never takes a failing list for deletions: zero creates while the list answers 404, 500 or garbage", func() {
		ns, _, org := fx.Isolated()
		eps := make([]*cockpitv1alpha1.KrosEndpoint, 3)
		for i := range eps {
			eps[i] = fixtures.NewEndpoint(ns, "listed-"+string(rune('a'+i)), fixtures.ElevenLabsWithOwnKey())
			Expect(k8sClient.Create(ctx, eps[i])).To(Succeed())
		}
		for _, ep := range eps {
			fx.WaitReady(ep)
		}
		DeferCleanup(func() { Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed()) })
		creates := len(requests("createEndpoint", inOrg(org)))

		for _, fault := range []string{krosaisim.ListFaultNotFound, krosaisim.ListFaultServerError, krosaisim.ListFaultGarbage} {
			By("a list that answers " + fault)
			Expect(sim.SetFaults(krosaisim.Faults{ListFault: fault})).To(Succeed())
			// Ready, they keep their status for two sync periods, then say
			// Stale: a failed list is not read as anything else.
			for _, ep := range eps {
				Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).
					Should(Equal(cockpitv1alpha1.ReasonStale), fault)
			}
			time.Sleep(2 * syncPeriod)
			Expect(requests("createEndpoint", inOrg(org))).To(HaveLen(creates), "no endpoint is created from a failed list")
			Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed())
			for _, ep := range eps {
				fx.WaitReady(ep)
			}
		}

		By("a list that silently leaves endpoints out")
		Expect(sim.SetFaults(krosaisim.Faults{ListFault: krosaisim.ListFaultIncomplete})).To(Succeed())
		gets := len(requests("getEndpoint", inOrg(org)))
		Eventually(func() int { return len(requests("getEndpoint", inOrg(org))) }, timeout, interval).
			Should(BeNumerically(">", gets), "what the list lacks is read with its own GET")
		time.Sleep(2 * syncPeriod)
		for _, ep := range eps {
			Expect(fx.Get(ep)).To(operatortest.BeReady())
		}
		Expect(requests("createEndpoint", inOrg(org))).To(HaveLen(creates))
		Expect(remoteEndpoints(org)).To(HaveLen(len(eps)))
	})

	DescribeTable("recovers an interrupted create by what it sent, never a twin's endpoint",
		func(twinFirst bool) {
			ns, key, org := fx.Isolated()
			twin := func(name, agent string) *cockpitv1alpha1.KrosEndpoint {
				spec := fixtures.ElevenLabsWithOwnKey()
				spec.DisplayName = "Sales line"
				spec.ElevenLabs.AgentID = agent
				ep := fixtures.NewEndpoint(ns, name, spec)
				ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationCreatePending: mapping.NewPendingCreate(
					time.Now().UTC(), mapping.Desired(ep, mapping.SIPLogin{})).String()}
				return ep
			}
			// A's create landed but its answer was lost; B's failed before it
			// landed. Both records survive.
			a, b := twin("twin-a", "agent-a"), twin("twin-b", "agent-b")
			made := createRemote(key, org, "Sales line", map[string]any{"elevenlabs_agent_id": "agent-a"})
			first, second := a, b
			if twinFirst {
				first, second = b, a
			}
			Expect(k8sClient.Create(ctx, first)).To(Succeed())
			fx.WaitReady(first)
			Expect(k8sClient.Create(ctx, second)).To(Succeed())
			fx.WaitReady(second)

			Expect(fx.Get(a).Status.ID).To(Equal(made.ID), "A adopts what its own create made")
			bID := fx.Get(b).Status.ID
			Expect(bID).NotTo(Equal(made.ID), "B never adopts A's endpoint")
			Expect(remote(made.ID).ProviderConfig).To(HaveKeyWithValue("elevenlabs_agent_id", "agent-a"),
				"A's phone line still rings A's agent")
			Expect(remote(bID).ProviderConfig).To(HaveKeyWithValue("elevenlabs_agent_id", "agent-b"))
			Expect(remoteEndpoints(org)).To(HaveLen(2))
			Expect(requests("updateEndpoint", forID(made.ID))).To(BeEmpty())
		},
		Entry("the owner recovers first", false),
		Entry("the twin recovers first", true),
	)

	It("stalls, naming both resources, when identical twins' records cannot tell whose the endpoint is", func() {
		ns, key, org := fx.Isolated()
		at := time.Now().UTC()
		identical := func(name string) *cockpitv1alpha1.KrosEndpoint {
			spec := fixtures.ElevenLabsWithOwnKey()
			spec.DisplayName = "Same line"
			ep := fixtures.NewEndpoint(ns, name, spec)
			ep.Annotations = map[string]string{
				cockpitv1alpha1.AnnotationCreatePending: mapping.NewPendingCreate(at, mapping.Desired(ep, mapping.SIPLogin{})).String(),
				// Both exist, each with its record, before either recovers.
				cockpitv1alpha1.AnnotationPaused: "true",
			}
			return ep
		}
		made := createRemote(key, org, "Same line", map[string]any{"elevenlabs_agent_id": "agent"})
		a, b := identical("same-a"), identical("same-b")
		Expect(k8sClient.Create(ctx, a)).To(Succeed())
		Expect(k8sClient.Create(ctx, b)).To(Succeed())
		for _, ep := range []*cockpitv1alpha1.KrosEndpoint{a, b} {
			Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))
		}
		for _, ep := range []*cockpitv1alpha1.KrosEndpoint{a, b} {
			delete(ep.Annotations, cockpitv1alpha1.AnnotationPaused)
			patchAnnotations(ep)
			cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonAmbiguousCreate)
			Expect(cond.Message).To(ContainSubstring(made.ID))
		}
		Expect(readyConditionMessage(fx.Get(a))).To(ContainSubstring("same-b"))
		Expect(readyConditionMessage(fx.Get(b))).To(ContainSubstring("same-a"))
		Expect(requests("createEndpoint", inOrg(org))).To(HaveLen(1), "nothing created while it is unclear")

		By("a person names the owner; the other creates its own")
		setAnnotation(a, cockpitv1alpha1.AnnotationEndpointID, made.ID)
		patchAnnotations(a)
		Expect(fx.WaitReady(a).Status.ID).To(Equal(made.ID))
		requestReconcile(b)
		Expect(fx.WaitReady(b).Status.ID).NotTo(Equal(made.ID))
		Expect(remoteEndpoints(org)).To(HaveLen(2))
	})

	It("refuses to follow credentials into another organization, and never leaves a second endpoint", func() {
		ns := fx.NewNamespace()
		key, org := fx.NewOrg()
		otherKey, otherOrg := fx.NewOrg()
		Expect(sim.AddKey(key, otherOrg)).To(Succeed()) // key reaches both; its default is org
		Expect(k8sClient.Create(ctx, fx.APIKeySecret(ns, "creds", key, ""))).To(Succeed())
		spec := elevenLabsSpec("agent")
		spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: "creds"}
		ep := fixtures.NewEndpoint(ns, "mover", spec)
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		got := fx.WaitReady(ep)
		id := got.Status.ID
		Expect(got.Status.OrganizationID).To(Equal(org))

		By("the Secret now names another organization")
		updateSecret(ns, "creds", map[string]string{cockpitv1alpha1.SecretKeyOrganizationID: otherOrg})
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonOrganizationChanged)
		Expect(cond.Message).To(ContainSubstring(org))
		Expect(cond.Message).To(ContainSubstring(otherOrg))

		By("the Secret's key is now another organization's key")
		updateSecret(ns, "creds", map[string]string{cockpitv1alpha1.SecretKeyAPIKey: otherKey, cockpitv1alpha1.SecretKeyOrganizationID: ""})
		Eventually(func() string { return readyConditionMessage(fx.Get(ep)) }, timeout, interval).Should(ContainSubstring("cannot reach"))
		cond = fx.WaitStalled(ep, cockpitv1alpha1.ReasonOrganizationChanged)
		Expect(cond.Message).To(ContainSubstring(org))
		Expect(cond.Message).To(ContainSubstring(`"creds"`))
		Expect(remoteEndpoints(otherOrg)).To(BeEmpty(), "no second endpoint in the other organization")
		Expect(remote(id).OrganizationID).To(Equal(org))

		By("deleting it asks for Orphan rather than hang or leave the endpoint silently")
		Expect(k8sClient.Delete(ctx, ep)).To(Succeed())
		Eventually(func() string { return readyConditionMessage(fx.Get(ep)) }, timeout, interval).Should(ContainSubstring("Orphan"))
		Expect(remote(id).OrganizationID).To(Equal(org), "nothing was deleted")
		patchSpec(ep, func(spec *cockpitv1alpha1.KrosEndpointSpec) {
			spec.DeletionPolicy = cockpitv1alpha1.DeletionPolicyOrphan
		})
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), &cockpitv1alpha1.KrosEndpoint{}))
		}, timeout, interval).Should(BeTrue())
		Expect(remote(id).OrganizationID).To(Equal(org), "orphaned, as asked")
	})

	It("drops one trailing newline from every Secret value, and pushes exactly the rest", func() {
		ns, key, org := fx.Isolated()
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "from-file"},
			Data: map[string][]byte{
				cockpitv1alpha1.SecretKeyAPIKey:         []byte(key + "\n"),
				cockpitv1alpha1.SecretKeyOrganizationID: []byte(org + "\n"),
			},
		})).To(Succeed())
		secretValues.Add("sip-pass-from-file", "a SIP password")
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sip-from-file"},
			Type:       corev1.SecretTypeBasicAuth,
			Data: map[string][]byte{
				corev1.BasicAuthUsernameKey: []byte("sip-user\n"),
				corev1.BasicAuthPasswordKey: []byte("sip-pass-from-file\r\n"),
			},
		})).To(Succeed())
		ep := fixtures.NewEndpoint(ns, "newlines", cockpitv1alpha1.KrosEndpointSpec{
			Type:            cockpitv1alpha1.EndpointTypeCustomSIP,
			CustomSIP:       &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:agent@pbx.example.com", CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "sip-from-file"}},
			APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "from-file"},
		})
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		got := fx.WaitReady(ep)
		Expect(got.Status.OrganizationID).To(Equal(org))
		pc := remote(got.Status.ID).ProviderConfig
		Expect(pc).To(HaveKeyWithValue("username", "sip-user"))
		Expect(pc).To(HaveKeyWithValue("password", "sip-pass-from-file"))
	})

	It("refuses a SIP password that is not valid UTF-8 instead of sending it altered", func() {
		ns, _, org := fx.Isolated()
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "latin1"},
			Type:       corev1.SecretTypeBasicAuth,
			Data:       map[string][]byte{corev1.BasicAuthUsernameKey: []byte("u"), corev1.BasicAuthPasswordKey: []byte("p\xe4ss")},
		})).To(Succeed())
		spec := fixtures.ElevenLabsWithOwnKey()
		spec.Type, spec.ElevenLabs = cockpitv1alpha1.EndpointTypeVogent, nil
		spec.Vogent = &cockpitv1alpha1.VogentConfig{SIPPrefix: "p", CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "latin1"}}
		ep := fixtures.NewEndpoint(ns, "latin1", spec)
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonSecretValueInvalid)
		Expect(cond.Message).To(ContainSubstring(`"password"`))
		Expect(cond.Message).To(ContainSubstring(`"latin1"`))
		Expect(cond.Message).To(ContainSubstring("UTF-8"))
		Expect(requests("createEndpoint", inOrg(org))).To(BeEmpty())
	})
})

// readyWithout waits for Ready on the current generation and fails if, on
// the way, status ever said Ready in a state forbidden names.
func readyWithout(ep *cockpitv1alpha1.KrosEndpoint, forbidden func(*cockpitv1alpha1.KrosEndpoint) bool) *cockpitv1alpha1.KrosEndpoint {
	GinkgoHelper()
	var got *cockpitv1alpha1.KrosEndpoint
	Eventually(func(g Gomega) {
		got = &cockpitv1alpha1.KrosEndpoint{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), got)).To(Succeed())
		if ready, _ := operatortest.BeReady().Match(got); ready && forbidden(got) {
			StopTrying("status reported Ready for a state KrosAI no longer has").Now()
		}
		g.Expect(got).To(operatortest.BeReady(), "conditions: %+v", got.Status.Conditions)
	}, timeout, 20*time.Millisecond).Should(Succeed())
	return got
}

func readyConditionMessage(ep *cockpitv1alpha1.KrosEndpoint) string {
	if c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReady); c != nil {
		return c.Message
	}
	return ""
}

// patchAnnotations writes ep's annotations as they are in memory.
func patchAnnotations(ep *cockpitv1alpha1.KrosEndpoint) {
	GinkgoHelper()
	current := fx.Get(ep)
	patch := client.MergeFrom(current.DeepCopy())
	current.Annotations = ep.Annotations
	Expect(k8sClient.Patch(ctx, current, patch)).To(Succeed())
}

// patchSpec changes the spec with a merge patch, which the operator's own
// status writes cannot make conflict.
func patchSpec(ep *cockpitv1alpha1.KrosEndpoint, mutate func(*cockpitv1alpha1.KrosEndpointSpec)) {
	GinkgoHelper()
	current := fx.Get(ep)
	patch := client.MergeFrom(current.DeepCopy())
	mutate(&current.Spec)
	Expect(k8sClient.Patch(ctx, current, patch)).To(Succeed())
}

// requestReconcile sets reconcile-requested-at to now.
func requestReconcile(ep *cockpitv1alpha1.KrosEndpoint) {
	current := fx.Get(ep)
	setAnnotation(current, cockpitv1alpha1.AnnotationReconcileRequestedAt, time.Now().Format(time.RFC3339Nano))
	ep.Annotations = current.Annotations
	patchAnnotations(ep)
}

// updateSecret sets (or, with an empty value, removes) keys of a Secret,
// with a merge patch: the operator adds its finalizer meanwhile.
func updateSecret(ns, name string, values map[string]string) {
	GinkgoHelper()
	var s corev1.Secret
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s)).To(Succeed())
	patch := client.MergeFrom(s.DeepCopy())
	for k, v := range values {
		if v == "" {
			delete(s.Data, k)
			continue
		}
		s.Data[k] = []byte(v)
	}
	Expect(k8sClient.Patch(ctx, &s, patch)).To(Succeed())
}

var _ = Describe("CacheOptions", func() {
	It("with --watch-namespaces, sees KrosEndpoints only there, and Secrets also in the operator's namespace", func() {
		watched, unlisted := fx.NewNamespace(), fx.NewNamespace()
		for _, ns := range []string{watched, unlisted, operatorNamespace} {
			ep := fixtures.NewEndpoint(ns, "scoped", elevenLabsSpec("a"))
			ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		}
		opts := CacheOptions(operatorNamespace, []string{watched})
		opts.Scheme = k8sClient.Scheme()
		c, err := cache.New(cp.Env.Config, opts)
		Expect(err).NotTo(HaveOccurred())
		cacheCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		go func() { _ = c.Start(cacheCtx) }()
		Expect(c.WaitForCacheSync(cacheCtx)).To(BeTrue())

		var seen cockpitv1alpha1.KrosEndpointList
		Expect(c.List(ctx, &seen)).To(Succeed())
		Expect(seen.Items).To(HaveLen(1))
		Expect(seen.Items[0].Namespace).To(Equal(watched))
		Expect(c.List(ctx, &seen, client.InNamespace(operatorNamespace))).NotTo(Succeed(),
			"the operator's namespace is not watched for KrosEndpoints")

		credentials := cluster.SecretMetadata()
		Expect(c.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "krosai-credentials"}, credentials)).To(Succeed(),
			"the default credentials are still read")
		Expect(c.Get(ctx, client.ObjectKey{Namespace: unlisted, Name: "any"}, cluster.SecretMetadata())).NotTo(Succeed())
	})
})
