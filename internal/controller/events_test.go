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
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/krosai/kros-operator/internal/events"
	"github.com/krosai/kros-operator/internal/krosai"
)

// recordingQueue records AddAfter; nothing else of the queue is used.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	added []time.Duration
}

func (q *recordingQueue) AddAfter(_ reconcile.Request, d time.Duration) { q.added = append(q.added, d) }

func TestWakeupsCoalesce(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	key := types.NamespacedName{Namespace: "team", Name: "agent"}
	updated := func(at, updatedAt time.Time) events.Hint {
		return events.Hint{Type: "endpoint.updated", EndpointID: "ep_1", Delivered: at, UpdatedAt: updatedAt}
	}
	read := func(at, updatedAt time.Time) reading {
		return reading{at: at, endpoint: krosai.Endpoint{ID: "ep_1", UpdatedAt: updatedAt}}
	}
	newWoken := func() (*wakeups, *recordingQueue) {
		w, q := newWakeups(), &recordingQueue{}
		_ = w.start(t.Context(), q)
		return w, q
	}

	t.Run("a burst costs one read, and then one per window", func(t *testing.T) {
		w, q := newWoken()
		if !w.wake(key, updated(t0, t0)) {
			t.Fatal("the first delivery must wake the resource")
		}
		for i := range 999 {
			if w.wake(key, updated(t0.Add(time.Duration(i)*time.Millisecond), t0)) {
				t.Fatalf("delivery %d woke it again while a read was due", i+2)
			}
		}
		if ok, _ := w.answered(key, read(t0.Add(-time.Second), time.Time{})); ok {
			t.Fatal("a reading older than the deliveries does not answer them")
		}
		ok, delivered := w.answered(key, read(t0.Add(10*time.Millisecond), t0))
		if !ok || !delivered.Equal(t0) {
			t.Fatalf("a reading after the deliveries answers them from the first: %v %v", ok, delivered)
		}
		for i, at := range []time.Duration{20, 40} {
			now := t0.Add(at * time.Millisecond)
			if !w.wake(key, updated(now, t0)) {
				t.Fatalf("delivery after read %d must wake it again", i+1)
			}
			if ok, _ := w.answered(key, read(now.Add(time.Millisecond), t0)); !ok {
				t.Fatalf("read %d answers it", i+2)
			}
		}
		want := []time.Duration{0, 0, eventReadWindow - 40*time.Millisecond}
		if len(q.added) != 3 || q.added[0] != want[0] || q.added[1] != want[1] ||
			q.added[2] < want[2]-time.Millisecond || q.added[2] > want[2]+time.Millisecond {
			t.Errorf("queued after %v, want %v: %d reads at once, then one per window", q.added, want, eventReadBurst)
		}
		w.wake(key, updated(t0.Add(10*time.Second), t0))
		if got := q.added[len(q.added)-1]; got != 0 {
			t.Errorf("after a quiet while, a delivery is read at once, not after %v", got)
		}
	})
	t.Run("the echo of the operator's own write needs no read", func(t *testing.T) {
		w, _ := newWoken()
		written := t0.Add(-time.Second)
		w.wake(key, updated(t0, written))
		if ok, _ := w.answered(key, read(written, written)); !ok {
			t.Error("a reading showing the updated_at the event carries answers it")
		}
		w.wake(key, updated(t0.Add(2*time.Second), written))
		w.wake(key, updated(t0.Add(2*time.Second), t0.Add(time.Second)))
		if ok, _ := w.answered(key, read(written, written)); ok {
			t.Error("a second change since: the reading of the first does not answer both")
		}
	})
	t.Run("a deletion is never an echo", func(t *testing.T) {
		w, _ := newWoken()
		h := updated(t0, t0)
		h.Type = "endpoint.deleted"
		w.wake(key, h)
		if ok, _ := w.answered(key, read(t0.Add(-time.Second), t0)); ok {
			t.Error("the endpoint as it was before its deletion does not answer the deletion")
		}
	})
	t.Run("no endpoint named: one list per organization per window", func(t *testing.T) {
		w, q := newWoken()
		if !w.listDue("org", t0) || w.listDue("org", t0.Add(eventListWindow/2)) || !w.listDue("other", t0) {
			t.Error("one list per organization per window")
		}
		w.wake(key, events.Hint{Delivered: t0})
		if got := w.listAfter(key); !got.Equal(t0) {
			t.Errorf("listAfter = %v", got)
		}
		if ok, _ := w.answered(key, read(t0.Add(-time.Second), time.Time{})); ok {
			t.Error("a list sent before the delivery does not answer it")
		}
		if ok, _ := w.answered(key, read(t0.Add(time.Second), time.Time{})); !ok || !w.listAfter(key).IsZero() {
			t.Error("a list sent after it does")
		}
		if len(q.added) != 1 {
			t.Errorf("queued %d times", len(q.added))
		}
	})
}

func TestRemoteViewHolds(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	o := newRemoteView(nil, time.Hour)
	o.remember(krosai.Credentials{APIKey: "k"}, krosai.Endpoint{ID: "ep_1", OrganizationID: "org", UpdatedAt: t0})
	for name, tt := range map[string]struct {
		org, id   string
		updatedAt time.Time
		holds     bool
	}{
		"the state held":              {org: "org", id: "ep_1", updatedAt: t0, holds: true},
		"a later state":               {org: "org", id: "ep_1", updatedAt: t0.Add(time.Millisecond)},
		"no updated_at":               {org: "org", id: "ep_1"},
		"another organization's":      {org: "other", id: "ep_1", updatedAt: t0},
		"an endpoint never read here": {org: "org", id: "ep_2", updatedAt: t0},
	} {
		if got := o.holds(tt.org, tt.id, tt.updatedAt); got != tt.holds {
			t.Errorf("%s: holds = %v", name, got)
		}
	}
}

func TestRecordEventAnswered(t *testing.T) {
	m := newMetrics()
	delivered := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	m.recordEventAnswered(delivered, nil, delivered.Add(80*time.Millisecond))
	m.recordEventAnswered(delivered, errors.New("status patch failed"), delivered.Add(time.Second))
	m.recordEventAnswered(time.Time{}, nil, delivered) // a reconcile no event asked for
	if n := testutil.CollectAndCount(m.eventAnswered); n != 1 {
		t.Fatalf("%d histograms", n)
	}
	var got dto.Metric
	if err := m.eventAnswered.Write(&got); err != nil {
		t.Fatal(err)
	}
	if h := got.GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 0.08 {
		t.Errorf("observed %d samples summing %vs, want the one answered and written, 0.08s", h.GetSampleCount(), h.GetSampleSum())
	}
}
