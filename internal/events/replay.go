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

package events

import (
	"crypto/sha256"
	"maps"
	"sync"
	"time"
)

type replayVerdict int

const (
	replayNew replayVerdict = iota
	replaySeen
	replayFull
)

// replayMemory refuses a verified delivery taken before: one that carries
// its event's time is refused once that time is further than the window
// from now, and remembered until then, so it can be taken once only; one
// without is remembered, by its event id or the digest of its body, for the
// window. Only verified deliveries reach it: a sender without the signing
// secret cannot fill it.
type replayMemory struct {
	window   time.Duration
	capacity int

	mu    sync.Mutex
	seen  map[string]time.Time // key → when it may be forgotten
	swept time.Time
}

func newReplayMemory(window time.Duration, capacity int) *replayMemory {
	return &replayMemory{window: window, capacity: capacity, seen: map[string]time.Time{}}
}

// admit remembers the delivery to receiver, unless it was taken before or
// the memory is full of deliveries younger than the window.
// It returns the key the delivery is remembered by.
func (m *replayMemory) admit(receiver string, h Hint, body []byte, now time.Time) (replayVerdict, string) {
	if !h.At.IsZero() && (now.Sub(h.At) > m.window || h.At.Sub(now) > m.window) {
		return replaySeen, ""
	}
	key := receiver + "\x00" + h.EventID
	if h.EventID == "" {
		sum := sha256.Sum256(body)
		key = receiver + "\x00#" + string(sum[:])
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if until, ok := m.seen[key]; ok && now.Before(until) {
		return replaySeen, key
	}
	if len(m.seen) >= m.capacity || now.Sub(m.swept) > m.window {
		maps.DeleteFunc(m.seen, func(_ string, until time.Time) bool { return !now.Before(until) })
		m.swept = now
	}
	if len(m.seen) >= m.capacity {
		return replayFull, key
	}
	m.seen[key] = now.Add(m.window)
	return replayNew, key
}

// forget forgets a delivery that was taken but could not be acted on, so
// that KrosAI's redelivery is taken.
func (m *replayMemory) forget(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, key)
}
