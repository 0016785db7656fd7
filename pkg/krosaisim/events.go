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
	"encoding/json"
	"errors"
	"time"
)

// The endpoint event types the vendor documents.
const (
	EventEndpointCreated = "endpoint.created"
	EventEndpointUpdated = "endpoint.updated"
	EventEndpointDeleted = "endpoint.deleted"
)

// Events are the knobs of endpoint event delivery (see the package
// documentation), set by Options.Events and SetEvents. Their zero value
// delivers every event once, at once, and to each webhook in the order the
// changes happened. Every draw comes from the simulator's seeded source, so
// that a seed replays them.
type Events struct {
	// Disabled turns delivery off: no event is built, sent or counted.
	Disabled bool
	// Delay holds each delivery this long before it is sent, give or take
	// DelayJitter (uniformly distributed, never below zero).
	Delay       time.Duration
	DelayJitter time.Duration
	// DropRate is the probability that a delivery is never sent.
	DropRate float64
	// DuplicateRate is the probability that a delivery is sent twice, the
	// same body and signature both times.
	DuplicateRate float64
	// Reorder adds to each delivery an extra delay drawn uniformly from
	// [0, Reorder): a later event whose draw is shorter overtakes an earlier
	// one, as deliveries racing through a vendor's queue would. Each
	// webhook's deliveries go out one at a time in order of when they are
	// due, so only these draws (and DelayJitter) reorder them.
	Reorder time.Duration
}

// Validate reports the first setting out of range.
func (ev Events) Validate() error {
	if err := checkProbabilities(map[string]float64{
		"dropRate": ev.DropRate, "duplicateRate": ev.DuplicateRate,
	}); err != nil {
		return err
	}
	if ev.Delay < 0 || ev.DelayJitter < 0 || ev.Reorder < 0 {
		return errors.New("delay, delayJitter and reorder must not be negative")
	}
	return nil
}

// eventsJSON is the admin API's form of Events: durations as Go duration
// strings ("250ms").
type eventsJSON struct {
	Disabled      bool    `json:"disabled"`
	Delay         string  `json:"delay"`
	DelayJitter   string  `json:"delayJitter"`
	DropRate      float64 `json:"dropRate"`
	DuplicateRate float64 `json:"duplicateRate"`
	Reorder       string  `json:"reorder"`
}

// MarshalJSON writes durations as Go duration strings.
func (ev Events) MarshalJSON() ([]byte, error) {
	return json.Marshal(eventsJSON{
		Disabled: ev.Disabled, Delay: ev.Delay.String(), DelayJitter: ev.DelayJitter.String(),
		DropRate: ev.DropRate, DuplicateRate: ev.DuplicateRate, Reorder: ev.Reorder.String(),
	})
}

// UnmarshalJSON reads durations as Go duration strings. As with Faults,
// absent fields keep their current value and unknown ones are an error.
func (ev *Events) UnmarshalJSON(data []byte) error {
	j, err := overlay[eventsJSON](*ev, data)
	if err != nil {
		return err
	}
	next := Events{Disabled: j.Disabled, DropRate: j.DropRate, DuplicateRate: j.DuplicateRate}
	if err := parseDurations(map[string]durationField{
		"delay": {j.Delay, &next.Delay}, "delayJitter": {j.DelayJitter, &next.DelayJitter},
		"reorder": {j.Reorder, &next.Reorder},
	}); err != nil {
		return err
	}
	*ev = next
	return nil
}

// Events returns the current event delivery knobs.
func (s *Simulator) Events() Events {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.events
}

// SetEvents replaces the event delivery knobs. Deliveries already queued
// keep the delay they drew.
func (s *Simulator) SetEvents(ev Events) error {
	if err := ev.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = ev
	return nil
}

// event is an endpoint event as the simulator delivers it.
//
// The vendor documents the event types and the signature, not the body:
// this shape is the simulator's assumption, not KrosAI's contract. Data is
// the endpoint as GET /v1/endpoints/{id} renders it (as it was, for a
// deletion) less what no event should carry: the webhook signing secret and
// SIP passwords.
type event struct {
	ID             string       `json:"id"`
	Type           string       `json:"type"`
	CreatedAt      string       `json:"created_at"`
	OrganizationID string       `json:"organization_id"`
	Data           endpointView `json:"data"`
}

// eventData renders e as GET does, with passwordMode, but masks passwords
// even where GET would echo them and leaves the signing secret out: an
// event goes to every webhook of the organization.
func eventData(e Endpoint, passwordMode string) endpointView {
	if passwordMode == PasswordModeEcho {
		passwordMode = PasswordModeMask
	}
	v := view(e, passwordMode)
	v.Secret = ""
	return v
}

// emit announces a committed change of e to the webhooks of its
// organization, e being the endpoint as it is now or, for a deletion, as it
// was. It only queues the deliveries: sending is the workers' business, so
// an API answer never waits on a webhook. Call it after the store's lock is
// released.
func (s *Simulator) emit(typ string, e Endpoint) {
	s.mu.RLock()
	ev, passwordMode := s.events, s.faults.PasswordMode
	s.mu.RUnlock()
	if ev.Disabled || !s.deliveries.deliversAnywhere() {
		return
	}
	webhooks := s.store.webhooksOf(e.OrganizationID)
	if len(webhooks) == 0 {
		return
	}
	evt := event{
		ID: s.rng.text("evt_", 24), Type: typ, CreatedAt: time.Now().UTC().Format(time.RFC3339Nano),
		OrganizationID: e.OrganizationID, Data: eventData(e, passwordMode),
	}
	var buf bytes.Buffer
	_ = newEncoder(&buf).Encode(evt) // an endpointView always encodes
	body := bytes.TrimSpace(buf.Bytes())
	s.deliveries.counted()
	rec := DeliveryRecord{EventID: evt.ID, EventType: typ, EndpointID: e.ID}
	for _, w := range webhooks {
		s.deliver(ev, rec, body, w)
	}
}

// deliver decides the fate of one event for one webhook: skipped if its URL
// is not one the simulator may reach, then dropped, or queued once or
// twice, with a delay, as ev draws.
func (s *Simulator) deliver(ev Events, rec DeliveryRecord, body []byte, webhook Endpoint) {
	var reachable bool
	rec.WebhookID = webhook.ID
	rec.URL, reachable = s.deliveries.target(webhook.URL)
	switch {
	case !reachable:
		s.deliveries.settle(rec, DeliverySkipped)
		return
	case s.rng.chance(ev.DropRate):
		s.deliveries.settle(rec, DeliveryDropped)
		return
	}
	copies := 1
	if s.rng.chance(ev.DuplicateRate) {
		copies = 2
		s.deliveries.duplicated()
	}
	due := time.Now().Add(s.jittered(ev.Delay, ev.DelayJitter))
	if ev.Reorder > 0 {
		due = due.Add(time.Duration(s.rng.float64() * float64(ev.Reorder)))
	}
	for i := range copies {
		rec.Duplicate = i > 0
		s.deliveries.enqueue(&delivery{rec: rec, url: webhook.URL, body: body, secret: webhook.Secret, due: due})
	}
}
