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

// Package krosaisim is a stateful, in-memory KrosAI Cockpit API for tests:
// the simulator the kros-operator project tests itself against, for your
// suites too. It was written independently of the operator's client, so
// that a misreading of the contract in one shows up as a failure in the
// other, and it imports nothing from Kubernetes.
//
// Three ways to use it:
//
//   - New starts it in-process on a loopback port, as httptest.NewServer
//     does for a handler: point the operator at Server.APIURL, inspect and
//     steer it with the Simulator's methods.
//   - NewSimulator builds it without serving it, for a test that wraps
//     Handler in an http.Handler of its own.
//   - The krosai-sim command serves it as a process; NewAdminClient talks to
//     its admin API with the same types. Both *Simulator (through Admin) and
//     *AdminClient satisfy the Admin interface.
//
// # Stability
//
// The package follows the module's semantic versioning from v1.0.0 on;
// before that (v0.x) a minor release may change it, and CHANGELOG.md says
// so. What is meant to stay: the exported names and their meaning, the
// admin API's paths and JSON, and the behaviour described below. What may
// change in any release: the exact text of error messages, the ids and
// timestamps generated, which requests Faults and which deliveries Events
// pick (they are random, seeded by Options.Seed), and the event body (see
// Endpoint events), which will follow the vendor's once it documents one.
//
// # Behaviour
//
// The API is served under /v1: clients use the base URL http://HOST:PORT/v1.
// Every request is checked against the embedded OpenAPI document
// (internal/krosai/openapi) and then against the vendor's prose:
//
//   - Keys are accepted as "Authorization: Bearer KEY" or "x-api-key: KEY";
//     each belongs to organizations, x-organization-id picks one (default: the
//     key's first), and endpoints of other organizations do not exist.
//   - url is required for webhook and custom_sip; each type requires its
//     provider_config fields. AI-provider endpoints get the url
//     sip:<id>@sip.krosai.com, webhooks a "whsec_" signing secret (returned as
//     "secret"). SIP passwords (vogent_sip_password, custom_sip's password)
//     are stored; what the API returns for them is undocumented, so
//     Faults.PasswordMode picks: "mask" (default) returns PasswordMask,
//     "********", which keeps vogent answers valid against VogentConfig's
//     required vogent_sip_password; "omit" leaves them out, which breaks that
//     rule; "echo" returns them. The request log always redacts them.
//   - PATCH changes the fields it names; a provider_config given replaces the
//     stored one whole.
//   - Errors are {"error", "code", "details"}: 400 VALIDATION_ERROR with
//     details.field, 401 UNAUTHORIZED, 403 ORGANIZATION_FORBIDDEN,
//     404 ENDPOINT_NOT_FOUND or NOT_FOUND, 429 RATE_LIMIT_EXCEEDED or
//     DAILY_LIMIT_EXCEEDED with retry_after and Retry-After in fractional
//     seconds, 500 INTERNAL_ERROR. Every answer carries X-RateLimit-*.
//
// Faults.SharedKeyLoad adds another system sending that many requests per
// second with every key in use, against the same budgets; Stats counts its
// requests (sharedKeySent) and the 429s they got (sharedKeyRefused), which
// is what a client sharing its key leaves to the key's other users.
//
// # Endpoint events
//
// Like the vendor's API, the simulator emits endpoint.created,
// endpoint.updated and endpoint.deleted for every committed create, update
// and delete, through the API (a commit-then-fail included: it was done) or
// out of band (UpdateEndpoint, DeleteEndpoint, the admin API); a refused or
// failed request emits nothing. Each event is POSTed to every webhook
// endpoint of the same organization, the changed one included (a webhook
// receives its own creation and updates, not its deletion), whatever its
// status, with
//
//	Content-Type: application/json
//	User-Agent: krosai-sim
//	X-Webhook-Signature: sha256=<lowercase hex HMAC-SHA256 of the body>
//
// the HMAC keyed with the webhook's whole "whsec_..." secret string, as the
// vendor documents. The body is the simulator's assumption, not the
// vendor's contract, which names the events but shows none:
//
//	{"id": "evt_<random>", "type": "endpoint.updated",
//	 "created_at": "<RFC 3339, nanoseconds, UTC>", "organization_id": "<org>",
//	 "data": {<the endpoint as GET /v1/endpoints/{id} returns it>}}
//
// data is rendered by the code that renders GET, as it is after the change
// (before it, for a deletion), but never carries the webhook secret or a
// SIP password: passwords are masked even under PasswordModeEcho. Events
// are outgoing, so the OpenAPI validation does not apply to them.
//
// Only http and https URLs to Options.EventHosts are reached (default
// DefaultEventHosts: 127.0.0.1, localhost and ::1, any port); others, such
// as https://hooks.example.com, are skipped without a network call, so that
// the simulator reaches nothing else and never waits on DNS. https uses
// Options.EventRootCAs (default: the system's CAs). Deliveries are
// asynchronous: an API answer never waits on one. Four workers send them,
// each webhook's on one worker, one at a time, so that they keep their
// order (timeout 5 s, redirects not followed, no retries; a webhook that
// hangs holds up those sharing its worker until then); at most
// Options.EventQueueSize wait or are in flight, more are dropped and
// counted. Events (Options.Events, SetEvents) delay, drop,
// duplicate and reorder them from the seeded random source, or turn
// delivery off; DeliveryStats and Deliveries show what happened. Reset
// forgets the counts and the log, and what was still waiting; Close cancels
// what waits and waits for what is in flight. Deliveries are not state: the
// state file keeps none.
//
// # Admin API
//
// Faults (latency, failures, hangs, commits whose answer is lost), rate
// limits, the other system's load, the list shape, the id format and the password mode can be changed
// at runtime, as can the event knobs. The admin API, unauthenticated and not counted in the stats,
// is what AdminClient speaks:
//
//	GET    /_sim/stats            Stats, sharedKeySent and sharedKeyRefused included
//	GET    /_sim/endpoints        {"<org>": [Endpoint...]}, passwords included
//	PATCH  /_sim/endpoints/{id}   EndpointPatch -> Endpoint (a dashboard edit)
//	DELETE /_sim/endpoints/{id}   204 (a dashboard delete)
//	POST   /_sim/reset            204: endpoints, stats, request log, deliveries dropped
//	GET    /_sim/faults           Faults
//	PUT    /_sim/faults           Faults, fields absent unchanged -> Faults
//	GET    /_sim/requests?limit=N [RequestRecord...], the last N, oldest first
//	GET    /_sim/events           Events
//	PUT    /_sim/events           Events, fields absent unchanged -> Events
//	GET    /_sim/deliveries?limit=N [DeliveryRecord...], the last N, oldest first
//	GET    /_sim/deliveries/stats DeliveryStats
//	POST   /_sim/keys             {"key": "...", "org": "<uuid>"} -> 204
//	GET    /healthz               200
package krosaisim

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"
)

// Options configure a Simulator; they mirror the krosai-sim flags.
type Options struct {
	// Keys are the accepted API keys. A key listed with several organizations
	// belongs to all of them, the first being its default.
	Keys []APIKey
	// Faults are the initial faults and limits.
	Faults Faults
	// Seed seeds the one random source behind faults and generated ids, so
	// that a run can be replayed; 0 picks a time-based seed (see Seed).
	Seed uint64
	// StateFile, if set, is loaded at start when it exists and rewritten
	// (atomically) shortly after every change and on Close.
	StateFile string
	// RequestLogSize is how many API requests Requests remembers; 0 means 1000.
	RequestLogSize int
	// Logger receives the few things worth logging (state file failures);
	// nil discards them.
	Logger *slog.Logger
	// Addr is where New listens, host:port; empty means 127.0.0.1 on a free
	// port. NewSimulator, which does not serve, ignores it.
	Addr string

	// Events are the initial knobs of endpoint event delivery.
	Events Events
	// EventHosts are the hosts (names or IP addresses, any port) that events
	// may be delivered to; nil means DefaultEventHosts, loopback only, and an
	// empty list none. A webhook whose URL names another host is skipped
	// without a network call (counted in DeliveryStats.Skipped).
	EventHosts []string
	// EventRootCAs are the certificate authorities trusted for https webhook
	// URLs; nil means the system's.
	EventRootCAs *x509.CertPool
	// EventQueueSize bounds the deliveries queued, waiting out a delay or in
	// flight; past it a delivery is dropped and counted
	// (DeliveryStats.QueueFull). 0 means 1000.
	EventQueueSize int
	// DeliveryLogSize is how many deliveries Deliveries remembers; 0 means 1000.
	DeliveryLogSize int
}

// APIKey is an accepted API key and the organization it acts in.
type APIKey struct {
	// Key is the secret presented as a bearer token or in x-api-key.
	Key string
	// Org is an organization UUID; empty derives one from the key, stable
	// across restarts so that a state file's endpoints stay visible.
	Org string
}

// Simulator is the fake API. Its methods are safe for concurrent use.
type Simulator struct {
	log      *slog.Logger
	seed     uint64
	rng      *lockedRand
	contract *contract
	keys     *keyring
	store    *store
	limits   *limiter
	stats    *recorder
	handler  http.Handler
	// deliveries sends endpoint events to webhooks.
	deliveries *deliverer

	mu     sync.RWMutex
	faults Faults
	events Events

	stateFile string
	saveMu    sync.Mutex
	dirty     chan struct{}
	saverDone chan struct{}
	closed    chan struct{} // closed by Close: releases hung requests, stops the saver
	closeOnce sync.Once
	closeErr  error
}

// NewSimulator builds a Simulator, not serving it, loading opts.StateFile if it exists. Call Close
// when done to save the state and release held requests.
func NewSimulator(opts Options) (*Simulator, error) {
	c, err := loadContract()
	if err != nil {
		return nil, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	logSize := opts.RequestLogSize
	if logSize <= 0 {
		logSize = 1000
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Simulator{
		log:       logger,
		seed:      seed,
		rng:       newLockedRand(seed),
		contract:  c,
		keys:      newKeyring(),
		store:     newStore(),
		limits:    newLimiter(),
		stats:     newRecorder(logSize),
		stateFile: opts.StateFile,
		dirty:     make(chan struct{}, 1),
		saverDone: make(chan struct{}),
		closed:    make(chan struct{}),
	}
	for _, k := range opts.Keys {
		if err := s.AddKey(k.Key, k.Org); err != nil {
			return nil, err
		}
	}
	if err := s.SetFaults(opts.Faults); err != nil {
		return nil, err
	}
	if err := s.SetEvents(opts.Events); err != nil {
		return nil, err
	}
	if s.deliveries, err = newDeliverer(opts); err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	if s.handler, err = s.routes(); err != nil {
		return nil, err
	}
	s.deliveries.start()
	go s.saver()
	return s, nil
}

// Handler serves the API under /v1, the admin API under /_sim/ and /healthz.
func (s *Simulator) Handler() http.Handler { return s.handler }

// Seed is the seed of the random source, for replaying a run.
func (s *Simulator) Seed() uint64 { return s.seed }

// AddKey accepts key for org (a UUID; empty derives one from the key). A key
// added again with another organization belongs to both.
func (s *Simulator) AddKey(key, org string) error { return s.keys.add(key, org) }

// Faults returns the current faults and limits.
func (s *Simulator) Faults() Faults {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.faults
}

// SetFaults replaces the faults and limits. A change of rate limits or of
// SharedKeyLoad starts every key's budget afresh, and the other system's
// requests from now.
func (s *Simulator) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f = f.withDefaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.RateLimit != s.faults.RateLimit || f.Burst != s.faults.Burst || f.DailyLimit != s.faults.DailyLimit ||
		f.SharedKeyLoad != s.faults.SharedKeyLoad {
		s.limits.configure(f.RateLimit, f.Burst, f.DailyLimit, f.SharedKeyLoad)
	}
	s.faults = f
	return nil
}

// Stats returns the request counts so far.
func (s *Simulator) Stats() Stats {
	st := s.stats.snapshot()
	st.Endpoints = s.store.len()
	st.SharedKeySent, st.SharedKeyRefused = s.limits.sharedCounts(time.Now())
	return st
}

// Requests returns the remembered API requests, oldest first.
func (s *Simulator) Requests() []RequestRecord { return s.stats.last(0) }

// DeliveryStats returns the event delivery counts since start or Reset.
func (s *Simulator) DeliveryStats() DeliveryStats { return s.deliveries.snapshot() }

// Deliveries returns the remembered event deliveries, oldest first.
func (s *Simulator) Deliveries() []DeliveryRecord { return s.deliveries.last(0) }

// Endpoints returns every stored endpoint, write-only fields included,
// grouped by organization, each group in creation order.
func (s *Simulator) Endpoints() map[string][]Endpoint {
	groups := s.store.snapshot()
	for _, group := range groups {
		for i := range group {
			group[i].ProviderConfig = maps.Clone(group[i].ProviderConfig)
		}
	}
	return groups
}

// Endpoint returns the stored endpoint with id in any organization.
func (s *Simulator) Endpoint(id string) (Endpoint, bool) {
	e, ok := s.store.get("", id)
	e.ProviderConfig = maps.Clone(e.ProviderConfig)
	return e, ok
}

// ErrNotFound is returned for an id the simulator does not store.
var ErrNotFound = errors.New("endpoint not found")

// UpdateEndpoint changes an endpoint out of band, as an edit in the vendor's
// dashboard would: no key, no organization, no stats, no faults. Like an
// API update, it emits endpoint.updated.
func (s *Simulator) UpdateEndpoint(id string, p EndpointPatch) (Endpoint, error) {
	if p.Status != nil && !validStatus(*p.Status) {
		return Endpoint{}, fmt.Errorf("status %q: want active, inactive or error", *p.Status)
	}
	e, ok := s.store.update("", id, p, now())
	if !ok {
		return Endpoint{}, ErrNotFound
	}
	s.changed()
	s.emit(EventEndpointUpdated, e)
	return e, nil
}

// DeleteEndpoint deletes an endpoint out of band, as the vendor's dashboard
// would. Like an API delete, it emits endpoint.deleted.
func (s *Simulator) DeleteEndpoint(id string) error {
	e, ok := s.store.remove("", id)
	if !ok {
		return ErrNotFound
	}
	s.changed()
	s.emit(EventEndpointDeleted, e)
	return nil
}

// Reset drops every endpoint, the stats, the request log, the delivery
// counts and log, and the rate limit budgets; keys, faults and event knobs
// stay. Deliveries queued before it are not sent.
func (s *Simulator) Reset() {
	s.store.replace(nil)
	s.stats.reset()
	s.deliveries.reset()
	s.mu.Lock()
	s.limits.configure(s.faults.RateLimit, s.faults.Burst, s.faults.DailyLimit, s.faults.SharedKeyLoad)
	s.mu.Unlock()
	s.limits.resetShared()
	s.changed()
}

// Close releases held (hung) requests, cancels event deliveries still
// waiting and waits for those in flight (each bounded by a 5 s timeout),
// stops the background saver and saves the state file one last time.
// Calling it again returns the first result.
func (s *Simulator) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.deliveries.close()
		<-s.saverDone
		s.closeErr = s.Save()
	})
	return s.closeErr
}

// now is the time stamped on endpoints: UTC, to the millisecond, so that
// the stored value and its RFC 3339 rendering agree.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
