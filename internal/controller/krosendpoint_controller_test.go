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
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/fixtures"
)

var _ = Describe("KrosEndpoint controller", func() {
	It("creates an endpoint of every type and reports it", func() {
		ns := fx.NewNamespace()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "vogent-sip", "vogent-user", "vogent-pass-1"))).To(Succeed())
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "pbx-sip", "pbx-user", "pbx-pass-1"))).To(Succeed())
		specs := everyType()
		for name, spec := range specs {
			Expect(k8sClient.Create(ctx, fixtures.NewEndpoint(ns, name, spec))).To(Succeed())
		}
		want := map[string]map[string]any{
			"vapi":    {"assistant_id": "asst-1", "credential_id": "cred-1", "vapi_phone_number_id": "pn-1"},
			"retell":  {"agent_id": "agent-r", "retell_phone_number": "+14155550100"},
			"eleven":  {"elevenlabs_agent_id": "agent-e"},
			"livekit": {"livekit_agent_name": "lk-agent", "livekit_sip_trunk_id": "ST_1", "livekit_sip_uri": "sip:x.sip.livekit.cloud"},
			"vogent": {"vogent_agent_id": "vg-1", "vogent_sip_prefix": "pre",
				"vogent_sip_username": "vogent-user", "vogent_sip_password": "vogent-pass-1"},
			"pbx": {"sip_uri": "sips:desk@pbx.example.com", "username": "pbx-user", "password": "pbx-pass-1"},
		}
		for name, spec := range specs {
			ep := fx.WaitReady(fixtures.NewEndpoint(ns, name, spec))
			id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
			Expect(id).NotTo(BeEmpty())
			Expect(ep.Status.ID).To(Equal(id))
			Expect(ep.Status.State).To(Equal(cockpitv1alpha1.EndpointStateActive))
			Expect(ep.Status.OrganizationID).To(Equal(defaultOrg))
			Expect(ep.Annotations).NotTo(HaveKey(cockpitv1alpha1.AnnotationCreatePending))
			Expect(ep.Finalizers).To(ContainElement(cockpitv1alpha1.Finalizer))
			r := remote(id)
			Expect(r.Type).To(Equal(string(spec.Type)))
			Expect(ep.Status.URL).To(Equal(r.URL))
			if name == "hook" {
				Expect(r.Name).To(Equal("Call events"))
				Expect(r.URL).To(Equal("https://hooks.example.com/calls"))
				Expect(ep.Status.SIPURI).To(BeEmpty())
			} else {
				Expect(r.Name).To(Equal(name), "displayName defaults to metadata.name")
				Expect(ep.Status.SIPURI).To(Equal(r.URL))
				Expect(ep.Status.SIPURI).To(HavePrefix("sip"))
				Expect(r.ProviderConfig).To(Equal(want[name]))
			}
			Expect(requests("createEndpoint", func(rec krosaisim.RequestRecord) bool {
				return rec.Org == defaultOrg && named(r.Name)(rec)
			})).To(HaveLen(1), "one POST for %s", name)
		}
	})

	It("writes the webhook signing secret to a Secret the resource owns", func() {
		ns := fx.NewNamespace()
		ep := fixtures.NewEndpoint(ns, "signed", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/signed"}})
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		ep = fx.WaitReady(ep)
		Expect(ep.Status.SigningSecretName).To(Equal("signed-webhook-signing"))
		r := remote(ep.Status.ID)
		Expect(r.Secret).To(HavePrefix("whsec_"))
		secretValues.Add(r.Secret, "a signing secret")
		var secret corev1.Secret
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: ep.Status.SigningSecretName}, &secret)).To(Succeed())
		Expect(string(secret.Data[cockpitv1alpha1.SecretKeySigningSecret])).To(Equal(r.Secret))
		Expect(metav1.IsControlledBy(&secret, ep)).To(BeTrue())

		By("rewriting it when someone deletes it")
		Expect(k8sClient.Delete(ctx, &secret)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: ep.Status.SigningSecretName}, &corev1.Secret{})
		}, timeout, interval).Should(Succeed())
	})

	It("sends exactly one PATCH with only the changed fields for a spec edit", func() {
		ns := fx.NewNamespace()
		ep := fixtures.NewEndpoint(ns, "edit", elevenLabsSpec("agent-1"))
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		ep = fx.WaitReady(ep)
		id := ep.Status.ID

		ep.Spec.DisplayName = "Renamed"
		Expect(k8sClient.Update(ctx, ep)).To(Succeed())
		fx.WaitReady(ep)
		Expect(remote(id).Name).To(Equal("Renamed"))
		patches := requests("updateEndpoint", forID(id))
		Expect(patches).To(HaveLen(1))
		Expect(string(patches[0].Body)).To(MatchJSON(`{"name":"Renamed"}`))

		By("disabling it")
		ep = fx.Get(ep)
		ep.Spec.Enabled = new(false)
		Expect(k8sClient.Update(ctx, ep)).To(Succeed())
		ep = fx.WaitReady(ep)
		Expect(ep.Status.State).To(Equal(cockpitv1alpha1.EndpointStateInactive))
		Expect(remote(id).Status).To(Equal("inactive"))
		Expect(requests("updateEndpoint", forID(id))).To(HaveLen(2))
		Expect(requests("createEndpoint", named("Renamed"))).To(BeEmpty())
	})

	It("at rest makes no writes and one list per organization per sync period", func() {
		ns, _, org := fx.Isolated()
		eps := make([]*cockpitv1alpha1.KrosEndpoint, 0, 5)
		for i := range 5 {
			spec := fixtures.ElevenLabsWithOwnKey()
			ep := fixtures.NewEndpoint(ns, "rest-"+string(rune('a'+i)), spec)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			eps = append(eps, ep)
		}
		for _, ep := range eps {
			fx.WaitReady(ep)
		}
		// Let the first sync after creation settle, then count a quiet window.
		time.Sleep(2 * syncPeriod)
		before := len(sim.Requests())
		const periods = 4
		time.Sleep(periods * syncPeriod)
		var lists, others int
		for _, r := range sim.Requests()[before:] {
			if r.Org != org {
				continue
			}
			if r.Operation == "listEndpoints" {
				lists++
			} else {
				others++
			}
		}
		Expect(others).To(BeZero(), "no GET, PATCH or POST at rest")
		Expect(lists).To(BeNumerically(">=", 1), "drift is still observed")
		Expect(lists).To(BeNumerically("<=", periods+1), "one list per sync period, not one GET per resource")
	})

	It("corrects a dashboard edit and re-creates an endpoint deleted outside Kubernetes", func() {
		ns := fx.NewNamespace()
		ep := fixtures.NewEndpoint(ns, "drift", elevenLabsSpec("agent-d"))
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID

		_, err := sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Name: new("edited in the dashboard")})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { return remote(id).Name }, timeout, interval).Should(Equal("drift"))

		Expect(sim.DeleteEndpoint(id)).To(Succeed())
		// status.id comes first, then the annotation (create.go, recordID):
		// both name the new endpoint once the re-create is recorded.
		Eventually(func(g Gomega) {
			got := fx.Get(ep)
			g.Expect(got.Status.ID).NotTo(BeEmpty())
			g.Expect(got.Status.ID).NotTo(Equal(id))
			g.Expect(got).To(operatortest.BeReady())
			g.Expect(got.Annotations[cockpitv1alpha1.AnnotationEndpointID]).To(Equal(got.Status.ID))
		}, timeout, interval).Should(Succeed())
		newID := fx.Get(ep).Status.ID
		Expect(remote(newID).Name).To(Equal("drift"))
		expectEvent(ns, "drift", "Recreating")
	})

	It("pushes a rotated SIP password within seconds", func() {
		ns := fx.NewNamespace()
		secret := fx.SIPSecret(ns, "sip", "user", "first-password")
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		ep := fixtures.NewEndpoint(ns, "rotate", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVogent,
			Vogent: &cockpitv1alpha1.VogentConfig{SIPPrefix: "p", CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "sip"}}})
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID
		Expect(remote(id).ProviderConfig["vogent_sip_password"]).To(Equal("first-password"))

		secretValues.Add("second-password", "a SIP password")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
		secret.Data["password"] = []byte("second-password")
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(func() any { return remote(id).ProviderConfig["vogent_sip_password"] }, 5*time.Second, interval).
			Should(Equal("second-password"))
		Expect(requests("updateEndpoint", forID(id))).To(HaveLen(1))
		st := fx.Get(ep).Status
		Expect(st.SecretResourceVersions).To(ConsistOf(HaveField("Name", "sip")))
		Expect(st.SecretResourceVersions[0].ResourceVersion).To(Equal(secret.ResourceVersion))
	})

	It("creates exactly one endpoint per resource when every create commits and then fails", func() {
		ns, _, org := fx.Isolated()
		faults := sim.Faults()
		failing := faults
		failing.CommitThenFailRate = 1
		Expect(sim.SetFaults(failing)).To(Succeed())
		DeferCleanup(func() { Expect(sim.SetFaults(faults)).To(Succeed()) })

		const n = 8
		eps := make([]*cockpitv1alpha1.KrosEndpoint, 0, n)
		for i := range n {
			spec := fixtures.ElevenLabsWithOwnKey()
			ep := fixtures.NewEndpoint(ns, "ctf-"+string(rune('a'+i)), spec)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			eps = append(eps, ep)
		}
		ids := map[string]bool{}
		for _, ep := range eps {
			ids[fx.WaitReady(ep).Status.ID] = true
		}
		Expect(ids).To(HaveLen(n))
		Expect(remoteEndpoints(org)).To(HaveLen(n), "no duplicates")
		Expect(len(requests("createEndpoint", inOrg(org)))).To(BeNumerically(">=", n))
		for _, ep := range eps {
			expectEvent(ns, ep.Name, "Adopted")
		}
	})

	It("adopts the endpoint of a create interrupted between the POST and the id write", func() {
		ns, key, org := fx.Isolated()
		pendingSince := time.Now()
		made := createRemote(key, org, "interrupted", map[string]any{"elevenlabs_agent_id": "agent"})
		ep := createInterrupted(ns, "interrupted", pendingSince)
		got := fx.WaitReady(ep)
		Expect(got.Status.ID).To(Equal(made.ID))
		Expect(got.Annotations).NotTo(HaveKey(cockpitv1alpha1.AnnotationCreatePending))
		Expect(got.Finalizers).To(ContainElement(cockpitv1alpha1.Finalizer), "an adopted endpoint is cleaned up too")
		Expect(remoteEndpoints(org)).To(HaveLen(1))
		Expect(requests("createEndpoint", inOrg(org))).To(HaveLen(1), "only the interrupted POST")
	})

	It("adopts what an interrupted create sent even when the spec was renamed since", func() {
		ns, key, org := fx.Isolated()
		sent := mapping.PendingCreate{At: time.Now().UTC(), Name: "before rename", Type: "elevenlabs"}
		made := createRemote(key, org, "before rename", map[string]any{"elevenlabs_agent_id": "agent"})
		spec := fixtures.ElevenLabsWithOwnKey()
		spec.DisplayName = "after rename"
		ep := fixtures.NewEndpoint(ns, "renamed", spec)
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationCreatePending: sent.String()}
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		Expect(fx.WaitReady(ep).Status.ID).To(Equal(made.ID))
		Expect(remote(made.ID).Name).To(Equal("after rename"))
		Expect(remoteEndpoints(org)).To(HaveLen(1), "the first endpoint is not left behind")
	})

	It("stalls on an ambiguous interrupted create until a person names the endpoint", func() {
		ns, key, org := fx.Isolated()
		pendingSince := time.Now()
		first := createRemote(key, org, "twice", map[string]any{"elevenlabs_agent_id": "agent"})
		second := createRemote(key, org, "twice", map[string]any{"elevenlabs_agent_id": "agent"})
		ep := createInterrupted(ns, "twice", pendingSince)
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonAmbiguousCreate)
		Expect(cond.Message).To(ContainSubstring(first.ID))
		Expect(cond.Message).To(ContainSubstring(second.ID))
		Expect(cond.Message).To(ContainSubstring(cockpitv1alpha1.AnnotationEndpointID))
		Expect(requests("createEndpoint", inOrg(org))).To(HaveLen(2), "no third endpoint")

		got := fx.Get(ep)
		got.Annotations[cockpitv1alpha1.AnnotationEndpointID] = second.ID
		Expect(k8sClient.Update(ctx, got)).To(Succeed())
		got = fx.WaitReady(ep)
		Expect(got.Status.ID).To(Equal(second.ID))
		Expect(got.Annotations).NotTo(HaveKey(cockpitv1alpha1.AnnotationCreatePending))
	})

	It("adopts an existing endpoint named by the endpoint-id annotation, and stalls when it does not exist", func() {
		ns := fx.NewNamespace()
		existing := createRemote(defaultAPIKey, defaultOrg, "legacy name", map[string]any{"elevenlabs_agent_id": "old"})
		ep := fixtures.NewEndpoint(ns, "adopted", elevenLabsSpec("new-agent"))
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: existing.ID}
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		Expect(fx.WaitReady(ep).Status.ID).To(Equal(existing.ID))
		r := remote(existing.ID)
		Expect(r.Name).To(Equal("adopted"))
		Expect(r.ProviderConfig).To(Equal(map[string]any{"elevenlabs_agent_id": "new-agent"}))
		Expect(requests("createEndpoint", named("adopted"))).To(BeEmpty())
		expectEvent(ns, "adopted", "Adopted")

		missing := fixtures.NewEndpoint(ns, "missing", elevenLabsSpec("a"))
		missing.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: "ep_doesnotexist"}
		Expect(k8sClient.Create(ctx, missing)).To(Succeed())
		cond := fx.WaitStalled(missing, cockpitv1alpha1.ReasonAdoptionTargetNotFound)
		Expect(cond.Message).To(ContainSubstring("ep_doesnotexist"))
		Expect(requests("createEndpoint", named("missing"))).To(BeEmpty())
	})

	It("deletes the remote endpoint with the resource, or leaves it with deletionPolicy Orphan", func() {
		ns := fx.NewNamespace()
		deleted := fixtures.NewEndpoint(ns, "deleted", elevenLabsSpec("a"))
		orphanSpec := elevenLabsSpec("a")
		orphanSpec.DeletionPolicy = cockpitv1alpha1.DeletionPolicyOrphan
		orphan := fixtures.NewEndpoint(ns, "orphan", orphanSpec)
		Expect(k8sClient.Create(ctx, deleted)).To(Succeed())
		Expect(k8sClient.Create(ctx, orphan)).To(Succeed())
		deletedID, orphanID := fx.WaitReady(deleted).Status.ID, fx.WaitReady(orphan).Status.ID

		Expect(k8sClient.Delete(ctx, deleted)).To(Succeed())
		Expect(k8sClient.Delete(ctx, orphan)).To(Succeed())
		for _, ep := range []*cockpitv1alpha1.KrosEndpoint{deleted, orphan} {
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), ep))
			}, timeout, interval).Should(BeTrue())
		}
		_, found := sim.Endpoint(deletedID)
		Expect(found).To(BeFalse())
		_, found = sim.Endpoint(orphanID)
		Expect(found).To(BeTrue())
	})

	It("makes no API call while paused", func() {
		ns := fx.NewNamespace()
		ep := fixtures.NewEndpoint(ns, "paused", elevenLabsSpec("a"))
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))
		Consistently(func() int { return len(requests("createEndpoint", named("paused"))) }, 2*syncPeriod, interval).Should(BeZero())

		got := fx.Get(ep)
		delete(got.Annotations, cockpitv1alpha1.AnnotationPaused)
		Expect(k8sClient.Update(ctx, got)).To(Succeed())
		fx.WaitReady(ep)
		Expect(requests("createEndpoint", named("paused"))).To(HaveLen(1))
	})

	It("stalls on a rejected API key with a handful of calls, and recovers when the Secret is fixed", func() {
		ns := fx.NewNamespace()
		keySecret := fx.APIKeySecret(ns, "bad-key", "kros_test_thisisnotavalidkeyatall00000", "")
		Expect(k8sClient.Create(ctx, keySecret)).To(Succeed())
		spec := elevenLabsSpec("a")
		spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: "bad-key"}
		ep := fixtures.NewEndpoint(ns, "unauthorized", spec)
		before := sim.Stats().Count("createEndpoint", 401)
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonUnauthorized)
		Expect(cond.Message).To(ContainSubstring("401"))
		Consistently(func() int { return sim.Stats().Count("createEndpoint", 401) - before }, 3*syncPeriod, interval).
			Should(BeNumerically("<=", 2))

		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(keySecret), keySecret)).To(Succeed())
		keySecret.Data[cockpitv1alpha1.SecretKeyAPIKey] = []byte(defaultAPIKey)
		Expect(k8sClient.Update(ctx, keySecret)).To(Succeed())
		fx.WaitReady(ep)
	})

	It("stalls on a missing Secret or key with a precise message, and recovers when it appears", func() {
		ns := fx.NewNamespace()
		ep := fixtures.NewEndpoint(ns, "no-secret", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:a@b.example",
				CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "later"}}})
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonSecretNotFound)
		Expect(cond.Message).To(Equal(`Secret "later" named by spec.customSIP.credentialsSecretRef not found in namespace "` + ns + `"`))

		secret := fx.SIPSecret(ns, "later", "user", "later-password")
		delete(secret.StringData, "password")
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		cond = fx.WaitStalled(ep, cockpitv1alpha1.ReasonSecretKeyMissing)
		Expect(cond.Message).To(ContainSubstring(`has no key "password"`))

		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
		secret.Data["password"] = []byte("later-password")
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		fx.WaitReady(ep)
	})

	It("waits as long as a 429 asks and still converges", func() {
		ns, _, org := fx.Isolated()
		faults := sim.Faults()
		limited := faults
		limited.RateLimit, limited.Burst = 4, 1
		Expect(sim.SetFaults(limited)).To(Succeed())
		DeferCleanup(func() { Expect(sim.SetFaults(faults)).To(Succeed()) })

		const n = 6
		eps := make([]*cockpitv1alpha1.KrosEndpoint, 0, n)
		for i := range n {
			spec := fixtures.ElevenLabsWithOwnKey()
			ep := fixtures.NewEndpoint(ns, "limited-"+string(rune('a'+i)), spec)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			eps = append(eps, ep)
		}
		for _, ep := range eps {
			fx.WaitReady(ep)
		}
		Expect(remoteEndpoints(org)).To(HaveLen(n))
		var limitedCount, total int
		for _, r := range sim.Requests() {
			if r.Org == org || strings.Contains(string(r.Body), "limited-") {
				total++
				if r.Status == 429 {
					limitedCount++
				}
			}
		}
		// Four workers share a limit of 4 req/s: some 429s are expected, but a
		// client that retried without waiting would rack up hundreds.
		Expect(limitedCount).To(BeNumerically("<=", 4*n), "429s are waited out, not hammered (%d of %d)", limitedCount, total)
	})

	It("deletes remote endpoints when their namespace is deleted with its Secrets, leaving nothing stuck", func() {
		ns, _, org := fx.Isolated()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip", "u", "ns-delete-password"))).To(Succeed())
		for i, spec := range []cockpitv1alpha1.KrosEndpointSpec{
			elevenLabsSpec("a"),
			{Type: cockpitv1alpha1.EndpointTypeVogent, Vogent: &cockpitv1alpha1.VogentConfig{SIPPrefix: "p",
				CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "sip"}}},
		} {
			spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: "key"}
			ep := fixtures.NewEndpoint(ns, "gone-"+string(rune('a'+i)), spec)
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			fx.WaitReady(ep)
		}
		Expect(remoteEndpoints(org)).To(HaveLen(2))
		var secret corev1.Secret
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "key"}, &secret)).To(Succeed())
		Expect(secret.Finalizers).To(ContainElement(cockpitv1alpha1.SecretInUseFinalizer))

		Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}))
		}, 60*time.Second, 200*time.Millisecond).Should(BeTrue(), "the namespace finishes deleting")
		Expect(remoteEndpoints(org)).To(BeEmpty())
	})

	It("releases a Secret's in-use finalizer when no resource references it any more", func() {
		ns := fx.NewNamespace()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "old", "u", "release-password-1"))).To(Succeed())
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "new", "u", "release-password-2"))).To(Succeed())
		ep := fixtures.NewEndpoint(ns, "switch", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:a@b.example",
				CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "old"}}})
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		ep = fx.WaitReady(ep)
		ep.Spec.CustomSIP.CredentialsSecretRef.Name = "new"
		Expect(k8sClient.Update(ctx, ep)).To(Succeed())
		ep = fx.WaitReady(ep)
		Expect(remote(ep.Status.ID).ProviderConfig["password"]).To(Equal("release-password-2"))
		Eventually(func() []string {
			var s corev1.Secret
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "old"}, &s)).To(Succeed())
			return s.Finalizers
		}, timeout, interval).ShouldNot(ContainElement(cockpitv1alpha1.SecretInUseFinalizer))
	})

	It("keeps a Secret finalizer another controller added that its cache had not seen", func() {
		ns := fx.NewNamespace()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip", "u", "finalizer-password"))).To(Succeed())
		key := client.ObjectKey{Namespace: ns, Name: "sip"}
		stale := cluster.SecretMetadata()
		Expect(k8sClient.Get(ctx, key, stale)).To(Succeed())
		const theirs = "example.com/keep"
		var secret corev1.Secret
		Expect(k8sClient.Get(ctx, key, &secret)).To(Succeed())
		secret.Finalizers = append(secret.Finalizers, theirs)
		Expect(k8sClient.Update(ctx, &secret)).To(Succeed())
		DeferCleanup(func() {
			Expect(k8sClient.Get(ctx, key, &secret)).To(Succeed())
			secret.Finalizers = nil
			Expect(k8sClient.Update(ctx, &secret)).To(Succeed())
		})
		// Reads answer from before their write, as a lagging cache would.
		direct, err := client.NewWithWatch(cp.Env.Config, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		lagging := func(cached *metav1.PartialObjectMetadata) client.Client {
			return interceptor.NewClient(direct, interceptor.Funcs{
				Get: func(_ context.Context, _ client.WithWatch, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
					cached.DeepCopyInto(obj.(*metav1.PartialObjectMetadata))
					return nil
				},
				List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error { return nil },
			})
		}
		finalizers := func() []string {
			Expect(k8sClient.Get(ctx, key, &secret)).To(Succeed())
			return secret.Finalizers
		}

		// A paused referrer the running manager has seen, so that its release
		// reconciler leaves our finalizer alone while this test looks at it.
		ep := fixtures.NewEndpoint(ns, "pbx", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:a@b.example",
				CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "sip"}}})
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		Eventually(func() string { return readyReason(fx.Get(ep)) }, timeout, interval).Should(Equal(cockpitv1alpha1.ReasonPaused))
		_, err = protectSecrets(ctx, lagging(stale), ep, false, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(finalizers()).To(ConsistOf(theirs, cockpitv1alpha1.SecretInUseFinalizer))

		stale.Finalizers = []string{cockpitv1alpha1.SecretInUseFinalizer}
		release := &SecretReleaseReconciler{Client: lagging(stale), forget: func(types.NamespacedName) {}}
		_, err = release.Reconcile(ctx, reconcile.Request{NamespacedName: key})
		Expect(err).NotTo(HaveOccurred())
		Expect(finalizers()).To(ConsistOf(theirs))
	})

	It("creates a disabled endpoint inactive before it says Ready", func() {
		ns := fx.NewNamespace()
		spec := elevenLabsSpec("a")
		spec.Enabled = new(false)
		ep := fixtures.NewEndpoint(ns, "born-disabled", spec)
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		ep = fx.WaitReady(ep)
		Expect(ep.Status.State).To(Equal(cockpitv1alpha1.EndpointStateInactive))
		Expect(remote(ep.Status.ID).Status).To(Equal("inactive"))
		Expect(requests("updateEndpoint", forID(ep.Status.ID))).To(HaveLen(1), "the create cannot carry status")
	})

	It("stalls while another Secret holds the signing Secret's name, and recovers when it goes", func() {
		ns := fx.NewNamespace()
		squatter := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook-webhook-signing"}}
		Expect(k8sClient.Create(ctx, squatter)).To(Succeed())
		ep := fixtures.NewEndpoint(ns, "hook", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/squatted"}})
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonSigningSecretConflict)
		Expect(cond.Message).To(ContainSubstring(`Secret "hook-webhook-signing" exists and is not owned`))

		Expect(k8sClient.Delete(ctx, squatter)).To(Succeed())
		Expect(fx.WaitReady(ep).Status.SigningSecretName).To(Equal("hook-webhook-signing"))
		Expect(requests("createEndpoint", named("hook"))).To(HaveLen(1))
	})

	It("keeps its endpoint when a replace drops the id annotation and the finalizer", func() {
		ns := fx.NewNamespace()
		ep := fixtures.NewEndpoint(ns, "replaced", elevenLabsSpec("a"))
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID

		// What kubectl replace (or an Argo CD Replace sync) of the manifest does.
		got := fx.Get(ep)
		got.Annotations, got.Finalizers = nil, nil
		got.Spec.DisplayName = "Replaced"
		Expect(k8sClient.Update(ctx, got)).To(Succeed())
		got = fx.WaitReady(ep)
		Expect(got.Status.ID).To(Equal(id))
		Expect(got.Annotations).To(HaveKeyWithValue(cockpitv1alpha1.AnnotationEndpointID, id))
		Expect(got.Finalizers).To(ContainElement(cockpitv1alpha1.Finalizer))
		Expect(remote(id).Name).To(Equal("Replaced"))
		Expect(requests("createEndpoint", named("Replaced"))).To(BeEmpty())
		Expect(requests("createEndpoint", named("replaced"))).To(HaveLen(1))
	})

	It("forces a sync when reconcile-requested-at changes", func() {
		ns := fx.NewNamespace()
		ep := fixtures.NewEndpoint(ns, "requested", elevenLabsSpec("a"))
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		id := fx.WaitReady(ep).Status.ID
		gets := len(requests("getEndpoint", forID(id)))
		got := fx.Get(ep)
		got.Annotations[cockpitv1alpha1.AnnotationReconcileRequestedAt] = time.Now().Format(time.RFC3339Nano)
		Expect(k8sClient.Update(ctx, got)).To(Succeed())
		Eventually(func() string { return fx.Get(ep).Status.LastHandledReconcileAt }, timeout, interval).
			Should(Equal(got.Annotations[cockpitv1alpha1.AnnotationReconcileRequestedAt]))
		Expect(requests("getEndpoint", forID(id))).To(HaveLen(gets + 1))
	})
})

func readyReason(ep *cockpitv1alpha1.KrosEndpoint) string {
	for _, c := range ep.Status.Conditions {
		if c.Type == cockpitv1alpha1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

// expectEvent waits for an Event of reason on the resource.
func expectEvent(ns, name, reason string) {
	GinkgoHelper()
	expectEventNote(ns, name, reason, "")
}
