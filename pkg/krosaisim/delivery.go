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

package krosaisim

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Outcomes of a delivery, in DeliveryRecord.Outcome.
const (
	// DeliveryAnswered: the webhook answered; Status says with what.
	DeliveryAnswered = "answered"
	// DeliveryFailed: the webhook did not answer (refused, TLS failure,
	// timeout); Error says why.
	DeliveryFailed = "failed"
	// DeliveryDropped: Events.DropRate dropped it; nothing was sent.
	DeliveryDropped = "dropped"
	// DeliverySkipped: the webhook's URL is not http(s) to one of the hosts
	// the simulator may reach (Options.EventHosts); nothing was sent.
	DeliverySkipped = "skipped"
	// DeliveryQueueFull: Options.EventQueueSize deliveries were already
	// waiting or in flight; nothing was sent.
	DeliveryQueueFull = "queue-full"
	// DeliveryCanceled: it was still waiting to be sent when the simulator
	// closed.
	DeliveryCanceled = "canceled"
)

// DeliveryRecord is one event's delivery to one webhook, as Deliveries
// remembers it.
type DeliveryRecord struct {
	// Time is when the outcome was known.
	Time      time.Time `json:"time"`
	EventID   string    `json:"eventId"`
	EventType string    `json:"eventType"`
	// EndpointID is the endpoint the event is about.
	EndpointID string `json:"endpointId"`
	// WebhookID and URL are the webhook endpoint it was delivered to, and
	// its URL (any password in it redacted).
	WebhookID string `json:"webhookId"`
	URL       string `json:"url"`
	// Outcome is one of the Delivery* outcomes.
	Outcome string `json:"outcome"`
	// Status is the webhook's HTTP status, 0 unless Outcome is answered.
	Status int `json:"status,omitempty"`
	// Duplicate marks the second copy of a delivery Events.DuplicateRate
	// sent twice.
	Duplicate bool `json:"duplicate,omitempty"`
	// Error is why a failed delivery got no answer.
	Error string `json:"error,omitempty"`
}

// DeliveryStats counts event deliveries since start or Reset. An event goes
// to every webhook of its organization: each is a delivery.
type DeliveryStats struct {
	// Events is how many events were built: one per change in an
	// organization that has a webhook.
	Events int `json:"events"`
	// Sent is the deliveries sent, copies included: each was answered
	// (Answered*, by status class) or failed.
	Sent        int `json:"sent"`
	Answered2xx int `json:"answered2xx"`
	Answered3xx int `json:"answered3xx"` // redirects are not followed
	Answered4xx int `json:"answered4xx"`
	Answered5xx int `json:"answered5xx"` // 500 and above
	Failed      int `json:"failed"`
	// Dropped, Duplicated: how often Events.DropRate and
	// Events.DuplicateRate struck.
	Dropped    int `json:"dropped"`
	Duplicated int `json:"duplicated"`
	// Skipped is the deliveries to a URL the simulator may not reach.
	Skipped int `json:"skipped"`
	// QueueFull is the deliveries dropped because the queue was full.
	QueueFull int `json:"queueFull"`
	// Canceled is the deliveries still waiting when the simulator closed.
	Canceled int `json:"canceled"`
	// Pending is the deliveries queued, waiting out a delay or in flight
	// now: 0 once every event so far has had its outcome.
	Pending int `json:"pending"`
}

const (
	// deliveryWorkers send deliveries; each webhook has one of them, so
	// that its deliveries go out one at a time, in order.
	deliveryWorkers = 4
	// deliveryTimeout bounds one delivery, connecting and reading included.
	deliveryTimeout = 5 * time.Second
	// drainLimit is how much of a webhook's answer is read, so that the
	// connection can be reused, before it is closed unread.
	drainLimit = 64 << 10
)

// DefaultEventHosts returns the hosts events are delivered to unless
// Options.EventHosts says otherwise: loopback only, so that the simulator is
// no tool for reaching elsewhere and never waits on DNS.
func DefaultEventHosts() []string { return []string{"127.0.0.1", "localhost", "::1"} }

// delivery is an event on its way to one webhook.
type delivery struct {
	rec    DeliveryRecord
	url    string // unredacted
	body   []byte
	secret string // the webhook's signing secret, the HMAC key: never logged
	due    time.Time
	seq    uint64 // orders deliveries due at the same instant as they were queued
	gen    uint64 // the Reset generation it was queued in
}

// deliverer queues deliveries, sends them from its workers and counts them.
type deliverer struct {
	hosts  map[string]bool
	client *http.Client
	queues []chan *delivery // one per worker
	stop   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	gen, seq uint64
	pending  int // queued and not finished, at most capacity
	capacity int
	stats    DeliveryStats
	log      ring[DeliveryRecord]
}

// newDeliverer validates opts' event hosts; start starts its workers.
func newDeliverer(opts Options) (*deliverer, error) {
	hosts, err := hostSet(opts.EventHosts)
	if err != nil {
		return nil, err
	}
	d := &deliverer{
		hosts:    hosts,
		client:   newDeliveryClient(opts.EventRootCAs),
		queues:   make([]chan *delivery, deliveryWorkers),
		stop:     make(chan struct{}),
		capacity: positiveOr(opts.EventQueueSize, 1000),
		log:      newRing[DeliveryRecord](positiveOr(opts.DeliveryLogSize, 1000)),
	}
	for i := range d.queues {
		// As deep as the whole capacity, so that queueing never blocks.
		d.queues[i] = make(chan *delivery, d.capacity)
	}
	return d, nil
}

func (d *deliverer) start() {
	for _, queue := range d.queues {
		d.wg.Add(1)
		go d.work(queue)
	}
}

func positiveOr(n, otherwise int) int {
	if n > 0 {
		return n
	}
	return otherwise
}

// hostSet normalizes hosts (nil: DefaultEventHosts).
func hostSet(hosts []string) (map[string]bool, error) {
	if hosts == nil {
		hosts = DefaultEventHosts()
	}
	set := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		n := normalizeHost(h)
		if _, err := netip.ParseAddr(n); err != nil && (n == "" || strings.ContainsAny(n, "/:@?# ")) {
			return nil, fmt.Errorf("event host %q: want a host name or IP address, without scheme or port", h)
		}
		set[n] = true
	}
	return set, nil
}

// normalizeHost lowercases a host and writes an IP address canonically, so
// that "::1", "[::1]" and "0:0:0:0:0:0:0:1" are one host.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap().String()
	}
	return h
}

func newDeliveryClient(roots *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout: deliveryTimeout,
		// A redirect is the webhook's answer: following it could lead to a
		// host the simulator may not reach.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:               nil, // straight to an allowed host, never through the environment's proxy
			TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: deliveryTimeout,
			MaxIdleConnsPerHost: deliveryWorkers,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}

// deliversAnywhere reports whether any host may be reached: with none,
// events are not even built.
func (d *deliverer) deliversAnywhere() bool { return len(d.hosts) > 0 }

// target reads a webhook's URL, parsed once as this runs for every webhook
// at every change: the URL as a record shows it (a password in it
// redacted), and whether it is http or https to an allowed host.
func (d *deliverer) target(raw string) (shown string, reachable bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, false
	}
	if u.User != nil {
		raw = u.Redacted()
	}
	return raw, (u.Scheme == "https" || u.Scheme == "http") && d.hosts[normalizeHost(u.Hostname())]
}

// sign is the X-Webhook-Signature of body: the lowercase hex HMAC-SHA256
// keyed with the webhook's whole secret string.
func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// enqueue hands dl to the worker of its webhook, or records it as
// queue-full (or canceled, once closed).
func (d *deliverer) enqueue(dl *delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		d.note(dl.rec, DeliveryCanceled)
		return
	case d.pending >= d.capacity:
		d.note(dl.rec, DeliveryQueueFull)
		return
	}
	d.pending++
	d.seq++
	dl.seq, dl.gen = d.seq, d.gen
	h := fnv.New32a()
	_, _ = h.Write([]byte(dl.rec.WebhookID))
	d.queues[h.Sum32()%uint32(len(d.queues))] <- dl // never blocks: pending <= capacity
}

// work sends the deliveries of its queue one at a time, each when it is
// due, earliest first, until stop.
func (d *deliverer) work(queue <-chan *delivery) {
	defer d.wg.Done()
	var waiting dueOrder
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-d.stop: // before anything else that is ready
			for _, dl := range waiting {
				d.finish(dl, DeliveryCanceled, 0, "")
			}
			return
		default:
		}
		var due <-chan time.Time
		if len(waiting) > 0 {
			timer.Reset(time.Until(waiting[0].due))
			due = timer.C
		}
		select {
		case dl := <-queue:
			heap.Push(&waiting, dl)
		case <-due:
			d.send(heap.Pop(&waiting).(*delivery))
		case <-d.stop:
		}
	}
}

// send POSTs dl, signed, unless a Reset came since it was queued.
func (d *deliverer) send(dl *delivery) {
	if !d.current(dl) {
		d.finish(dl, DeliveryCanceled, 0, "")
		return
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, dl.url, bytes.NewReader(dl.body))
	if err != nil { // reachable parsed the URL already
		d.finish(dl, DeliveryFailed, 0, "invalid webhook URL")
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "krosai-sim")
	req.Header.Set("X-Webhook-Signature", sign(dl.secret, dl.body))
	resp, err := d.client.Do(req)
	if err != nil {
		d.finish(dl, DeliveryFailed, 0, err.Error()) // net/http redacts the URL's password
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	_ = resp.Body.Close()
	d.finish(dl, DeliveryAnswered, resp.StatusCode, "")
}

func (d *deliverer) current(dl *delivery) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return dl.gen == d.gen
}

// finish ends a queued delivery; its outcome counts unless a Reset came
// since it was queued.
func (d *deliverer) finish(dl *delivery, outcome string, status int, errText string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending--
	if dl.gen != d.gen {
		return
	}
	dl.rec.Status, dl.rec.Error = status, errText
	d.note(dl.rec, outcome)
}

// settle records the outcome of a delivery that was never queued.
func (d *deliverer) settle(rec DeliveryRecord, outcome string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.note(rec, outcome)
}

// note counts and logs a delivery's outcome; the caller holds d.mu.
func (d *deliverer) note(rec DeliveryRecord, outcome string) {
	rec.Time, rec.Outcome = time.Now().UTC(), outcome
	st := &d.stats
	switch outcome {
	case DeliveryAnswered:
		st.Sent++
		switch {
		case rec.Status >= 500:
			st.Answered5xx++
		case rec.Status >= 400:
			st.Answered4xx++
		case rec.Status >= 300:
			st.Answered3xx++
		default:
			st.Answered2xx++
		}
	case DeliveryFailed:
		st.Sent++
		st.Failed++
	case DeliveryDropped:
		st.Dropped++
	case DeliverySkipped:
		st.Skipped++
	case DeliveryQueueFull:
		st.QueueFull++
	case DeliveryCanceled:
		st.Canceled++
	}
	d.log.add(rec)
}

// counted counts an event built.
func (d *deliverer) counted() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats.Events++
}

// duplicated counts a delivery DuplicateRate sends twice.
func (d *deliverer) duplicated() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats.Duplicated++
}

func (d *deliverer) snapshot() DeliveryStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stats
	st.Pending = d.pending
	return st
}

// last returns the last n deliveries recorded (all if n <= 0), oldest first.
func (d *deliverer) last(n int) []DeliveryRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.last(n)
}

// reset forgets the counts and the log; deliveries queued before it are
// not sent (those in flight finish, uncounted).
func (d *deliverer) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	d.stats = DeliveryStats{}
	d.log.reset()
}

// close cancels what waits and waits for what is in flight: at most
// deliveryTimeout.
func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	d.wg.Wait()
	for _, queue := range d.queues {
		for len(queue) > 0 { // nothing is queued once closed
			d.finish(<-queue, DeliveryCanceled, 0, "")
		}
	}
	d.client.CloseIdleConnections()
}

// dueOrder is a worker's waiting deliveries, a heap by due time.
type dueOrder []*delivery

func (q dueOrder) Len() int { return len(q) }
func (q dueOrder) Less(i, j int) bool {
	if q[i].due.Equal(q[j].due) {
		return q[i].seq < q[j].seq
	}
	return q[i].due.Before(q[j].due)
}
func (q dueOrder) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dueOrder) Push(x any)   { *q = append(*q, x.(*delivery)) }
func (q *dueOrder) Pop() any {
	old := *q
	last := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return last
}
