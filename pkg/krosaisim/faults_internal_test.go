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
	"testing"
	"time"
)

func TestLatencyJitterSpreadsAroundTheLatency(t *testing.T) {
	s, err := NewSimulator(Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for _, tc := range []struct {
		latency, jitter, lo, hi time.Duration
	}{
		{100 * time.Millisecond, 0, 100 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond, 140 * time.Millisecond},
		{10 * time.Millisecond, 50 * time.Millisecond, 0, 60 * time.Millisecond}, // never negative
	} {
		lo, hi := time.Hour, time.Duration(-1)
		for range 2000 {
			d := s.jittered(tc.latency, tc.jitter)
			lo, hi = min(lo, d), max(hi, d)
		}
		// Uniform: 2000 draws come within 5% of both ends.
		slack := tc.jitter / 10
		if lo < tc.lo || hi > tc.hi || lo > tc.lo+slack || hi < tc.hi-slack {
			t.Errorf("latency %v ± %v drew between %v and %v, want %v to %v", tc.latency, tc.jitter, lo, hi, tc.lo, tc.hi)
		}
	}
}
