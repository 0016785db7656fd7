//go:build e2e

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

package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/events"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	eventsNS     = "events"
	eventsKey    = "kros_test_eventseventseventseventsevents"
	eventsOrg    = "5e1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	strangerKey  = "kros_test_strangerstrangerstrangerstrang"
	strangerOrg  = "6f1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	eventsPeriod = time.Hour
)

// A krosai-sim that delivers signed events over TLS, duplicating some and
// racing others, to a manager whose receiver serves HTTPS and whose sync
// period is an hour: what reaches status within seconds came by an event.
var _ = Describe("KrosAI's signed events, between the real binaries", Ordered, func() {
	var (
		eventsSim   *harness.Simulator
		admin       *krosaisim.AdminClient
		receiverURL string
		recv, agent *cockpitv1alpha1.KrosEndpoint
		signing     []byte
	)
	get := func(ep *cockpitv1alpha1.KrosEndpoint) *cockpitv1alpha1.KrosEndpoint {
		GinkgoHelper()
		out := &cockpitv1alpha1.KrosEndpoint{}
		Expect(cp.Admin.Get(ctx, client.ObjectKeyFromObject(ep), out)).To(Succeed())
		return out
	}
	waitReady := func(ep *cockpitv1alpha1.KrosEndpoint) *cockpitv1alpha1.KrosEndpoint {
		GinkgoHelper()
		Eventually(func() metav1.ConditionStatus {
			if c := meta.FindStatusCondition(get(ep).Status.Conditions, cockpitv1alpha1.ConditionReady); c != nil {
				return c.Status
			}
			return ""
		}).WithTimeout(30 * time.Second).Should(Equal(metav1.ConditionTrue))
		return get(ep)
	}
	apiCalls := func() int {
		GinkgoHelper()
		records, err := admin.Requests(ctx, 0)
		Expect(err).NotTo(HaveOccurred())
		return len(records)
	}
	deliver := func(body []byte, secret []byte) int {
		GinkgoHelper()
		status, err := events.Deliver(ctx, receiverClient, receiverURL, secret, body)
		Expect(err).NotTo(HaveOccurred())
		return status
	}

	BeforeAll(func() {
		dir := GinkgoT().TempDir()
		caPEM, err := harness.WriteServingCert(dir)
		Expect(err).NotTo(HaveOccurred())
		caFile := filepath.Join(dir, "ca.pem")
		Expect(os.WriteFile(caFile, caPEM, 0o600)).To(Succeed())
		receiverClient = trustingClient(caPEM)

		By("starting a krosai-sim that delivers its events over TLS, some twice, some out of order")
		eventsSim, err = harness.StartSimulator(filepath.Join(root, "bin", "krosai-sim"),
			harness.SimulatorOptions{Log: filepath.Join(cp.Dir, "krosai-sim-events.log")},
			"--api-key", eventsKey+"="+eventsOrg, "--api-key", strangerKey+"="+strangerOrg,
			"--event-ca-file", caFile, "--event-delay", "20ms", "--event-reorder", "50ms", "--event-duplicate-rate", "0.3")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(eventsSim.Stop)
		admin = eventsSim.Admin()

		By("stopping the managers earlier specs left running: only this one may lead, and reconcile")
		for _, p := range managers {
			p.Stop()
		}

		By("running a leading manager with the receiver on, over HTTPS, and a sync period of an hour")
		addr, err := harness.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		metricsAddr, err := harness.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		managerCount++
		p, err := harness.Start(filepath.Join(cp.Dir, fmt.Sprintf("manager-%d.log", managerCount)),
			filepath.Join(root, "bin", "manager"), harness.ManagerFlags{
				Kubeconfig: managerConfig, OperatorNamespace: operatorNamespace, APIURL: eventsSim.APIURL(),
				LeaderElect: true, SyncPeriod: eventsPeriod, APIRateLimit: 100, APIBurst: 50, MetricsAddr: metricsAddr,
				EventReceiverAddr: addr, EventReceiverCertDir: dir,
			}.Args()...)
		Expect(err).NotTo(HaveOccurred())
		managers = append(managers, p)
		metricsURLs[p] = "https://" + metricsAddr + "/metrics"
		DeferCleanup(p.Stop)
		Eventually(func() bool { return isLeader(p) }).WithTimeout(60 * time.Second).Should(BeTrue())

		By("declaring the receiver and an agent, on the namespace's own key")
		kubectl("create", "namespace", eventsNS)
		Expect(cp.Admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: eventsNS, Name: "key"},
			StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: eventsKey}})).To(Succeed())
		own := &cockpitv1alpha1.LocalSecretReference{Name: "key"}
		receiverURL = "https://" + addr + events.PathPrefix + eventsNS + "/events"
		recv = &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: eventsNS, Name: "events"},
			Spec: cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook, APIKeySecretRef: own,
				Webhook: &cockpitv1alpha1.WebhookConfig{URL: receiverURL, EventReceiver: true}}}
		Expect(cp.Admin.Create(ctx, recv)).To(Succeed())
		recv = waitReady(recv)
		var s corev1.Secret
		signingKey := types.NamespacedName{Namespace: eventsNS, Name: mapping.SigningSecretName(recv)}
		Expect(cp.Admin.Get(ctx, signingKey, &s)).To(Succeed())
		signing = s.Data[cockpitv1alpha1.SecretKeySigningSecret]
		Expect(signing).NotTo(BeEmpty())
		agent = &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: eventsNS, Name: "agent"},
			Spec: cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs, APIKeySecretRef: own,
				DisplayName: "Events front desk", ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: "agent-1"}}}
		Expect(cp.Admin.Create(ctx, agent)).To(Succeed())
		agent = waitReady(agent)
		Expect(kubectl("get", "krosendpoints", "-n", eventsNS, "events", "--no-headers",
			"-o", "custom-columns=RECEIVER:.spec.webhook.eventReceiver")).To(Equal("true\n"))
		Expect(kubectl("get", "krosendpoints", "-n", eventsNS)).To(MatchRegexp(`(?m)^NAME .*RECEIVER`),
			"a column of kubectl get")
	})

	// The namespace goes while its manager and simulator still run (they
	// stop after AfterAll): the other specs' manager and plugin talk to the
	// suite's simulator, which does not know this namespace's key.
	AfterAll(func() {
		kubectl("delete", "namespace", eventsNS, "--wait", "--timeout=60s")
	})

	It("bring a dashboard edit, a rename and a deletion to KrosAI and status within seconds", func() {
		id := agent.Status.ID
		took := make([]time.Duration, 0, 5)
		for i := range 5 {
			// As a person edits: seconds apart, so that each edit is read at
			// once rather than after the burst allowance (docs/events.md).
			time.Sleep(1500 * time.Millisecond)
			name := fmt.Sprintf("renamed in the dashboard %d", i)
			began := time.Now()
			_, err := admin.UpdateEndpoint(ctx, id, krosaisim.EndpointPatch{Name: &name,
				ProviderConfig: map[string]any{"elevenlabs_agent_id": fmt.Sprintf("agent-x%d", i)}})
			Expect(err).NotTo(HaveOccurred())
			Eventually(func() krosaisim.Endpoint {
				e, _, err := admin.Endpoint(ctx, id)
				Expect(err).NotTo(HaveOccurred())
				return e
			}).WithTimeout(20 * time.Second).Should(SatisfyAll(HaveField("Name", "Events front desk"),
				HaveField("ProviderConfig", HaveKeyWithValue("elevenlabs_agent_id", "agent-1"))))
			took = append(took, time.Since(began))
		}
		slices.Sort(took)
		GinkgoWriter.Printf("dashboard edit to corrected: median %v, max %v (sync period %v)\n",
			took[len(took)/2], took[len(took)-1], eventsPeriod)

		By("deleting it in the dashboard: re-created, and status says so")
		Expect(admin.DeleteEndpoint(ctx, id)).To(Succeed())
		Eventually(func() string { return get(agent).Status.ID }).WithTimeout(30 * time.Second).
			ShouldNot(Or(Equal(id), BeEmpty()))
		agent = waitReady(agent)

		stats, err := admin.DeliveryStats(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(stats.Answered2xx).To(BeNumerically(">", 0), "the simulator's own deliveries were taken")
		Expect(stats.Failed).To(BeZero(), "over TLS, trusting the test CA")
	})

	It("refuse a forged, a replayed and an oversized delivery, and coalesce a burst, at the cost the design says", func() {
		current, _, err := admin.Endpoint(ctx, agent.Status.ID)
		Expect(err).NotTo(HaveOccurred())
		body := harness.EndpointEvent("evt_e2e_1", krosaisim.EventEndpointUpdated, current.ID, time.Now(), time.Time{})
		Eventually(apiCalls).WithTimeout(10*time.Second).Should(Equal(apiCalls()), "at rest")
		calls := apiCalls()
		Expect(deliver(body, []byte("whsec_forged"))).To(Equal(http.StatusUnauthorized))
		oversized := append(bytes.Repeat([]byte(" "), 5<<20), body...)
		Expect(deliver(oversized, signing)).To(Equal(http.StatusRequestEntityTooLarge))
		Consistently(apiCalls, 2*time.Second).Should(Equal(calls), "forged and oversized: no call")
		Expect(deliver(body, signing)).To(Equal(http.StatusAccepted))
		Eventually(apiCalls).Should(Equal(calls+1), "a valid delivery: one GET")
		Expect(deliver(body, signing)).To(Equal(http.StatusBadRequest), "a replay")
		Consistently(apiCalls, 2*time.Second).Should(Equal(calls+1), "the replay: no call")

		By("a burst of 1,000 valid deliveries for one endpoint")
		calls = apiCalls()
		began := time.Now()
		for i := range 1000 {
			b := harness.EndpointEvent(fmt.Sprintf("evt_burst_%d", i), krosaisim.EventEndpointUpdated, current.ID,
				time.Now(), time.Time{})
			Expect(deliver(b, signing)).To(Equal(http.StatusAccepted))
		}
		took := time.Since(began)
		time.Sleep(2 * time.Second)
		bound := int(took/time.Second) + 3
		Expect(apiCalls()-calls).To(SatisfyAll(BeNumerically(">=", 1), BeNumerically("<=", bound)),
			"GETs only: two at once, then one per second at most over the %v the burst took", took)
		GinkgoWriter.Printf("a burst of 1,000 deliveries over %v cost %d calls\n", took, apiCalls()-calls)

		By("another organization's endpoint: nothing")
		theirs := createWithKey(eventsSim, strangerKey, "theirs")
		calls = apiCalls()
		b := harness.EndpointEvent("evt_stranger", krosaisim.EventEndpointUpdated, theirs, time.Now(), time.Time{})
		Expect(deliver(b, signing)).To(Equal(http.StatusAccepted))
		Consistently(apiCalls, 2*time.Second).Should(Equal(calls))
	})
})

// receiverClient trusts the receiver's test certificate.
var receiverClient *http.Client

func trustingClient(caPEM []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// createWithKey creates an endpoint through the simulator's API with key,
// as another system would, and returns its id.
func createWithKey(s *harness.Simulator, key, name string) string {
	GinkgoHelper()
	body := fmt.Appendf(nil, `{"name":%q,"type":"elevenlabs","provider_config":{"elevenlabs_agent_id":"a"}}`, name)
	req, err := http.NewRequest(http.MethodPost, s.APIURL()+"/endpoints", bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	Expect(resp.StatusCode).To(Equal(http.StatusCreated))
	var e struct{ ID string }
	Expect(json.NewDecoder(resp.Body).Decode(&e)).To(Succeed())
	return e.ID
}
