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

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/events"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	// eventsSyncPeriod is the manager's --sync-period in the events phase:
	// long enough that no list finds a dashboard edit before an event does.
	eventsSyncPeriod = 10 * time.Minute
	// receiverName is the events phase's receiver, in the operator's
	// namespace so that it acts for every namespace.
	receiverName = "events"
	// agentIDField is the ElevenLabs agent id in an endpoint's provider_config.
	agentIDField = "elevenlabs_agent_id"
	// abuseN is how many forged, replayed and oversized deliveries are sent.
	abuseN = 20
	// burstN valid deliveries naming one endpoint are sent as fast as one
	// client can.
	burstN = 1000
)

// The events phase's sets: Full resources, the sources of the endpoints
// the ObserveOnly ones observe, and those.
const eventsFull, eventsSource, eventsObserved = "evfull", "evsrc", "evobs"

// receiver is the events phase's receiver as a sender sees it: its URL,
// its signing secret, and a client trusting its certificate.
type receiver struct {
	url    string
	secret []byte
	client *http.Client
}

// deliver POSTs body signed with secret and returns the status answered,
// 0 if none was.
func (r receiver) deliver(body, secret []byte) int {
	status, _ := events.Deliver(context.Background(), r.client, r.url, secret, body)
	return status
}

// events measures KrosAI's events with the receiver on: how soon a
// dashboard edit is corrected (Full) or reported in status.drift
// (ObserveOnly), one edit at a time, under a sync period too long to find
// any; the API calls per delivery; and the calls that forged, replayed,
// oversized and bursting deliveries cause. Then it restores the manager the
// next phases expect.
func (b *bench) events() error {
	const phase = "events"
	n := b.c.eventsN
	if n == 0 {
		return nil
	}
	fmt.Printf("\n%s: %d dashboard edits under Full and %d under ObserveOnly, the receiver on, --sync-period=%s\n",
		phase, n, n, eventsSyncPeriod)
	so, err := b.sim.Admin().DeliveryStats(b.ctx)
	if err != nil {
		return err
	}
	// The other phases' webhooks point at hooks.example.com, which the
	// simulator does not deliver to: each of their events cost it a skip.
	fmt.Printf("    the simulator so far: %d events, %d deliveries skipped (webhooks off loopback), %d sent\n",
		so.Events, so.Skipped, so.Sent)
	b.add(phase, "deliveries sent before the receiver existed", float64(so.Sent), "", "0")
	// The bench's API limit, which the plan phases leave at the Free plan's.
	if err := b.setFaults(func(f *krosaisim.Faults) { f.RateLimit, f.Burst = b.c.rate, int(b.c.rate) }); err != nil {
		return err
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	b.manager.Stop()
	// The last --sync-period given wins over the one startManager sets.
	if err := b.startManager(b.c.clientRate, "--event-receiver-bind-address="+addr,
		"--event-receiver-cert-dir="+b.eventCerts, "--sync-period="+eventsSyncPeriod.String()); err != nil {
		return err
	}
	r, err := b.startReceiver(addr)
	if err != nil {
		return err
	}
	fullIDs, err := b.editFull(phase, n)
	if err != nil {
		return err
	}
	observedIDs, err := b.editObserveOnly(phase, n)
	if err != nil {
		return err
	}
	if err := b.abuse(phase, r, fullIDs); err != nil {
		return err
	}
	if err := b.eventMetrics(phase); err != nil {
		return err
	}

	// What the next phases expect: nothing left, here or at KrosAI, and a
	// manager started as at the bench's start.
	if err := b.deleteSet(eventsObserved); err != nil {
		return err
	}
	for _, id := range observedIDs { // ObserveOnly leaves them behind
		if err := b.sim.Admin().DeleteEndpoint(b.ctx, id); err != nil {
			return err
		}
	}
	recv := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: receiverName}}
	if err := b.cp.Admin.Delete(b.ctx, recv); err != nil {
		return err
	}
	if err := b.clear(); err != nil {
		return err
	}
	b.manager.Stop()
	b.keepManagerLog("manager-events.log")
	return b.startManager(b.c.clientRate)
}

// startReceiver declares the receiver, a webhook KrosEndpoint whose URL is
// the manager's receiver at addr, waits until the operator has created it
// at KrosAI and written its signing secret, and returns it.
func (b *bench) startReceiver(addr string) (receiver, error) {
	url := "https://" + addr + events.PathPrefix + operatorNamespace + "/" + receiverName
	ep := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: receiverName},
		Spec: cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: url, EventReceiver: true}}}
	if err := b.cp.Admin.Create(b.ctx, ep); err != nil {
		return receiver{}, err
	}
	if err := waitFor(time.Minute, func() (bool, error) {
		err := b.cp.Admin.Get(b.ctx, client.ObjectKeyFromObject(ep), ep)
		return err == nil && upToDate(ep) && ep.Status.SigningSecretName != "", err
	}); err != nil {
		return receiver{}, fmt.Errorf("the receiver is not Ready: %w", err)
	}
	var s corev1.Secret
	key := client.ObjectKey{Namespace: operatorNamespace, Name: ep.Status.SigningSecretName}
	if err := b.cp.Admin.Get(b.ctx, key, &s); err != nil {
		return receiver{}, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.eventCA)
	return receiver{url: url, secret: s.Data[cockpitv1alpha1.SecretKeySigningSecret], client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}}, nil
}

// elevenLabs makes a resource of a set an ElevenLabs agent, the one type
// the events phase edits.
func elevenLabs(i int, ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs,
		ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: fmt.Sprintf("agent-%d", i)}}
}

// editFull creates n Full resources, then renames each endpoint and
// changes its agent in the dashboard, one at a time, and times each until
// KrosAI shows it corrected. It returns the endpoints' ids.
func (b *bench) editFull(phase string, n int) ([]string, error) {
	fmt.Printf("    Full: %d ElevenLabs resources, each endpoint renamed and its agent changed in the dashboard\n", n)
	d, _, err := b.measure(func(counters) error {
		if err := b.spawn(eventsFull, n, elevenLabs); err != nil {
			return err
		}
		if _, ready, err := b.waitSet(eventsFull, n, 5*time.Minute, nil); err != nil || ready < n {
			return fmt.Errorf("%s: %d of %d Full resources Ready (%v)", phase, ready, n, err)
		}
		return b.settleEvents()
	})
	if err != nil {
		return nil, err
	}
	// Each create's event is the echo of the operator's own POST.
	b.add(phase, "Full: GETs for the creates' events", float64(d.api["getEndpoint"]), "", "0")
	ids, err := b.endpointIDs(eventsFull, n)
	if err != nil {
		return nil, err
	}
	admin := b.sim.Admin()
	wants := make([]krosaisim.Endpoint, n)
	for i, id := range ids {
		if wants[i], _, err = admin.Endpoint(b.ctx, id); err != nil {
			return nil, err
		}
	}
	took, d, sent, err := b.timeEdits(n, func(i int) error {
		name := fmt.Sprintf("dashboard %d", i)
		_, err := admin.UpdateEndpoint(b.ctx, ids[i], krosaisim.EndpointPatch{Name: &name,
			ProviderConfig: map[string]any{agentIDField: fmt.Sprintf("dashboard-%d", i)}})
		return err
	}, func(i int) (bool, error) {
		e, _, err := admin.Endpoint(b.ctx, ids[i])
		agent, wanted := fmt.Sprint(e.ProviderConfig[agentIDField]), fmt.Sprint(wants[i].ProviderConfig[agentIDField])
		return e.Name == wants[i].Name && agent == wanted, err
	})
	if err != nil {
		return nil, err
	}
	b.reportEdits(phase, "Full", "corrected at KrosAI", took, d, sent, "1.000", "2: the edit, the PATCH's echo")
	return ids, nil
}

// editObserveOnly makes n endpoints as another system would and n
// ObserveOnly resources observing them, then changes each endpoint's agent
// in the dashboard, one at a time, and times each until the resource's
// status.drift shows the new agent. It returns the endpoints' ids: the
// resources leave them behind.
func (b *bench) editObserveOnly(phase string, n int) ([]string, error) {
	fmt.Printf("    ObserveOnly: %d ElevenLabs resources, each endpoint's agent changed in the dashboard\n", n)
	ids, err := b.orphans(eventsSource, n, elevenLabs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", phase, err)
	}
	if err := b.spawn(eventsObserved, n, func(i int, ep *cockpitv1alpha1.KrosEndpoint) {
		elevenLabs(i, ep)
		ep.Spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
		ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: ids[i]}
	}); err != nil {
		return ids, err
	}
	if _, ready, err := b.waitSet(eventsObserved, n, 5*time.Minute, nil); err != nil || ready < n {
		return ids, fmt.Errorf("%s: %d of %d ObserveOnly resources Ready (%v)", phase, ready, n, err)
	}
	if err := b.settleEvents(); err != nil {
		return ids, err
	}
	took, d, sent, err := b.timeEdits(n, func(i int) error {
		agent := fmt.Sprintf("dashboard-%d", i)
		_, err := b.sim.Admin().UpdateEndpoint(b.ctx, ids[i], krosaisim.EndpointPatch{
			ProviderConfig: map[string]any{agentIDField: agent}})
		return err
	}, func(i int) (bool, error) {
		ep := endpoint(eventsObserved, i, b.c.namespaces)
		if err := b.cp.Admin.Get(b.ctx, client.ObjectKeyFromObject(ep), ep); err != nil {
			return false, err
		}
		return slices.ContainsFunc(ep.Status.Drift, func(f cockpitv1alpha1.FieldDrift) bool {
			return f.Observed == fmt.Sprintf("dashboard-%d", i)
		}), nil
	})
	if err != nil {
		return ids, err
	}
	b.reportEdits(phase, "ObserveOnly", "in status.drift", took, d, sent, "0", "1")
	return ids, nil
}

// timeEdits makes the dashboard edit of each of n endpoints in turn and
// times it until done says the operator acted on it, polling every 20 ms.
// It returns the times, and the API calls and deliveries of all the edits,
// counted once their events have settled.
func (b *bench) timeEdits(n int, edit func(i int) error, done func(i int) (bool, error)) (
	took []time.Duration, d counters, sent krosaisim.DeliveryStats, err error) {
	before, err := b.sim.Admin().DeliveryStats(b.ctx)
	if err != nil {
		return nil, d, sent, err
	}
	d, _, err = b.measure(func(counters) error {
		for i := range n {
			start := time.Now()
			if err := edit(i); err != nil {
				return err
			}
			if err := poll(20*time.Millisecond, time.Minute, func() (bool, error) { return done(i) }); err != nil {
				return fmt.Errorf("dashboard edit %d of %d not acted on: %w", i+1, n, err)
			}
			took = append(took, time.Since(start))
		}
		return b.settleEvents()
	})
	if err != nil {
		return nil, d, sent, err
	}
	sent, err = b.deliveriesSince(before)
	return took, d, sent, err
}

// reportEdits reports the times of one policy's edits against the sync
// period, and what they cost: a read per edit, and the PATCH that corrects
// it under Full, whose echo the simulator delivers too. A read is a GET, or
// the organization's list where the manager holds none younger than the
// sync period: its first lookup since it started, with no resource then,
// lists.
func (b *bench) reportEdits(phase, policy, what string, took []time.Duration, d counters, sent krosaisim.DeliveryStats,
	patches, deliveries string) {
	n := float64(len(took))
	slices.Sort(took)
	median := took[len(took)/2]
	if len(took)%2 == 0 {
		median = (took[len(took)/2-1] + median) / 2
	}
	gets, lists := d.api["getEndpoint"], d.api["listEndpoints"]
	fmt.Printf("    %s: %d edits read %d times: %d GETs, %d list pages; the simulator sent %d deliveries: "+
		"%d answered 2xx, %d 4xx, %d 5xx, %d failed\n", policy, len(took), gets+lists, gets, lists,
		sent.Sent, sent.Answered2xx, sent.Answered4xx, sent.Answered5xx, sent.Failed)
	b.add(phase, policy+": edit to "+what+", median", median.Seconds(), "s", "")
	b.add(phase, policy+": edit to "+what+", max", took[len(took)-1].Seconds(), "s", "")
	b.add(phase, policy+": sync period / median", b.c.syncPeriod.Seconds()/median.Seconds(), "x",
		fmt.Sprintf("without events: up to %s, %s on average", b.c.syncPeriod, b.c.syncPeriod/2))
	b.add(phase, policy+": reads per dashboard edit (GETs, list pages)", float64(gets+lists)/n, "", "1.000")
	b.add(phase, policy+": GETs per dashboard edit", float64(gets)/n, "", "")
	b.add(phase, policy+": PATCHes per dashboard edit", float64(d.api["updateEndpoint"])/n, "", patches)
	b.add(phase, policy+": deliveries answered 2xx per edit", float64(sent.Answered2xx)/n, "", deliveries)
	if sent.Answered2xx > 0 {
		b.add(phase, policy+": API calls per delivery", float64(d.apiTotal())/float64(sent.Answered2xx), "", "")
		b.add(phase, policy+": reads per delivery", float64(gets+lists)/float64(sent.Answered2xx), "", "")
	}
}

// abuse sends what a sender without the secret, or one replaying or
// flooding, can: forged, replayed and oversized deliveries, each costing
// no API call, then a burst of valid deliveries naming one endpoint, which
// costs about a GET per second. ids are endpoints that resources own.
func (b *bench) abuse(phase string, r receiver, ids []string) error {
	event := func(kind string, i int, id string) []byte {
		return harness.EndpointEvent(fmt.Sprintf("evt_bench_%s_%d", kind, i), krosaisim.EventEndpointUpdated, id,
			time.Now(), time.Time{})
	}
	bodies := make([][]byte, abuseN)
	for i := range bodies {
		bodies[i] = event("replayed", i, ids[i%len(ids)])
	}
	fmt.Printf("    %d forged, %d replayed and %d oversized (2 MiB) deliveries, then %d valid ones for one endpoint\n",
		abuseN, abuseN, abuseN, burstN)
	kinds := []struct {
		name, unit string
		n          int
		body       func(i int) (body, secret []byte)
	}{
		{"forged (another secret)", "forged", abuseN, func(i int) ([]byte, []byte) {
			return event("forged", i, ids[i%len(ids)]), []byte("whsec_forged")
		}},
		{"valid, each naming an endpoint once, before their replays", "valid", abuseN, func(i int) ([]byte, []byte) {
			return bodies[i], r.secret
		}},
		{"replayed (the same body again)", "replayed", abuseN, func(i int) ([]byte, []byte) {
			return bodies[i], r.secret
		}},
		{"oversized (2 MiB)", "oversized", abuseN, func(i int) ([]byte, []byte) {
			return append(event("oversized", i, ids[i%len(ids)]), bytes.Repeat([]byte(" "), 2<<20)...), r.secret
		}},
		{"burst for one endpoint", "burst", burstN, func(i int) ([]byte, []byte) {
			return event("burst", i, ids[0]), r.secret
		}},
	}
	for _, k := range kinds {
		answers := map[int]int{}
		var took time.Duration
		d, _, err := b.measure(func(counters) error {
			start := time.Now()
			for i := range k.n {
				answers[r.deliver(k.body(i))]++
			}
			took = time.Since(start)
			return b.settleEvents()
		})
		if err != nil {
			return err
		}
		fmt.Printf("    %s: answered %v (status: deliveries; 0: no answer) in %.2f s\n", k.name, answers, took.Seconds())
		if k.unit != "burst" {
			target := "0"
			if k.unit == "valid" { // a GET per endpoint named; several deliveries of one in a window, one
				target = fmt.Sprintf("%.3f", float64(min(k.n, len(ids)))/float64(k.n))
			}
			b.add(phase, "API calls per "+k.unit+" delivery", float64(d.apiTotal())/float64(k.n), "", target)
			continue
		}
		b.add(phase, fmt.Sprintf("burst of %d: duration", k.n), took.Seconds(), "s", "")
		b.add(phase, fmt.Sprintf("burst of %d: GETs", k.n), float64(d.api["getEndpoint"]), "",
			fmt.Sprintf("<= %d: two at once, then one per second of the burst", int(took.Seconds())+3))
		b.add(phase, fmt.Sprintf("burst of %d: other API calls", k.n), float64(d.apiTotal()-d.api["getEndpoint"]), "", "0")
	}
	return nil
}

// settleEvents waits until the simulator has no delivery pending, then for
// a read window and the API's latency: a read an event asked for within the
// window waits for its end.
func (b *bench) settleEvents() error {
	if err := waitFor(time.Minute, func() (bool, error) {
		st, err := b.sim.Admin().DeliveryStats(b.ctx)
		return st.Pending == 0, err
	}); err != nil {
		return fmt.Errorf("deliveries still pending: %w", err)
	}
	time.Sleep(2 * time.Second)
	return nil
}

// deliveriesSince counts the simulator's deliveries since before.
func (b *bench) deliveriesSince(before krosaisim.DeliveryStats) (krosaisim.DeliveryStats, error) {
	now, err := b.sim.Admin().DeliveryStats(b.ctx)
	return krosaisim.DeliveryStats{Events: now.Events - before.Events, Sent: now.Sent - before.Sent,
		Answered2xx: now.Answered2xx - before.Answered2xx, Answered4xx: now.Answered4xx - before.Answered4xx,
		Answered5xx: now.Answered5xx - before.Answered5xx, Failed: now.Failed - before.Failed}, err
}

// eventMetrics reports the manager's event metrics over the phase: the
// deliveries by outcome, the simulator's and the bench's alike, and the
// time from a delivery to its resource's status.
func (b *bench) eventMetrics(phase string) error {
	m, err := b.scrape()
	if err != nil {
		return err
	}
	byOutcome := map[string]float64{}
	for _, s := range m["kros_operator_event_deliveries_total"].GetMetric() {
		for _, l := range s.GetLabel() {
			if l.GetName() == "outcome" {
				byOutcome[l.GetValue()] = s.GetCounter().GetValue()
			}
		}
	}
	if len(byOutcome) == 0 {
		b.na(phase, "kros_operator_event_deliveries_total", "", "", "the manager does not export it")
	}
	for _, outcome := range slices.Sorted(maps.Keys(byOutcome)) {
		if byOutcome[outcome] > 0 {
			b.add(phase, "event_deliveries_total{"+outcome+"}", byOutcome[outcome], "", "")
		}
	}
	const toStatus = "kros_operator_event_to_status_seconds"
	count := histogramCount(m, toStatus)
	b.add(phase, "event_to_status_seconds count", count, "", "")
	for _, q := range []float64{0.5, 0.99} {
		name := fmt.Sprintf("event_to_status_seconds p%g", 100*q)
		if count == 0 {
			b.na(phase, name, "s", "", "no sample")
			continue
		}
		b.add(phase, name, histogramQuantile(m[toStatus], q), "s", "from the buckets")
	}
	return nil
}

// histogramQuantile estimates the q-quantile of a histogram without labels
// from its buckets as Prometheus's histogram_quantile does: linearly within
// the bucket it falls in, the highest finite bound beyond them.
func histogramQuantile(family *dto.MetricFamily, q float64) float64 {
	h := family.GetMetric()[0].GetHistogram()
	rank := q * float64(h.GetSampleCount())
	lower, below := 0.0, 0.0
	for _, bucket := range h.GetBucket() {
		upper, count := bucket.GetUpperBound(), float64(bucket.GetCumulativeCount())
		if math.IsInf(upper, 1) {
			break
		}
		if count >= rank {
			if count == below {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/(count-below)
		}
		lower, below = upper, count
	}
	return lower
}
