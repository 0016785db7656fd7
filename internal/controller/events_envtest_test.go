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
	"bytes"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/events"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fixtures"
	"github.com/krosai/kros-operator/test/harness"
)

// eventsWorld is a control plane, a simulator and a manager of their own,
// with the event receiver on and a sync period of an hour: what reaches
// status within seconds can only have come through an event.
type eventsWorld struct {
	f        *fixtures.Set
	sim      *krosaisim.Simulator
	apiURL   string
	key, org string // the default credentials' API key and its organization
	receiver string // the receiver's base URL
}

// startEventsWorld starts it. Without simEvents the simulator sends no
// event: the specs deliver their own. With them, it delivers its own over
// TLS, some late, some twice, some out of order, to a receiver serving
// HTTPS with a certificate it trusts.
func startEventsWorld(simEvents bool) *eventsWorld {
	GinkgoHelper()
	cp, err := harness.StartControlPlane(harness.ControlPlaneOptions{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cp.Stop) // last: the manager stops before it
	simOptions := krosaisim.Options{RequestLogSize: 100000, Events: krosaisim.Events{Disabled: true}}
	receiverCertDir := ""
	if simEvents {
		receiverCertDir = GinkgoT().TempDir()
		caPEM, err := harness.WriteServingCert(receiverCertDir)
		Expect(err).NotTo(HaveOccurred())
		simOptions.EventRootCAs = x509.NewCertPool()
		simOptions.EventRootCAs.AppendCertsFromPEM(caPEM)
		simOptions.Events = krosaisim.Events{Delay: 20 * time.Millisecond, DuplicateRate: 0.5, Reorder: 50 * time.Millisecond}
	}
	s, err := krosaisim.NewSimulator(simOptions)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	front := httptest.NewServer(s.Handler())
	DeferCleanup(front.Close)
	w := &eventsWorld{sim: s, f: &fixtures.Set{Ctx: ctx, Client: cp.Admin, Sim: s.Admin(), Secrets: secretValues,
		NamespacePrefix: "events", OrgPrefix: "44444444-4444-4444-8444-", Timeout: timeout, Interval: interval}}
	w.apiURL = front.URL + "/v1"
	w.key, w.org = w.f.NewOrg()
	w.f.OperatorCredentials(operatorNamespace, defaultCredentials.Name, w.key)

	addr, err := harness.FreeAddr()
	Expect(err).NotTo(HaveOccurred())
	w.receiver = "http://" + addr
	if receiverCertDir != "" {
		w.receiver = "https://" + addr
	}
	m, err := harness.StartManagerWithOptions(cp.Env.Config, ctrl.Options{
		Cache:      CacheOptions(operatorNamespace, nil),
		Controller: config.Controller{SkipNameValidation: new(true)}, // the suite's manager runs the same names
	}, func(m ctrl.Manager) error {
		api, err := krosai.New(krosai.Config{BaseURL: front.URL + "/v1", Timeout: 2 * time.Second, RateLimit: 500, Burst: 100,
			BackoffBase: 10 * time.Millisecond, BackoffCap: 500 * time.Millisecond})
		if err != nil {
			return err
		}
		return Setup(m, api, Options{DefaultCredentials: defaultCredentials, SyncPeriod: time.Hour,
			MaxConcurrentReconciles: 2, EventReceiver: EventReceiverOptions{BindAddress: addr, CertDir: receiverCertDir}})
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = m.Stop() })
	return w
}

// newReceiver creates, in ns, the webhook KrosEndpoint "events" marked as
// the receiver, and returns it Ready with its signing secret.
func (w *eventsWorld) newReceiver(ns string) (*cockpitv1alpha1.KrosEndpoint, []byte) {
	GinkgoHelper()
	// The CRD takes https:// URLs only; a receiver serving plain HTTP is
	// behind a TLS terminator in production, and delivered to directly here.
	_, hostPort, _ := strings.Cut(w.receiver, "://")
	recv := fixtures.NewEndpoint(ns, "events", cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
		Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://" + hostPort + events.PathPrefix + ns + "/events",
			EventReceiver: true}})
	Expect(w.f.Client.Create(ctx, recv)).To(Succeed())
	recv = w.f.WaitReady(recv)
	var s corev1.Secret
	Expect(w.f.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: mapping.SigningSecretName(recv)}, &s)).To(Succeed())
	secret := s.Data[cockpitv1alpha1.SecretKeySigningSecret]
	Expect(secret).NotTo(BeEmpty())
	secretValues.Add(string(secret), "a webhook signing secret")
	return recv, secret
}

// deliver posts an event about endpoint to the receiver recv, signed with
// secret, and returns the status.
func (w *eventsWorld) deliver(recv *cockpitv1alpha1.KrosEndpoint, secret []byte, body []byte) int {
	GinkgoHelper()
	status, err := events.Deliver(ctx, http.DefaultClient,
		w.receiver+events.PathPrefix+recv.Namespace+"/"+recv.Name, secret, body)
	Expect(err).NotTo(HaveOccurred())
	return status
}

var eventSeq int

// endpointEvent is an event about e, as the simulator would send it.
func endpointEvent(typ string, e krosaisim.Endpoint) []byte {
	eventSeq++
	return harness.EndpointEvent(fmt.Sprintf("evt_test_%d", eventSeq), typ, e.ID, time.Now(), e.UpdatedAt)
}

// countRequests counts the simulator's requests of an operation naming id.
func (w *eventsWorld) countRequests(operation, id string) int {
	n := 0
	for _, r := range w.sim.Requests() {
		if r.Operation == operation && r.EndpointID == id {
			n++
		}
	}
	return n
}

// createInDashboard creates an endpoint as the dashboard would, with key.
func (w *eventsWorld) createInDashboard(key, org, name, agentID string) krosaisim.Endpoint {
	GinkgoHelper()
	return createRemoteAt(w.sim, w.apiURL, key, org, map[string]any{"name": name, "type": "elevenlabs",
		"provider_config": map[string]any{"elevenlabs_agent_id": agentID}})
}

// reads counts the requests that read endpoint id: its GETs, and lists.
func (w *eventsWorld) reads(id string) int {
	return w.countRequests("getEndpoint", id) + w.countRequests("listEndpoints", "")
}

// apiCalls counts every request the simulator served.
func (w *eventsWorld) apiCalls() int { return len(w.sim.Requests()) }

var _ = Describe("KrosAI's signed events", Ordered, func() {
	var (
		w       *eventsWorld
		ns      string
		recv    *cockpitv1alpha1.KrosEndpoint
		signing []byte
		agent   *cockpitv1alpha1.KrosEndpoint
	)
	BeforeAll(func() {
		w = startEventsWorld(false)
		ns = w.f.NewNamespace()
		recv, signing = w.newReceiver(ns)
		agent = fixtures.NewEndpoint(ns, "agent", elevenLabsSpec("agent-1"))
		Expect(w.f.Client.Create(ctx, agent)).To(Succeed())
		agent = w.f.WaitReady(agent)
	})

	It("correct a dashboard edit and rename within seconds, with one GET, though the sync period is an hour", func() {
		id := agent.Status.ID
		before, _ := w.sim.Endpoint(id)
		name := "renamed in the dashboard"
		edited, err := w.sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Name: &name,
			ProviderConfig: map[string]any{"elevenlabs_agent_id": "agent-2"}})
		Expect(err).NotTo(HaveOccurred())
		reads, patches := w.reads(id), w.countRequests("updateEndpoint", id)
		Expect(w.deliver(recv, signing, endpointEvent("endpoint.updated", edited))).To(Equal(http.StatusAccepted))
		Eventually(func() krosaisim.Endpoint { e, _ := w.sim.Endpoint(id); return e }, 10*time.Second, interval).Should(SatisfyAll(
			HaveField("Name", before.Name),
			HaveField("ProviderConfig", HaveKeyWithValue("elevenlabs_agent_id", "agent-1"))), "corrected through the event")
		Expect(w.reads(id)-reads).To(Equal(1), "one read: a GET, or the organization's first list if it was never listed")
		Expect(w.countRequests("updateEndpoint", id) - patches).To(Equal(1))
	})

	It("take the echo of the operator's own write for what it is: no read", func() {
		id := agent.Status.ID
		current, _ := w.sim.Endpoint(id)
		calls := w.apiCalls()
		Expect(w.deliver(recv, signing, endpointEvent("endpoint.updated", current))).To(Equal(http.StatusAccepted))
		Consistently(w.apiCalls, 2*time.Second, interval).Should(Equal(calls))
	})

	It("report drift on an ObserveOnly resource within seconds", func() {
		seen := w.createInDashboard(w.key, w.org, "support line", "agent-obs")
		observer := fixtures.NewEndpoint(ns, "observer", elevenLabsSpec("agent-obs"))
		observer.Spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
		observer.Spec.DisplayName = "support line"
		observer.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: seen.ID}
		Expect(w.f.Client.Create(ctx, observer)).To(Succeed())
		observer = w.f.WaitReady(observer)
		Expect(observer.Status.Drift).To(BeEmpty())

		edited, err := w.sim.UpdateEndpoint(seen.ID, krosaisim.EndpointPatch{ProviderConfig: map[string]any{"elevenlabs_agent_id": "agent-x"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(w.deliver(recv, signing, endpointEvent("endpoint.updated", edited))).To(Equal(http.StatusAccepted))
		Eventually(func() []cockpitv1alpha1.FieldDrift { return w.f.Get(observer).Status.Drift }, 10*time.Second, interval).
			Should(ContainElement(HaveField("Observed", "agent-x")))
		Expect(w.countRequests("updateEndpoint", seen.ID)).To(BeZero(), "ObserveOnly never writes")
	})

	It("re-create an endpoint deleted in the dashboard within seconds", func() {
		gone := agent.Status.ID
		before, _ := w.sim.Endpoint(gone)
		Expect(w.sim.DeleteEndpoint(gone)).To(Succeed())
		Expect(w.deliver(recv, signing, endpointEvent("endpoint.deleted", before))).To(Equal(http.StatusAccepted))
		Eventually(func() string { return w.f.Get(agent).Status.ID }, 15*time.Second, interval).
			ShouldNot(Or(Equal(gone), BeEmpty()), "re-created after KrosAI confirmed the deletion")
		agent = w.f.WaitReady(agent)
	})

	It("refuse forged, replayed and oversized deliveries at no cost", func() {
		current, _ := w.sim.Endpoint(agent.Status.ID)
		current.UpdatedAt = time.Time{} // no echo: a valid delivery would cost a read
		body := endpointEvent("endpoint.updated", current)
		calls := w.apiCalls()
		Expect(w.deliver(recv, []byte("whsec_forged"), body)).To(Equal(http.StatusUnauthorized))
		huge := append(bytes.Repeat([]byte(" "), 5<<20), body...)
		Expect(w.deliver(recv, signing, huge)).To(Equal(http.StatusRequestEntityTooLarge))
		Expect(w.deliver(recv, signing, body)).To(Equal(http.StatusAccepted))
		Eventually(w.apiCalls, 5*time.Second, interval).Should(Equal(calls+1), "the one valid delivery: one GET")
		Expect(w.deliver(recv, signing, body)).To(Equal(http.StatusBadRequest), "the same delivery again")
		Consistently(w.apiCalls, 2*time.Second, interval).Should(Equal(calls + 1))
	})

	It("coalesce a burst of 1,000 valid deliveries for one endpoint into a read per window", func() {
		id := agent.Status.ID
		current, _ := w.sim.Endpoint(id)
		current.UpdatedAt = time.Time{}
		gets, patches := w.countRequests("getEndpoint", id), w.countRequests("updateEndpoint", id)
		began := time.Now()
		for range 1000 {
			Expect(w.deliver(recv, signing, endpointEvent("endpoint.updated", current))).To(Equal(http.StatusAccepted))
		}
		took := time.Since(began)
		time.Sleep(2 * eventReadWindow) // the last read due
		bound := int(took/eventReadWindow) + eventReadBurst + 1
		Expect(w.countRequests("getEndpoint", id)-gets).To(SatisfyAll(BeNumerically(">=", 1), BeNumerically("<=", bound)),
			"%d reads at once, then at most one per %v over the %v the burst took", eventReadBurst, eventReadWindow, took)
		Expect(w.countRequests("updateEndpoint", id)).To(Equal(patches), "nothing changed: nothing written")
	})

	It("touch nothing for another organization's endpoint, or another namespace's", func() {
		otherKey, otherOrg := w.f.NewOrg()
		theirs := w.createInDashboard(otherKey, otherOrg, "theirs", "agent-t")
		otherNS := w.f.NewNamespace()
		neighbour := fixtures.NewEndpoint(otherNS, "neighbour", elevenLabsSpec("agent-n"))
		Expect(w.f.Client.Create(ctx, neighbour)).To(Succeed())
		neighbour = w.f.WaitReady(neighbour)
		Expect(otherOrg).NotTo(Equal(neighbour.Status.OrganizationID))

		calls := w.apiCalls()
		Expect(w.deliver(recv, signing, endpointEvent("endpoint.updated", theirs))).To(Equal(http.StatusAccepted))
		mine, _ := w.sim.Endpoint(neighbour.Status.ID)
		mine.UpdatedAt = time.Time{}
		Expect(w.deliver(recv, signing, endpointEvent("endpoint.updated", mine))).To(Equal(http.StatusAccepted))
		Consistently(w.apiCalls, 2*time.Second, interval).Should(Equal(calls),
			"a receiver acts for its own namespace and organization only")
	})
})

var _ = Describe("The simulator's own signed events, over TLS", Ordered, func() {
	var (
		w     *eventsWorld
		ns    string
		agent *cockpitv1alpha1.KrosEndpoint
	)
	// settled waits until the simulator has no delivery waiting or in
	// flight, and the operator's reads they caused are done.
	settled := func() {
		GinkgoHelper()
		Eventually(func() int { return w.sim.DeliveryStats().Pending }, 10*time.Second, interval).Should(BeZero())
		Eventually(w.apiCalls, 5*time.Second, time.Second).Should(Equal(w.apiCalls()))
	}
	BeforeAll(func() {
		w = startEventsWorld(true)
		ns = w.f.NewNamespace()
		w.newReceiver(ns)
		agent = fixtures.NewEndpoint(ns, "agent", elevenLabsSpec("agent-1"))
		Expect(w.f.Client.Create(ctx, agent)).To(Succeed())
		agent = w.f.WaitReady(agent)
	})

	It("cost no read for the echoes of the operator's own create", func() {
		settled()
		Expect(w.sim.DeliveryStats().Answered2xx).To(BeNumerically(">", 0), "the simulator delivered the creates")
		Expect(w.countRequests("getEndpoint", agent.Status.ID)).To(BeZero())
	})

	It("bring a dashboard edit back within seconds, and cost no read for the echo of the correction", func() {
		id := agent.Status.ID
		before, _ := w.sim.Endpoint(id)
		name := "renamed in the dashboard"
		_, err := w.sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Name: &name})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { e, _ := w.sim.Endpoint(id); return e.Name }, 10*time.Second, interval).
			Should(Equal(before.Name))
		settled()
		Expect(w.countRequests("getEndpoint", id)).To(BeNumerically("<=", 1), "one read for the edit, none for the echo")
		Expect(w.countRequests("updateEndpoint", id)).To(Equal(1))
		Expect(w.sim.DeliveryStats()).To(SatisfyAll(HaveField("Failed", BeZero()), HaveField("Answered5xx", BeZero())))
	})

	It("re-create an endpoint deleted in the dashboard within seconds", func() {
		gone := agent.Status.ID
		Expect(w.sim.DeleteEndpoint(gone)).To(Succeed())
		Eventually(func() string { return w.f.Get(agent).Status.ID }, 15*time.Second, interval).
			ShouldNot(Or(Equal(gone), BeEmpty()))
		agent = w.f.WaitReady(agent)
	})
})
