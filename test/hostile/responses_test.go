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

package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operator"
	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/fakeapi"
	"github.com/krosai/kros-operator/test/fixtures"
)

// The response suite runs the real reconciler in a manager against a real
// API server. The KrosAI API it talks to is the in-process simulator behind
// hostileAPI, which spoils the answers for one API key at a time: each case
// has its own key, organization and namespace, so counts are its own.

const (
	timeout           = 30 * time.Second
	interval          = 100 * time.Millisecond
	operatorNamespace = "kros-system"
	// syncPeriod is long: every case asks for the syncs it needs with the
	// reconcile-requested-at annotation, so waits never depend on backoff.
	syncPeriod = time.Minute
	// apiTimeout bounds one HTTP attempt; a body that never ends is cut here.
	apiTimeout = time.Second
	// hugeBodySize is what a huge answer would weigh if read to its end:
	// eight times the client's 8 MiB cap.
	hugeBodySize = 64 << 20
	// heapBound is the most the heap may grow while huge answers are read.
	heapBound = 40 << 20
)

var (
	suite     *fixtures.Suite
	ctx       context.Context
	k8sClient client.Client
	sim       *krosaisim.Simulator
	api       *hostileAPI
	elsewhere *fakeapi.Server
	fx        *fixtures.Set
)

// defaultCredentials is the operator's default credentials Secret.
var defaultCredentials = types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"}

func TestResponses(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Hostile API responses")
}

var _ = BeforeSuite(func() {
	// Where the redirects point: an attacker's server, which would answer
	// "no endpoints".
	elsewhere = fakeapi.Start(GinkgoT(), func(_ int, w http.ResponseWriter, _ *http.Request) {
		fakeapi.WriteJSON(w, http.StatusOK, []any{})
	})
	suite = fixtures.StartSuite(fixtures.SuiteOptions{
		// Everything the operator logs, at every verbosity (V(10) and below).
		LogVerbosity: 10,
		Simulator:    krosaisim.Options{RequestLogSize: 200000},
		API: func(simulator http.Handler) http.Handler {
			api = &hostileAPI{sim: simulator, elsewhere: elsewhere.URL, modes: map[string]mode{}, quotes: map[string]string{}}
			return api
		},
		DefaultCredentials: defaultCredentials,
		NamespacePrefix:    "hostile",
		OrgPrefix:          "33333333-3333-4333-8333-",
		Timeout:            timeout,
		Interval:           interval,
		Setup: func(m ctrl.Manager, apiURL string) error {
			return operator.Setup(m, operator.Options{
				APIURL:                  apiURL,
				DefaultCredentials:      defaultCredentials,
				SyncPeriod:              syncPeriod,
				APIRateLimit:            500,
				APIBurst:                100,
				APITimeout:              apiTimeout,
				RetryBackoffBase:        10 * time.Millisecond,
				RetryBackoffCap:         200 * time.Millisecond,
				MaxConcurrentReconciles: 2,
				RegisterMetrics:         true,
			})
		},
	})
	fx, ctx, k8sClient, sim = suite.Set, suite.Ctx, suite.Client, suite.Sim
})

var _ = AfterSuite(func() {
	By("checking that no secret value leaked into logs, Events, resources or metrics")
	expectNoSecretLeaked()
	By("checking that no reconcile panicked")
	Expect(suite.Logs.String()).NotTo(ContainSubstring("Observed a panic"))
	Expect(suite.Manager.Done()).NotTo(BeClosed(), "the manager stopped")
	Expect(api.streamsAbandoned.Load()).To(BeZero(), "an endless body was never hung up on")
	Expect(elsewhere.Requests()).To(BeEmpty(), "a redirect was followed")
})

var _ = Describe("An API whose answers cannot be trusted", func() {
	DescribeTable("on create: the resource reports it, the manager survives, and no duplicate is made",
		func(m mode, want string) {
			ns, key, org := fx.Isolated()
			hugeServed, streamsStarted := api.hugeServed.Load(), api.streamsStarted.Load()
			api.set(key, m)
			var heap *heapWatch
			if m == modeHugeBody {
				heap = watchHeap()
			}
			ep := fixtures.NewEndpoint(ns, "ep", fixtures.ElevenLabsWithOwnKey())
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())

			By("reporting a retryable failure whose message says what went wrong, without the key")
			expectReconciling(ep, want, key)
			switch m {
			case modeHugeBody:
				// The POST's answer and at least one list's.
				Eventually(api.hugeServed.Load, timeout, interval).Should(BeNumerically(">=", hugeServed+2))
				expectReconciling(ep, want, key)
				peak, retained := heap.stop()
				GinkgoWriter.Printf("heap growth: peak %d KiB, retained %d KiB; huge bodies served %d, read to the end %d\n",
					peak>>10, retained>>10, api.hugeServed.Load()-hugeServed, api.hugeCompleted.Load())
				Expect(api.hugeCompleted.Load()).To(BeZero(), "a 64 MiB body was read to its end")
				Expect(peak).To(BeNumerically("<", heapBound), "heap grew by %d MiB while reading", peak>>20)
				Expect(retained).To(BeNumerically("<", heapBound), "heap kept %d MiB", retained>>20)
			case modeEndlessBody:
				Eventually(api.streamsStarted.Load, timeout, interval).Should(BeNumerically(">=", streamsStarted+2))
			}
			Expect(suite.Manager.Done()).NotTo(BeClosed(), "the manager stopped")

			By("converging once the API answers properly, adopting what the spoiled create made")
			api.set(key, modeGood)
			requestSync(ep)
			got := fx.WaitReady(ep)
			remote := sim.Endpoints()[org]
			Expect(remote).To(HaveLen(1), "one resource, one remote endpoint")
			Expect(got.Annotations).To(HaveKeyWithValue(cockpitv1alpha1.AnnotationEndpointID, remote[0].ID))
			Expect(got.Annotations).NotTo(HaveKey(cockpitv1alpha1.AnnotationCreatePending))
			Expect(createsSucceeded(org)).To(Equal(1), "POSTs the API carried out")
			Expect(elsewhere.Requests()).To(BeEmpty(), "the redirect target was called")
			if m == modeEndlessBody {
				Eventually(api.streaming.Load, timeout, interval).Should(BeZero(), "an endless body is still being written")
			}
		},
		// Each answer is a real one from the API, which did create the
		// endpoint, spoiled on the way back.
		Entry("invalid JSON", modeInvalidJSON, `decode response: unexpected end of JSON input`),
		Entry("an HTML page with 200", modeHTML, `decode response: invalid character '<'`),
		Entry("a 64 MiB body", modeHugeBody, `response body too large`),
		Entry("a body that never ends", modeEndlessBody, `context deadline exceeded|Client.Timeout|request canceled`),
		Entry("a 201 and a list with empty ids", modeEmptyID, `decode response: endpoint has no id`),
		// Redirects are refused: the API did nothing, and nothing follows them.
		Entry("a 302 to another server", modeRedirect302, `302 Found`),
		Entry("a 307 to another server", modeRedirect307, `307 Temporary Redirect`),
	)

	// A spec edit is computed against the organization's list (one call per
	// edit), so the first bad answer may be the list's, the PATCH's or a GET's.
	const anyRead = "krosai (listEndpoints|getEndpoint|updateEndpoint): "
	DescribeTable("on an existing endpoint: the resource reports it and recovers, with no duplicate",
		func(m mode, want string) {
			ns, key, org := fx.Isolated()
			ep := fixtures.NewEndpoint(ns, "ep", fixtures.ElevenLabsWithOwnKey())
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
			fx.WaitReady(ep)

			api.set(key, m)
			patchEndpoint(ep, func(e *cockpitv1alpha1.KrosEndpoint) { e.Spec.DisplayName = "Renamed" })
			expectReconciling(ep, want, key)
			Expect(suite.Manager.Done()).NotTo(BeClosed(), "the manager stopped")

			api.set(key, modeGood)
			requestSync(ep)
			fx.WaitReady(ep)
			remote := sim.Endpoints()[org]
			Expect(remote).To(HaveLen(1))
			Expect(remote[0].Name).To(Equal("Renamed"))
			Expect(createsSucceeded(org)).To(Equal(1))
			Expect(elsewhere.Requests()).To(BeEmpty())
		},
		Entry("invalid JSON", modeInvalidJSON, anyRead+`200 OK: decode response`),
		Entry("an HTML page with 200", modeHTML, anyRead+`200 OK: decode response: invalid character '<'`),
		Entry("a 64 MiB body", modeHugeBody, anyRead+`200 OK: response body too large`),
		Entry("a body that never ends", modeEndlessBody, anyRead+`(context deadline exceeded|.*Timeout)`),
		Entry("an empty id", modeEmptyID, anyRead+`200 OK: decode response: endpoint has no id`),
		Entry("a 307 to another server", modeRedirect307, anyRead+`307 Temporary Redirect`),
	)
})

var _ = Describe("Hostile Secrets", func() {
	It("stalls on an empty SIP password with a precise message, calling no API, and recovers when it is set", func() {
		ns, _, org := fx.Isolated()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip", "agent", ""))).To(Succeed())
		ep := fixtures.NewEndpoint(ns, "ep", customSIPWithOwnKey("sip"))
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())

		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonSecretKeyMissing)
		Expect(cond.Message).To(Equal(
			`Secret "sip" named by spec.customSIP.credentialsSecretRef has an empty value for key "password"`))
		ready := meta.FindStatusCondition(fx.Get(ep).Status.Conditions, cockpitv1alpha1.ConditionReady)
		Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		Expect(ready.Reason).To(Equal(cockpitv1alpha1.ReasonSecretKeyMissing))
		Expect(requestsOf(org)).To(BeEmpty(), "an API call was made without the password")

		password := fx.NewSecretValue("pw")
		updateSecret(ns, "sip", func(s *corev1.Secret) { s.Data["password"] = []byte(password) })
		fx.WaitReady(ep)
		remote := sim.Endpoints()[org]
		Expect(remote).To(HaveLen(1))
		Expect(remote[0].ProviderConfig).To(HaveKeyWithValue("password", password))
	})

	It("stalls on a whitespace-only API key without sending it, and says which Secret to fix", func() {
		ns := fx.NewNamespace()
		_, org := fx.NewOrg()
		// A lone newline is what remains of an empty file given to
		// --from-file: the one trailing newline every value may carry is
		// dropped, and nothing is left.
		Expect(k8sClient.Create(ctx, fx.APIKeySecret(ns, "key", "\n", org))).To(Succeed())
		Expect(k8sClient.Create(ctx, fx.APIKeySecret(ns, "spaces", "   \n", org))).To(Succeed())
		before := unauthenticated()
		ep := fixtures.NewEndpoint(ns, "ep", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonSecretKeyMissing)
		Expect(cond.Message).To(Equal(`Secret "key" named by spec.apiKeySecretRef has an empty value for key "apiKey"`))
		spaces := fixtures.ElevenLabsWithOwnKey()
		spaces.APIKeySecretRef.Name = "spaces"
		ep = fixtures.NewEndpoint(ns, "spaces", spaces)
		Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		cond = fx.WaitStalled(ep, cockpitv1alpha1.ReasonUnauthorized)
		Expect(cond.Message).To(ContainSubstring("no API key"))
		Expect(cond.Message).To(ContainSubstring(`check the apiKey in Secret ` + ns + `/spaces (spec.apiKeySecretRef)`))
		Expect(unauthenticated()).To(Equal(before), "a request without a key was sent")
		Expect(fx.Get(ep).Annotations).NotTo(HaveKey(cockpitv1alpha1.AnnotationCreatePending))
	})

	It("keeps a SIP Secret deleted while in use until its endpoint is deleted, then lets both go", func() {
		ns, _, org := fx.Isolated()
		ep, _ := readySIPEndpoint(ns)
		sip := &corev1.Secret{}
		sipKey := types.NamespacedName{Namespace: ns, Name: "sip"}
		Expect(k8sClient.Get(ctx, sipKey, sip)).To(Succeed())
		Expect(sip.Finalizers).To(ContainElement(cockpitv1alpha1.SecretInUseFinalizer))

		By("deleting the Secret: the in-use finalizer keeps it, terminating")
		Expect(k8sClient.Delete(ctx, sip)).To(Succeed())
		Expect(k8sClient.Get(ctx, sipKey, sip)).To(Succeed())
		Expect(sip.DeletionTimestamp).NotTo(BeNil())

		By("syncing: the endpoint still reads it and stays Ready")
		handled := requestSync(ep)
		Eventually(func(g Gomega) {
			got := fx.Get(ep)
			g.Expect(got.Status.LastHandledReconcileAt).To(Equal(handled))
			g.Expect(got).To(operatortest.BeReady())
		}, timeout, interval).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(fx.Get(ep)).To(operatortest.BeReady())
			g.Expect(k8sClient.Get(ctx, sipKey, &corev1.Secret{})).To(Succeed())
		}, 2*time.Second, interval).Should(Succeed())

		By("deleting the endpoint: the remote endpoint, the resource and the Secret all go")
		Expect(k8sClient.Delete(ctx, ep)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), ep))).To(BeTrue())
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, sipKey, &corev1.Secret{}))).To(BeTrue())
		}, timeout, interval).Should(Succeed())
		Expect(sim.Endpoints()[org]).To(BeEmpty())
		Eventually(func(g Gomega) {
			keySecret := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "key"}, keySecret)).To(Succeed())
			g.Expect(keySecret.Finalizers).NotTo(ContainElement(cockpitv1alpha1.SecretInUseFinalizer))
		}, timeout, interval).Should(Succeed())
	})

	It("never reads another namespace's Secret of the same name", func() {
		other, otherKey, otherOrg := fx.Isolated()
		Expect(k8sClient.Create(ctx, fx.SIPSecret(other, "sip", "agent", fx.NewSecretValue("pw")))).To(Succeed())
		ns := fx.NewNamespace()
		byKey := fixtures.NewEndpoint(ns, "by-key", fixtures.ElevenLabsWithOwnKey())
		Expect(k8sClient.Create(ctx, byKey)).To(Succeed())
		cond := fx.WaitStalled(byKey, cockpitv1alpha1.ReasonSecretNotFound)
		Expect(cond.Message).To(Equal(fmt.Sprintf(
			`Secret "key" named by spec.apiKeySecretRef not found in namespace %q`, ns)))
		Expect(requestsOf(otherOrg)).To(BeEmpty(), "the other namespace's key was used")

		By("giving the namespace a key of its own: the SIP Secret is still only in the other namespace")
		Expect(k8sClient.Create(ctx, fx.APIKeySecret(ns, "key", otherKey, otherOrg))).To(Succeed())
		fx.WaitReady(byKey)
		bySIP := fixtures.NewEndpoint(ns, "by-sip", customSIPWithOwnKey("sip"))
		Expect(k8sClient.Create(ctx, bySIP)).To(Succeed())
		cond = fx.WaitStalled(bySIP, cockpitv1alpha1.ReasonSecretNotFound)
		Expect(cond.Message).To(Equal(fmt.Sprintf(
			`Secret "sip" named by spec.customSIP.credentialsSecretRef not found in namespace %q`, ns)))
		for _, e := range sim.Endpoints()[otherOrg] {
			Expect(e.Name).NotTo(Equal("by-sip"), "created with the other namespace's SIP credentials")
		}
		var sip corev1.Secret
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: other, Name: "sip"}, &sip)).To(Succeed())
		Expect(sip.Finalizers).To(BeEmpty(), "the other namespace's Secret was touched")
	})
})

var _ = Describe("Secret values", func() {
	It("never reach logs, Events, resources or metrics through creates, rotations and errors", func() {
		ns, key, org := fx.Isolated()
		pwA, pwB := fx.NewSecretValue("pw"), fx.NewSecretValue("pw")
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip-a", "alice", pwA))).To(Succeed())
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip-b", "bob", pwB))).To(Succeed())
		custom := fixtures.NewEndpoint(ns, "custom", customSIPWithOwnKey("sip-a"))
		vogentSpec := cockpitv1alpha1.KrosEndpointSpec{
			Type: cockpitv1alpha1.EndpointTypeVogent,
			Vogent: &cockpitv1alpha1.VogentConfig{SIPPrefix: "p",
				CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "sip-b"}},
			APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "key"},
		}
		vogent := fixtures.NewEndpoint(ns, "vogent", vogentSpec)
		hook := fixtures.NewEndpoint(ns, "hook", cockpitv1alpha1.KrosEndpointSpec{
			Type:            cockpitv1alpha1.EndpointTypeWebhook,
			Webhook:         &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/calls"},
			APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "key"},
		})
		all := make([]*cockpitv1alpha1.KrosEndpoint, 0, 4)
		all = append(all, custom, vogent, hook)

		By("creating a custom SIP, a Vogent and a webhook endpoint")
		for _, ep := range all {
			Expect(k8sClient.Create(ctx, ep)).To(Succeed())
		}
		for _, ep := range all {
			fx.WaitReady(ep)
		}
		var signing corev1.Secret
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "hook-webhook-signing"}, &signing)).To(Succeed())
		Expect(signing.Data[cockpitv1alpha1.SecretKeySigningSecret]).NotTo(BeEmpty())
		fx.Secrets.Add(string(signing.Data[cockpitv1alpha1.SecretKeySigningSecret]), "the signing secret")

		By("rotating both SIP passwords")
		pwA, pwB = rotate(ns, "sip-a"), rotate(ns, "sip-b")
		expectPushed(custom, vogent, pwA, pwB)
		for _, ep := range all {
			fx.WaitReady(ep)
		}

		By("a 401 that echoes the key")
		api.set(key, modeEcho401)
		for _, ep := range all {
			requestSync(ep)
		}
		for _, ep := range all {
			cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonUnauthorized)
			Expect(cond.Message).To(ContainSubstring("[REDACTED]"), "the echo was not redacted but dropped: %s", cond.Message)
		}

		By("a 500 whose plain-text body echoes the request headers")
		api.set(key, modeEcho500)
		for _, ep := range all {
			requestSync(ep)
		}
		for _, ep := range all {
			expectReconciling(ep, `\[REDACTED\]`, key)
		}

		By("a 400 that echoes the request body, passwords included, on a rotation and a create")
		api.set(key, modeEcho400OnWrite)
		pwA, pwB = rotate(ns, "sip-a"), rotate(ns, "sip-b")
		pwC := fx.NewSecretValue("pw")
		Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip-c", "carol", pwC))).To(Succeed())
		late := fixtures.NewEndpoint(ns, "late", customSIPWithOwnKey("sip-c"))
		Expect(k8sClient.Create(ctx, late)).To(Succeed())
		for _, ep := range []*cockpitv1alpha1.KrosEndpoint{custom, vogent, late} {
			cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonInvalidRequest)
			Expect(cond.Message).To(ContainSubstring("[REDACTED]"), "the echo was not redacted but dropped: %s", cond.Message)
		}

		By("recovering")
		api.set(key, modeGood)
		all = append(all, late)
		for _, ep := range all {
			requestSync(ep)
		}
		for _, ep := range all {
			fx.WaitReady(ep)
		}
		expectPushed(custom, vogent, pwA, pwB)
		Expect(sim.Endpoints()[org]).To(HaveLen(4))

		By("finding only names and resourceVersions of Secrets in status")
		got := fx.Get(custom)
		var sipA, keySecret corev1.Secret
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "sip-a"}, &sipA)).To(Succeed())
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "key"}, &keySecret)).To(Succeed())
		Expect(got.Status.SecretResourceVersions).To(ConsistOf(
			cockpitv1alpha1.SecretResourceVersion{Name: "key", ResourceVersion: keySecret.ResourceVersion},
			cockpitv1alpha1.SecretResourceVersion{Name: "sip-a", ResourceVersion: sipA.ResourceVersion},
		))

		expectNoSecretLeaked()
		Expect(suite.Logs.String()).To(ContainSubstring(ns), "the scan read no logs of this test")
	})
})

// expectNoSecretLeaked looks for every secret value the suite used in
// everything the operator writes: its logs at every verbosity (hex dumps
// included), Events of both APIs, every KrosEndpoint whole, and the metrics
// registry (names, help, labels).
func expectNoSecretLeaked() {
	GinkgoHelper()
	report := suite.ExpectNoSecretLeaked()
	Expect(report.Metrics).To(ContainElement("kros_operator_reconcile_errors_total"), "the metrics were not scanned")
	// client-go logs a protobuf body as a hex dump, whose text column cuts
	// a value every 16 bytes: the dumps are read back into bytes too.
	Expect(suite.Secrets.Find("hex dumps in the logs", hexDumped([]byte(suite.Logs.String())))).To(BeEmpty())
}

// mode is how hostileAPI answers one API key.
type mode int

const (
	modeGood mode = iota
	// modeInvalidJSON truncates the API's answer.
	modeInvalidJSON
	// modeHTML answers 200 with a web page, as a misrouted proxy would.
	modeHTML
	// modeHugeBody streams hugeBodySize bytes of one JSON string.
	modeHugeBody
	// modeEndlessBody writes a JSON list slowly until the client hangs up.
	modeEndlessBody
	// modeEmptyID blanks every id in the answer.
	modeEmptyID
	// modeRedirect302 and modeRedirect307 send the client to elsewhere.
	modeRedirect302
	modeRedirect307
	// modeEcho401 refuses the key, quoting it.
	modeEcho401
	// modeEcho500 fails in plain text, quoting the request's headers and body.
	modeEcho500
	// modeEcho400OnWrite refuses every POST and PATCH, quoting its body;
	// reads are answered properly.
	modeEcho400OnWrite
	// modeQuoteStored refuses every request with a 400 quoting a value the
	// API holds from earlier requests, such as a SIP password.
	modeQuoteStored
)

// hostileAPI is the simulator with its answers to some keys spoiled.
type hostileAPI struct {
	sim       http.Handler
	elsewhere string

	mu    sync.Mutex
	modes map[string]mode
	// quotes is what modeQuoteStored quotes, by key.
	quotes map[string]string

	hugeServed, hugeCompleted                   atomic.Int64
	streamsStarted, streaming, streamsAbandoned atomic.Int64
}

func (h *hostileAPI) set(key string, m mode) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.modes[key] = m
}

// quote makes every answer to key a 400 quoting value.
func (h *hostileAPI) quote(key, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.modes[key], h.quotes[key] = modeQuoteStored, value
}

func (h *hostileAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := presentedKey(r)
	h.mu.Lock()
	m, quote := h.modes[key], h.quotes[key]
	h.mu.Unlock()
	switch m {
	case modeGood:
		h.sim.ServeHTTP(w, r)
		return
	case modeRedirect302:
		http.Redirect(w, r, h.elsewhere+r.URL.RequestURI(), http.StatusFound)
		return
	case modeRedirect307:
		http.Redirect(w, r, h.elsewhere+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	switch m {
	case modeEcho401:
		fakeapi.WriteError(w, http.StatusUnauthorized, "UNAUTHORIZED",
			"Invalid API key "+key+" (sent as "+r.Header.Get("Authorization")+")")
		return
	case modeEcho500:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(w, "panic: %s %s\nAuthorization: %s\n\n%s\n", r.Method, r.URL, r.Header.Get("Authorization"), body)
		return
	case modeQuoteStored:
		fakeapi.WriteError(w, http.StatusBadRequest, "VALIDATION_ERROR", "SIP registration failed for agent:"+quote)
		return
	case modeEcho400OnWrite:
		if r.Method == http.MethodGet {
			h.sim.ServeHTTP(w, r)
			return
		}
		fakeapi.WriteJSON(w, http.StatusBadRequest, map[string]any{
			"error": "Validation failed for " + string(body) + " sent with key " + key,
			"code":  "VALIDATION_ERROR", "details": json.RawMessage(body),
		})
		return
	}

	// The request reaches the API, which acts on it; only the answer is spoiled.
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, r)
	switch m {
	case modeInvalidJSON:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes()[:rec.Body.Len()/2])
	case modeHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>\n")
	case modeHugeBody:
		h.hugeServed.Add(1)
		if fakeapi.WriteHuge(w, rec.Code, hugeBodySize) {
			h.hugeCompleted.Add(1)
		}
	case modeEndlessBody:
		h.endless(w, r, rec.Code)
	case modeEmptyID:
		var v any
		out := rec.Body.Bytes()
		if json.Unmarshal(out, &v) == nil {
			blankIDs(v)
			out, _ = json.Marshal(v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(out)
	}
}

// endless writes a JSON list, an element every 20ms, until the client hangs
// up; after a minute it gives up itself and counts that as a failure.
func (h *hostileAPI) endless(w http.ResponseWriter, r *http.Request, status int) {
	h.streamsStarted.Add(1)
	h.streaming.Add(1)
	defer h.streaming.Add(-1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	rc := http.NewResponseController(w)
	_, _ = io.WriteString(w, "[")
	_ = rc.Flush()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(time.Minute)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-giveUp:
			h.streamsAbandoned.Add(1)
			return
		case <-tick.C:
			if _, err := io.WriteString(w, `{"id":"ep_slow","name":"slow","type":"vapi"},`); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}

func blankIDs(v any) {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["id"]; ok {
			t["id"] = ""
		}
		for _, c := range t {
			blankIDs(c)
		}
	case []any:
		for _, c := range t {
			blankIDs(c)
		}
	}
}

// presentedKey is the API key a request carries, as the simulator reads it.
func presentedKey(r *http.Request) string {
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return r.Header.Get("x-api-key")
}

// heapWatch samples the heap while a case runs, with the garbage collector
// made eager so that what it reports is close to what is live.
type heapWatch struct {
	before, peak uint64
	gcPercent    int
	stopped      chan struct{}
	done         chan struct{}
}

func watchHeap() *heapWatch {
	h := &heapWatch{stopped: make(chan struct{}), done: make(chan struct{})}
	h.gcPercent = debug.SetGCPercent(10)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.before, h.peak = ms.HeapAlloc, ms.HeapAlloc
	go func() {
		defer close(h.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stopped:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				h.peak = max(h.peak, ms.HeapAlloc)
			}
		}
	}()
	return h
}

// stop returns the peak growth, and the growth kept after a collection.
func (h *heapWatch) stop() (peak, retained int64) {
	close(h.stopped)
	<-h.done
	debug.SetGCPercent(h.gcPercent)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(h.peak) - int64(h.before), int64(ms.HeapAlloc) - int64(h.before)
}

// readySIPEndpoint creates, in an Isolated namespace, the Secret "sip" with a
// new password and the custom SIP endpoint "ep" that uses it, and waits until
// it is Ready.
func readySIPEndpoint(ns string) (ep *cockpitv1alpha1.KrosEndpoint, password string) {
	GinkgoHelper()
	password = fx.NewSecretValue("pw")
	Expect(k8sClient.Create(ctx, fx.SIPSecret(ns, "sip", "agent", password))).To(Succeed())
	ep = fixtures.NewEndpoint(ns, "ep", customSIPWithOwnKey("sip"))
	Expect(k8sClient.Create(ctx, ep)).To(Succeed())
	fx.WaitReady(ep)
	return ep, password
}

func customSIPWithOwnKey(sipSecret string) cockpitv1alpha1.KrosEndpointSpec {
	return cockpitv1alpha1.KrosEndpointSpec{
		Type: cockpitv1alpha1.EndpointTypeCustomSIP,
		CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:agent@pbx.example.com",
			CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: sipSecret}},
		APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "key"},
	}
}

// expectReconciling waits for Ready=False and Reconciling=True (a retryable
// failure, not Stalled) with a message matching want that names the failed
// operation and holds none of secrets.
func expectReconciling(ep *cockpitv1alpha1.KrosEndpoint, want string, secrets ...string) {
	GinkgoHelper()
	var message string
	defer func() { GinkgoWriter.Printf("%s/%s Ready=False: %s\n", ep.Namespace, ep.Name, message) }()
	Eventually(func(g Gomega) {
		got := &cockpitv1alpha1.KrosEndpoint{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), got)).To(Succeed())
		ready := meta.FindStatusCondition(got.Status.Conditions, cockpitv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse), "Ready: %+v", ready)
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, cockpitv1alpha1.ConditionReconciling)).To(BeTrue(),
			"conditions: %+v", got.Status.Conditions)
		g.Expect(meta.FindStatusCondition(got.Status.Conditions, cockpitv1alpha1.ConditionStalled)).To(BeNil())
		message = ready.Message
		g.Expect(ready.Message).To(MatchRegexp(want))
		g.Expect(ready.Message).To(MatchRegexp(`krosai (createEndpoint|listEndpoints|getEndpoint|updateEndpoint)`))
		for _, s := range secrets {
			g.Expect(ready.Message).NotTo(ContainSubstring(s))
		}
	}, timeout, interval).Should(Succeed())
}

// requestSync asks for an immediate sync, as a user would, and returns the
// value the resource reports once it has handled it.
func requestSync(ep *cockpitv1alpha1.KrosEndpoint) string {
	GinkgoHelper()
	value := time.Now().UTC().Format(time.RFC3339Nano)
	patchEndpoint(ep, func(e *cockpitv1alpha1.KrosEndpoint) {
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[cockpitv1alpha1.AnnotationReconcileRequestedAt] = value
	})
	return value
}

func patchEndpoint(ep *cockpitv1alpha1.KrosEndpoint, mutate func(*cockpitv1alpha1.KrosEndpoint)) {
	GinkgoHelper()
	Eventually(func() error {
		current := &cockpitv1alpha1.KrosEndpoint{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ep), current); err != nil {
			return err
		}
		patch := client.MergeFromWithOptions(current.DeepCopy(), client.MergeFromWithOptimisticLock{})
		mutate(current)
		return k8sClient.Patch(ctx, current, patch)
	}, timeout, interval).Should(Succeed())
}

func updateSecret(ns, name string, mutate func(*corev1.Secret)) {
	GinkgoHelper()
	Eventually(func() error {
		var s corev1.Secret
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s); err != nil {
			return err
		}
		mutate(&s)
		return k8sClient.Update(ctx, &s)
	}, timeout, interval).Should(Succeed())
}

// rotate gives a SIP Secret a new password and returns it.
func rotate(ns, name string) string {
	GinkgoHelper()
	password := fx.NewSecretValue("pw")
	updateSecret(ns, name, func(s *corev1.Secret) { s.Data["password"] = []byte(password) })
	return password
}

// expectPushed waits until KrosAI holds the given SIP passwords.
func expectPushed(custom, vogent *cockpitv1alpha1.KrosEndpoint, customPassword, vogentPassword string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		for ep, want := range map[*cockpitv1alpha1.KrosEndpoint][2]string{
			custom: {"password", customPassword}, vogent: {"vogent_sip_password", vogentPassword},
		} {
			id := fx.Get(ep).Annotations[cockpitv1alpha1.AnnotationEndpointID]
			g.Expect(id).NotTo(BeEmpty())
			remote, ok := sim.Endpoint(id)
			g.Expect(ok).To(BeTrue())
			g.Expect(remote.ProviderConfig).To(HaveKeyWithValue(want[0], want[1]))
		}
	}, timeout, interval).Should(Succeed())
}

// requestsOf returns the API requests made in an organization.
func requestsOf(org string) []krosaisim.RequestRecord {
	var out []krosaisim.RequestRecord
	for _, r := range sim.Requests() {
		if r.Org == org {
			out = append(out, r)
		}
	}
	return out
}

// unauthenticated counts the requests the API refused for want of a key.
func unauthenticated() int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Org == "" && r.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

// createsSucceeded counts the POSTs the API carried out in an organization,
// whatever the client made of the answer.
func createsSucceeded(org string) int {
	n := 0
	for _, r := range requestsOf(org) {
		if r.Operation == "createEndpoint" && r.Status == http.StatusCreated {
			n++
		}
	}
	return n
}

// Findings: behaviour the operator should have and does not yet. Each spec
// asserts the fixed behaviour and is pending, so that the suite passes
// until the fix lands; remove the P to run it. See docs/security.md.
var _ = Describe("Known gaps, pending until fixed", func() {
	// The client redacts the key and the passwords of the request it sends.
	// An API that quotes, in the error to a GET or a list, a password it
	// holds from an earlier PATCH gets it written verbatim to the
	// condition, the Event and the log, readable by anyone who may read
	// KrosEndpoints or Events in the namespace but not its Secrets.
	It("redacts a stored SIP password the API quotes in an error to a request that did not carry it", func() {
		ns, key, _ := fx.Isolated()
		ep, password := readySIPEndpoint(ns)

		api.quote(key, password)
		requestSync(ep)
		cond := fx.WaitStalled(ep, cockpitv1alpha1.ReasonInvalidRequest)
		Expect(cond.Message).NotTo(ContainSubstring(password))
		Expect(cond.Message).To(ContainSubstring("[REDACTED]"))
		api.set(key, modeGood)
	})

	// Adoption through the endpoint-id annotation does not consult the
	// index of owned ids that crash recovery uses. Two namespaces on the
	// default credentials share one organization: a user who may create
	// KrosEndpoints in one, and knows the id of an endpoint another
	// namespace owns (its status shows it), adopts it, rewrites it to route
	// calls to an agent of theirs, and deletes it by deleting their resource.
	It("refuses to adopt, through the endpoint-id annotation, an endpoint another KrosEndpoint owns", func() {
		victim := fixtures.NewEndpoint(fx.NewNamespace(), "victim", cockpitv1alpha1.KrosEndpointSpec{
			Type: cockpitv1alpha1.EndpointTypeElevenLabs, ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: "agent"},
		})
		Expect(k8sClient.Create(ctx, victim)).To(Succeed())
		id := fx.WaitReady(victim).Status.ID

		thief := fixtures.NewEndpoint(fx.NewNamespace(), "thief", cockpitv1alpha1.KrosEndpointSpec{
			Type: cockpitv1alpha1.EndpointTypeElevenLabs, ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: "stolen"},
			DisplayName: "Hijacked",
		})
		thief.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: id}
		Expect(k8sClient.Create(ctx, thief)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(meta.IsStatusConditionTrue(fx.Get(thief).Status.Conditions, cockpitv1alpha1.ConditionStalled)).To(BeTrue())
		}, timeout, interval).Should(Succeed())
		remote, ok := sim.Endpoint(id)
		Expect(ok).To(BeTrue())
		Expect(remote.Name).To(Equal("victim"))
		Expect(remote.ProviderConfig).To(HaveKeyWithValue("elevenlabs_agent_id", "agent"))

		Expect(k8sClient.Delete(ctx, thief)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(thief), thief))
		}, timeout, interval).Should(BeTrue())
		_, ok = sim.Endpoint(id)
		Expect(ok).To(BeTrue(), "deleting the thief deleted the victim's endpoint")
	})
})
