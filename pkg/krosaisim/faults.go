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
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// List shapes: the OpenAPI document's bare array, or the narrative's
// {"endpoints": [...], "total": N} with limit, offset, type and status.
const (
	ListShapeArray   = "array"
	ListShapeWrapped = "wrapped"
)

// ID formats: the OpenAPI document's UUIDs, or the narrative's "ep_..." ids.
const (
	IDFormatUUID     = "uuid"
	IDFormatPrefixed = "prefixed"
)

// Password modes: what the API returns in place of a stored SIP password
// (vogent_sip_password, custom_sip's password). The vendor does not say, so
// a client must survive all three.
const (
	// PasswordModeMask returns PasswordMask: the default, because the
	// contract's VogentConfig requires vogent_sip_password.
	PasswordModeMask = "mask"
	// PasswordModeOmit leaves the field out, which breaks the contract for
	// vogent endpoints: kept for clients that must survive an API doing so.
	PasswordModeOmit = "omit"
	// PasswordModeEcho returns the stored password.
	PasswordModeEcho = "echo"
)

// List faults: how listEndpoints misbehaves, every time, while every other
// operation works. Each is something a real API or a gateway in front of it
// has done, and none may make a client believe endpoints were deleted.
const (
	// ListFaultNone lists faithfully (the default).
	ListFaultNone = "none"
	// ListFaultNotFound answers 404, as a gateway that routes only some
	// paths, or a list that rejects the paging query, would.
	ListFaultNotFound = "not-found"
	// ListFaultServerError answers 500.
	ListFaultServerError = "server-error"
	// ListFaultGarbage answers 200 with an HTML page.
	ListFaultGarbage = "garbage"
	// ListFaultIncomplete silently leaves out every second endpoint (in
	// creation order), with a total that agrees: a page gone missing that no
	// client can detect.
	ListFaultIncomplete = "incomplete"
)

var listFaults = []string{ListFaultNone, ListFaultNotFound, ListFaultServerError, ListFaultGarbage, ListFaultIncomplete}

// PasswordMask is what PasswordModeMask returns for every stored password,
// whatever its value or length.
const PasswordMask = "********"

// Faults are the ways the simulator misbehaves, and its limits. The zero
// value is a well-behaved, unlimited API listing bare arrays of UUIDs and
// masking passwords.
type Faults struct {
	// Latency is added to every API request, give or take LatencyJitter
	// (uniformly distributed).
	Latency       time.Duration
	LatencyJitter time.Duration
	// FailRate is the probability of answering 500 without doing anything.
	FailRate float64
	// HangRate is the probability of holding a request, doing nothing, until
	// the client gives up (or the simulator closes).
	HangRate float64
	// CommitThenFailRate is the probability that a create, update or delete
	// is done and then answered with a 500 or a dropped connection (even
	// odds): the client cannot tell whether it happened.
	CommitThenFailRate float64
	// RateLimit is the requests per second each key may make (0: unlimited),
	// with bursts of up to Burst (0: RateLimit rounded up).
	RateLimit float64
	Burst     int
	// DailyLimit is the requests each key may make per UTC day (0: unlimited).
	DailyLimit int
	// SharedKeyLoad is the requests per second another system sends with
	// every key in use, spending its RateLimit and DailyLimit as a client's
	// requests do (0: none). Stats counts them apart, with the 429s they
	// get: what a client sharing its key leaves to the other users.
	SharedKeyLoad float64
	// ListShape is ListShapeArray (default) or ListShapeWrapped.
	ListShape string
	// IDFormat is IDFormatUUID (default) or IDFormatPrefixed.
	IDFormat string
	// PasswordMode is PasswordModeMask (default), PasswordModeOmit or
	// PasswordModeEcho. The admin API returns stored passwords whatever it is.
	PasswordMode string
	// ListFault is ListFaultNone (default), ListFaultNotFound,
	// ListFaultServerError, ListFaultGarbage or ListFaultIncomplete.
	ListFault string
}

// Validate reports the first setting out of range.
func (f Faults) Validate() error {
	if err := checkProbabilities(map[string]float64{
		"failRate": f.FailRate, "hangRate": f.HangRate, "commitThenFailRate": f.CommitThenFailRate,
	}); err != nil {
		return err
	}
	switch {
	case f.Latency < 0 || f.LatencyJitter < 0:
		return errors.New("latency and latencyJitter must not be negative")
	case !(f.RateLimit >= 0) || f.Burst < 0 || f.DailyLimit < 0:
		return errors.New("rateLimit, burst and dailyLimit must not be negative")
	case !(f.SharedKeyLoad >= 0 && f.SharedKeyLoad <= 1e6):
		return fmt.Errorf("sharedKeyLoad %v: want requests per second from 0 to 1e6", f.SharedKeyLoad)
	case f.ListShape != "" && f.ListShape != ListShapeArray && f.ListShape != ListShapeWrapped:
		return fmt.Errorf("listShape %q: want %s or %s", f.ListShape, ListShapeArray, ListShapeWrapped)
	case f.IDFormat != "" && f.IDFormat != IDFormatUUID && f.IDFormat != IDFormatPrefixed:
		return fmt.Errorf("idFormat %q: want %s or %s", f.IDFormat, IDFormatUUID, IDFormatPrefixed)
	case f.PasswordMode != "" && f.PasswordMode != PasswordModeMask && f.PasswordMode != PasswordModeOmit && f.PasswordMode != PasswordModeEcho:
		return fmt.Errorf("passwordMode %q: want %s, %s or %s", f.PasswordMode, PasswordModeMask, PasswordModeOmit, PasswordModeEcho)
	case f.ListFault != "" && !slices.Contains(listFaults, f.ListFault):
		return fmt.Errorf("listFault %q: want one of %v", f.ListFault, listFaults)
	}
	return nil
}

func (f Faults) withDefaults() Faults {
	if f.ListShape == "" {
		f.ListShape = ListShapeArray
	}
	if f.IDFormat == "" {
		f.IDFormat = IDFormatUUID
	}
	if f.PasswordMode == "" {
		f.PasswordMode = PasswordModeMask
	}
	if f.ListFault == "" {
		f.ListFault = ListFaultNone
	}
	return f
}

// checkProbabilities reports the first (by name) of rates that is not a
// probability.
func checkProbabilities(rates map[string]float64) error {
	for _, name := range slices.Sorted(maps.Keys(rates)) {
		if p := rates[name]; !(p >= 0 && p <= 1) { // NaN fails too
			return fmt.Errorf("%s %v: want a probability between 0 and 1", name, p)
		}
	}
	return nil
}

// faultsJSON is the admin API's form of Faults: durations as Go duration
// strings ("250ms").
type faultsJSON struct {
	Latency            string  `json:"latency"`
	LatencyJitter      string  `json:"latencyJitter"`
	FailRate           float64 `json:"failRate"`
	HangRate           float64 `json:"hangRate"`
	CommitThenFailRate float64 `json:"commitThenFailRate"`
	RateLimit          float64 `json:"rateLimit"`
	Burst              int     `json:"burst"`
	DailyLimit         int     `json:"dailyLimit"`
	SharedKeyLoad      float64 `json:"sharedKeyLoad"`
	ListShape          string  `json:"listShape"`
	IDFormat           string  `json:"idFormat"`
	PasswordMode       string  `json:"passwordMode"`
	ListFault          string  `json:"listFault"`
}

// MarshalJSON writes durations as Go duration strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		Latency: f.Latency.String(), LatencyJitter: f.LatencyJitter.String(),
		FailRate: f.FailRate, HangRate: f.HangRate, CommitThenFailRate: f.CommitThenFailRate,
		RateLimit: f.RateLimit, Burst: f.Burst, DailyLimit: f.DailyLimit, SharedKeyLoad: f.SharedKeyLoad,
		ListShape: f.ListShape, IDFormat: f.IDFormat, PasswordMode: f.PasswordMode, ListFault: f.ListFault,
	})
}

// UnmarshalJSON reads durations as Go duration strings. Fields absent from
// the JSON keep their current value, so a client can change one setting;
// unknown fields are an error, so a misspelt one is not silently ignored.
func (f *Faults) UnmarshalJSON(data []byte) error {
	j, err := overlay[faultsJSON](*f, data)
	if err != nil {
		return err
	}
	var latency, jitter time.Duration
	if err := parseDurations(map[string]durationField{
		"latency": {j.Latency, &latency}, "latencyJitter": {j.LatencyJitter, &jitter},
	}); err != nil {
		return err
	}
	*f = Faults{
		Latency: latency, LatencyJitter: jitter,
		FailRate: j.FailRate, HangRate: j.HangRate, CommitThenFailRate: j.CommitThenFailRate,
		RateLimit: j.RateLimit, Burst: j.Burst, DailyLimit: j.DailyLimit, SharedKeyLoad: j.SharedKeyLoad,
		ListShape: j.ListShape, IDFormat: j.IDFormat, PasswordMode: j.PasswordMode, ListFault: j.ListFault,
	}
	return nil
}

// overlay decodes data over the JSON form (J) of current: fields absent
// from data keep their current value, so that an admin client can change
// one setting; unknown fields are an error, so that a misspelt one is not
// silently ignored.
func overlay[J any](current json.Marshaler, data []byte) (J, error) {
	var j J
	form, err := current.MarshalJSON()
	if err == nil {
		err = json.Unmarshal(form, &j)
	}
	if err != nil {
		return j, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return j, dec.Decode(&j)
}

// durationField is a Go duration string of a JSON form and where its
// parsed value goes.
type durationField struct {
	text string
	to   *time.Duration
}

// parseDurations parses each field, reporting the first (by name) that is
// not a duration.
func parseDurations(fields map[string]durationField) error {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		d, err := time.ParseDuration(fields[name].text)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*fields[name].to = d
	}
	return nil
}

// jittered draws a delay of d give or take jitter, uniformly distributed,
// never negative: a request's latency, an event's delivery delay.
func (s *Simulator) jittered(d, jitter time.Duration) time.Duration {
	if jitter == 0 {
		return d
	}
	return max(d+time.Duration((2*s.rng.float64()-1)*float64(jitter)), 0)
}

// sleep waits d, reporting false if the client gave up (or the simulator
// closed) first.
func (s *Simulator) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closed:
	}
	return false
}

// lockedRand is the simulator's one random source: seeded, so that a run
// can be replayed, and locked, because handlers draw from it concurrently.
type lockedRand struct {
	mu  sync.Mutex
	src *rand.ChaCha8
	r   *rand.Rand
}

func newLockedRand(seed uint64) *lockedRand {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	src := rand.NewChaCha8(key)
	return &lockedRand{src: src, r: rand.New(src)}
}

func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// chance reports true with probability p, drawing nothing when p is 0 or 1
// so that an unused fault does not shift the sequence of the others.
func (l *lockedRand) chance(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return l.float64() < p
}

// Read fills b with random bytes, for uuid.NewRandomFromReader.
func (l *lockedRand) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.src.Read(b)
}

// text returns prefix and n random lowercase letters and digits.
func (l *lockedRand) text(prefix string, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	l.mu.Lock()
	defer l.mu.Unlock()
	b := []byte(prefix)
	for range n {
		b = append(b, alphabet[l.r.IntN(len(alphabet))])
	}
	return string(b)
}
