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

package krosai

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// outage is a key and organization the API has been failing for: a call
// exhausted its retries on a 5xx, a 408, a network error or a timeout, or
// as many requests failed so in a row, whichever calls sent them (so that a
// hundred callers do not each retry in full before one of them is done). Until
// a call succeeds, the client sends one probe per step, a single attempt,
// and refuses every other call unsent, so that an outage costs one request
// per step rather than every caller's retries.
type outage struct {
	since     time.Time
	step      int // probes failed so far
	nextProbe time.Time
	probing   bool // a probe is in flight
	// lastAnswer is the failure that started the outage or ended its
	// latest probe, as the error said it: summarized and redacted already.
	lastAnswer string
}

// admit decides whether a call for org may be sent: not during an outage,
// but as its one probe once the step is over.
func (s *keyState) admit(org string, now time.Time) (probe bool, refused *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outages[org]
	switch {
	case o == nil:
		return false, nil
	case !o.probing && !now.Before(o.nextProbe):
		o.probing = true
		return true, nil
	}
	return false, o.refusal()
}

// refusal is the error of a call refused, or a probe failed, during o.
func (o *outage) refusal() *Error {
	return &Error{Kind: KindTransient, Code: CodeUnavailable, NotSent: true, Since: o.since, RetryAt: o.nextProbe,
		LastAnswer: o.lastAnswer,
		Message:    "the API has been failing for this key and organization; one probe is sent per step until it answers"}
}

// failed records that a call for org ended on an outage failure at now,
// answered so: it starts an outage, or, from the probe, lengthens the step.
// It returns a copy of the outage.
func (s *keyState) failed(org string, probe bool, now time.Time, answer string, base, limit time.Duration) *outage {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outages[org]
	switch {
	case o == nil:
		o = &outage{since: now, lastAnswer: answer}
		s.outages[org] = o
	case probe:
		o.step++
		o.probing = false
		o.lastAnswer = answer
	default:
		// A call sent before the outage began: it changes nothing.
	}
	if o.nextProbe.IsZero() || probe {
		o.nextProbe = now.Add(outageStep(o.step, base, limit))
	}
	c := *o
	return &c
}

// down reports an outage of org, without claiming its probe.
func (s *keyState) down(org string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outages[org] != nil
}

// outageStep is the wait before probe step+1: base doubled at each failed
// probe, at most limit, less up to a tenth at random so that the clients
// of a fleet do not probe in step.
func outageStep(step int, base, limit time.Duration) time.Duration {
	d := base
	for i := 0; i < step && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d - rand.N(d/10+1)
}

// answered records that the API answered a call for org with something
// other than an outage failure: the outage, if any, is over. It reports
// whether one was.
func (s *keyState) answered(org string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, was := s.outages[org]
	delete(s.outages, org)
	delete(s.failuresInARow, org)
	return was
}

// failure counts an outage failure of a request for org, and returns how
// many requests for org have failed so in a row, whichever calls sent them.
func (s *keyState) failure(org string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failuresInARow[org]++
	return s.failuresInARow[org]
}

// abandoned releases the probe of a call given up by its caller, so that
// the next call probes.
func (s *keyState) abandoned(org string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.outages[org]; o != nil {
		o.probing = false
	}
}

// isOutage reports a failure that says the API is not serving: the request
// was sent and got a 5xx or a 408, no response, or a timeout.
func isOutage(e *Error) bool {
	if e.NotSent {
		return false
	}
	switch e.Kind {
	case KindTransient, KindOutcomeUnknown:
		return e.StatusCode == 0 || e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout
	}
	return false
}
