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

// Package events receives KrosAI's signed endpoint events. A delivery
// carries no instruction the operator follows: once its signature is
// verified with the receiving webhook's signing secret, all that is read
// from it is a hint (which endpoint changed, and its updated_at) that makes
// the resources owning or observing that endpoint read it from KrosAI now
// rather than at the next sync. Everything else a delivery costs is
// bounded: its size, its headers, a replay memory, and about one read per
// resource per second (docs/events.md).
//
// The package knows nothing of the cluster: the controller gives it a
// Directory of receivers and of the resources an event may wake.
package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/validation"
)

// PathPrefix is where deliveries are received: the receiving KrosEndpoint's
// namespace and name follow, so that the URL says which signing secret
// verifies a delivery before its body is read.
const PathPrefix = "/krosai/events/"

// Defaults of Config's zero values.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultReplayWindow = 5 * time.Minute
	DefaultReplayMemory = 100_000
	// MaxHeaderBytes caps a delivery's request line and headers; Go answers
	// 431 beyond it.
	MaxHeaderBytes = 16 << 10
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>".
const SignatureHeader = "X-Webhook-Signature"

// Receiver is a KrosEndpoint marked as the event receiver: the webhook
// KrosAI delivers its organization's events to.
type Receiver struct {
	Namespace, Name string
	// Organization is the organization the webhook lives in, as KrosAI
	// reported it: an event wakes resources of this organization only.
	Organization string
	// SigningSecret verifies the deliveries (the webhook's whsec_ secret).
	SigningSecret []byte
}

// ErrNoReceiver says no KrosEndpoint at that path receives events.
var ErrNoReceiver = errors.New("no event receiver at this path")

// Directory is what the handler asks of the cluster.
type Directory interface {
	// Receiver returns the receiver named by the path, or ErrNoReceiver.
	Receiver(ctx context.Context, namespace, name string) (Receiver, error)
	// Wake makes the resources the receiver acts for read what the hint
	// names: the endpoint, or, for a hint without an endpoint id, their
	// organization's list. An error says the cluster could not be read.
	Wake(ctx context.Context, r Receiver, h Hint) (Woken, error)
}

// Woken is what a delivery did: how many resources it made read KrosAI,
// how many already had a read due that will see its change, and how many
// already hold the state it reports (the echo of the operator's own write).
type Woken struct{ Resources, Coalesced, Known int }

// Config tunes the handler. Zero values mean the defaults.
type Config struct {
	// MaxBodyBytes caps a delivery's body (413 beyond). Default 1 MiB.
	MaxBodyBytes int64
	// ReplayWindow is how long a delivery is remembered, to refuse it if it
	// comes again, and how far a delivery's own timestamp may be from now.
	// Default 5m.
	ReplayWindow time.Duration
	// ReplayMemory caps the deliveries remembered (503 when full of ones
	// younger than the window). Default 100,000.
	ReplayMemory int
	// Leading reports whether this replica is the leader, which alone
	// reconciles: the others answer 503 so that KrosAI retries. Nil: always.
	Leading func() bool
	// Registerer, if set, receives the deliveries metric.
	Registerer prometheus.Registerer
	now        func() time.Time
}

// Handler serves POST PathPrefix<namespace>/<name>.
type Handler struct {
	dir        Directory
	cfg        Config
	replays    *replayMemory
	deliveries *prometheus.CounterVec
}

// Outcomes of a delivery, the deliveries metric's label.
const (
	OutcomeAccepted        = "accepted"
	OutcomeCoalesced       = "coalesced"
	OutcomeKnown           = "known"
	OutcomeUnknownEndpoint = "unknown_endpoint"
	OutcomeIgnored         = "ignored"
	OutcomeUnauthorized    = "unauthorized"
	OutcomeTooLarge        = "too_large"
	OutcomeMalformed       = "malformed"
	OutcomeReplayed        = "replayed"
	OutcomeNoReceiver      = "no_receiver"
	OutcomeNotLeader       = "not_leader"
	OutcomeBusy            = "busy"
	OutcomeBadMethod       = "method_not_allowed"
)

var outcomes = []string{OutcomeAccepted, OutcomeCoalesced, OutcomeKnown, OutcomeUnknownEndpoint, OutcomeIgnored,
	OutcomeUnauthorized, OutcomeTooLarge, OutcomeMalformed, OutcomeReplayed, OutcomeNoReceiver,
	OutcomeNotLeader, OutcomeBusy, OutcomeBadMethod}

// NewHandler returns a handler that verifies deliveries against dir.
func NewHandler(dir Directory, cfg Config) (*Handler, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReplayWindow <= 0 {
		cfg.ReplayWindow = DefaultReplayWindow
	}
	if cfg.ReplayMemory <= 0 {
		cfg.ReplayMemory = DefaultReplayMemory
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	h := &Handler{dir: dir, cfg: cfg, replays: newReplayMemory(cfg.ReplayWindow, cfg.ReplayMemory),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kros_operator_event_deliveries_total",
			Help: "KrosAI event deliveries received, by outcome: accepted (woke a resource to read KrosAI), " +
				"coalesced (a read was already due), known (the operator holds what it reports, e.g. its own " +
				"write), unknown_endpoint, ignored (not an endpoint event), and the " +
				"refused ones, which cost no API call: unauthorized, too_large, malformed, replayed, no_receiver, " +
				"not_leader, busy, method_not_allowed.",
		}, []string{"outcome"})}
	for _, o := range outcomes {
		h.deliveries.WithLabelValues(o) // every outcome reads 0 before it happens
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(h.deliveries); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ServeHTTP takes one delivery. The checks run cheapest first, and none
// that a sender without the signing secret can pass costs more than a
// cache read and an HMAC.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	outcome, status := h.take(r)
	h.deliveries.WithLabelValues(outcome).Inc()
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, outcome+"\n")
}

func (h *Handler) take(r *http.Request) (outcome string, status int) {
	if r.Method != http.MethodPost {
		return OutcomeBadMethod, http.StatusMethodNotAllowed
	}
	namespace, name, ok := receiverPath(r.URL.Path)
	if !ok {
		return OutcomeNoReceiver, http.StatusNotFound
	}
	if h.cfg.Leading != nil && !h.cfg.Leading() {
		return OutcomeNotLeader, http.StatusServiceUnavailable
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return OutcomeTooLarge, http.StatusRequestEntityTooLarge
	}
	signatures, ok := parseSignatures(r.Header.Values(SignatureHeader))
	if !ok {
		return OutcomeUnauthorized, http.StatusUnauthorized
	}
	recv, err := h.dir.Receiver(r.Context(), namespace, name)
	switch {
	case errors.Is(err, ErrNoReceiver):
		return OutcomeNoReceiver, http.StatusNotFound
	case err != nil:
		return OutcomeBusy, http.StatusServiceUnavailable
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return OutcomeTooLarge, http.StatusRequestEntityTooLarge
	case err != nil:
		return OutcomeMalformed, http.StatusBadRequest
	}
	if !verify(recv.SigningSecret, body, signatures) {
		return OutcomeUnauthorized, http.StatusUnauthorized
	}
	hint, err := readHint(body)
	if err != nil {
		return OutcomeMalformed, http.StatusBadRequest
	}
	now := h.cfg.now()
	verdict, replayKey := h.replays.admit(namespace+"/"+name, hint, body, now)
	switch verdict {
	case replaySeen:
		return OutcomeReplayed, http.StatusBadRequest
	case replayFull:
		return OutcomeBusy, http.StatusServiceUnavailable
	}
	if !hint.EndpointEvent() {
		return OutcomeIgnored, http.StatusAccepted
	}
	hint.Delivered = now
	woken, err := h.dir.Wake(r.Context(), recv, hint)
	switch {
	case err != nil:
		// Not acted on: KrosAI's redelivery, if it sends one, is taken.
		h.replays.forget(replayKey)
		return OutcomeBusy, http.StatusServiceUnavailable
	case woken.Resources > 0:
		return OutcomeAccepted, http.StatusAccepted
	case woken.Coalesced > 0:
		return OutcomeCoalesced, http.StatusAccepted
	case woken.Known > 0:
		return OutcomeKnown, http.StatusAccepted
	}
	return OutcomeUnknownEndpoint, http.StatusAccepted
}

// receiverPath splits PathPrefix<namespace>/<name>.
func receiverPath(path string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(path, PathPrefix)
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, "/")
	// Kubernetes' name syntax: a path never reaches the cache with what no
	// object can be named.
	if !ok || len(validation.IsDNS1123Label(namespace)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return "", "", false
	}
	return namespace, name, true
}

// String names the receiver for logs.
func (r Receiver) String() string { return fmt.Sprintf("%s/%s", r.Namespace, r.Name) }
