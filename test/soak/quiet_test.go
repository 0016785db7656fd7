//go:build soak

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

package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

const (
	// quietWindow is how long a settled system is left alone to show that
	// it writes nothing at rest: two sync periods, so that every
	// organization's list is read again at least once in it.
	quietWindow = 2 * syncPeriod
	// quietGrace comes first: the recorder sends the Events of the last
	// reconciles asynchronously, after the status that settled them.
	quietGrace = 2 * time.Second
	// reportingController is the manager's name on the Events it emits.
	reportingController = "kros-operator"
)

// span is a stretch of time; a zero to means it has not ended.
type span struct{ from, to time.Time }

func (p span) holds(t time.Time) bool {
	return !t.Before(p.from) && (p.to.IsZero() || !t.After(p.to))
}

// closeLowered ends the open lowered-limit span, once the baseline limit is back.
func (s *soak) closeLowered() {
	if n := len(s.lowered); n > 0 && s.lowered[n-1].to.IsZero() {
		s.lowered[n-1].to = time.Now()
	}
}

// checkQuiet leaves the settled system alone, no driving and no faults, for
// quietWindow and reports every write made in it: KrosAI writes from the
// simulator's request log, and, from watches, every change to a KrosEndpoint
// (status or metadata) and every Event the manager emits. Nothing changed,
// so nothing may be written.
func (s *soak) checkQuiet(ctx context.Context) []violation {
	time.Sleep(quietGrace)
	// controller-runtime's clients log through its root logger, which the
	// soak never sets; unset, it complains with a stack trace.
	ctrllog.SetLogger(logr.Discard())
	wc, err := client.NewWithWatch(s.cl.Env.Config, client.Options{Scheme: s.cl.Admin.Scheme()})
	if err != nil {
		s.t.Errorf("quiet window: a watching client: %v", err)
		return nil
	}
	var keps cockpitv1alpha1.KrosEndpointList
	var events eventsv1.EventList
	for _, l := range []client.ObjectList{&keps, &events} {
		if err := wc.List(ctx, l); err != nil {
			s.t.Errorf("quiet window: listing: %v", err)
			return nil
		}
	}
	last := map[string]*cockpitv1alpha1.KrosEndpoint{}
	keyOf := map[string]string{} // remote id → resource
	for i := range keps.Items {
		ep := &keps.Items[i]
		key := ep.Namespace + "/" + ep.Name
		last[key] = ep
		if id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]; id != "" && s.attackers[key] == nil {
			keyOf[id] = key // an attacker names its victim, and owns nothing
		}
	}

	start := time.Now()
	s.log.add("quiet", "", "no driving and no faults for %s", quietWindow)
	wctx, cancel := context.WithTimeout(ctx, quietWindow)
	defer cancel()
	from := func(rv string) client.ListOption {
		return &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}}
	}
	kw, err := wc.Watch(wctx, &cockpitv1alpha1.KrosEndpointList{}, from(keps.ResourceVersion))
	if err != nil {
		s.t.Errorf("quiet window: watching KrosEndpoints: %v", err)
		return nil
	}
	defer kw.Stop()
	ew, err := wc.Watch(wctx, &eventsv1.EventList{}, from(events.ResourceVersion))
	if err != nil {
		s.t.Errorf("quiet window: watching Events: %v", err)
		return nil
	}
	defer ew.Stop()

	var out []violation
	at := func() string { return fmt.Sprintf("%.1f s into the quiet window", time.Since(start).Seconds()) }
	kch, ech := kw.ResultChan(), ew.ResultChan()
	for kch != nil || ech != nil {
		select {
		case e, ok := <-kch:
			if !ok {
				kch = nil
				continue
			}
			out = append(out, quietEndpointWrite(e, last, at()))
		case e, ok := <-ech:
			if !ok {
				ech = nil
				continue
			}
			if v, ok := quietEvent(e, start, at()); ok {
				out = append(out, v)
			}
		}
	}
	if time.Since(start) < quietWindow-time.Second {
		s.t.Errorf("quiet window: a watch ended after %s, before the window's %s", time.Since(start), quietWindow)
	}
	end := time.Now()
	// The request log holds the last 1,000 requests; at rest a window sees
	// a few list pages.
	recs, err := s.sim.admin.Requests(ctx, 1000)
	if err != nil {
		s.t.Errorf("quiet window: the simulator's request log: %v", err)
	}
	for _, r := range recs {
		if r.Method == http.MethodGet || !(span{start, end}).holds(r.Time) {
			continue
		}
		out = append(out, violation{invQuiet, keyOf[r.EndpointID], []string{r.EndpointID}, fmt.Sprintf(
			"KrosAI %s %s (%s) at %s, %.1f s into the quiet window, answered %s: %s", r.Method, r.Path, r.Operation,
			r.Time.Format("15:04:05.000"), r.Time.Sub(start).Seconds(), r.Outcome(), r.Body)})
	}
	fmt.Printf("soak: quiet window of %s after settling: %d writes\n", quietWindow, len(out))
	return out
}

// quietEndpointWrite is the violation a KrosEndpoint's watch event in the
// quiet window is, naming the fields that changed.
func quietEndpointWrite(e watch.Event, last map[string]*cockpitv1alpha1.KrosEndpoint, when string) violation {
	ep, ok := e.Object.(*cockpitv1alpha1.KrosEndpoint)
	if !ok { // a watch error, as an Event of its own
		return violation{invQuiet, "", nil, fmt.Sprintf("KrosEndpoint watch %s %s: %v", e.Type, when, e.Object)}
	}
	key := ep.Namespace + "/" + ep.Name
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	what := string(e.Type)
	if prev := last[key]; prev != nil && e.Type == watch.Modified {
		what = fmt.Sprintf("written (resourceVersion %s → %s), changing %v", prev.ResourceVersion, ep.ResourceVersion,
			changedFields(prev, ep))
	}
	last[key] = ep
	return violation{invQuiet, key, []string{id}, fmt.Sprintf("KrosEndpoint %s %s", what, when)}
}

// quietEvent is the violation an Event's watch event in the quiet window
// (which began at start) is, when the manager emitted it in the window; the
// other controllers' Events are theirs. An Event that happened before start
// and arrives in the window is no write at rest: the recorder retries, for
// a minute or so, what it could not send while the API server was down.
func quietEvent(e watch.Event, start time.Time, when string) (violation, bool) {
	ev, ok := e.Object.(*eventsv1.Event)
	if !ok {
		return violation{invQuiet, "", nil, fmt.Sprintf("Event watch %s %s: %v", e.Type, when, e.Object)}, true
	}
	if ev.ReportingController != reportingController && ev.Regarding.Kind != "KrosEndpoint" {
		return violation{}, false
	}
	if happened := eventTime(ev); !happened.IsZero() && happened.Before(start) {
		return violation{}, false
	}
	return violation{invQuiet, ev.Regarding.Namespace + "/" + ev.Regarding.Name, nil, fmt.Sprintf(
		"Event %s %s %s by %s %s: %s", e.Type, ev.Type, ev.Reason, ev.ReportingController, when, ev.Note)}, true
}

// eventTime is when an Event last happened, as its emitter recorded it:
// the series' last occurrence, else the Event's own time.
func eventTime(ev *eventsv1.Event) time.Time {
	switch {
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.DeprecatedLastTimestamp.Time
}

// changedFields lists the paths of the fields that differ between two
// objects, bookkeeping (resourceVersion, managedFields) aside, with the
// values of short scalars: what a write changed.
func changedFields(before, after any) []string {
	var out []string
	diffJSON("", tree(before), tree(after), &out)
	return out
}

func tree(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	var t any
	if err := json.Unmarshal(data, &t); err != nil {
		return err.Error()
	}
	return t
}

func diffJSON(path string, a, b any, out *[]string) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		keys := maps.Keys(am)
		all := slices.Collect(keys)
		for k := range bm {
			if _, ok := am[k]; !ok {
				all = append(all, k)
			}
		}
		slices.Sort(all)
		for _, k := range all {
			if path == "metadata" && (k == "resourceVersion" || k == "managedFields") ||
				path == "" && (k == "apiVersion" || k == "kind") { // a list's items have no TypeMeta
				continue
			}
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			diffJSON(sub, am[k], bm[k], out)
		}
		return
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	as, aIsString := a.(string)
	bs, bIsString := b.(string)
	if (aIsString || a == nil) && (bIsString || b == nil) && len(as) <= 64 && len(bs) <= 64 {
		*out = append(*out, fmt.Sprintf("%s %q → %q", path, as, bs))
		return
	}
	*out = append(*out, path)
}

// checkBudget reports every 429 the simulator answered outside the spans in
// which the soak lowered the rate limit on purpose: the manager's client
// budget (managerRateLimit, managerBurst) is under the simulator's, so it
// should never be refused. The driver's own calls use keys of their own,
// far below their budget, so every 429 is the operator's.
func (s *soak) checkBudget() []violation {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	var out []violation
	for _, r := range s.apiRequests {
		if r.Status != http.StatusTooManyRequests ||
			slices.ContainsFunc(s.lowered, func(p span) bool { return p.holds(r.Time) }) {
			continue
		}
		out = append(out, violation{invBudget, "", []string{r.EndpointID}, fmt.Sprintf(
			"429 answered to %s %s (%s, org %s) at %s, outside every lowered-limit window", r.Method, r.Path,
			r.Operation, r.Org, r.Time.Format("15:04:05.000"))})
	}
	return out
}

// TestQuietEventJudgesByWhenItHappened: an Event delivered in the quiet
// window counts only if it happened there, not if the recorder could send
// it only then.
func TestQuietEventJudgesByWhenItHappened(t *testing.T) {
	start := time.Now()
	at := func(t time.Time) watch.Event {
		return watch.Event{Type: watch.Added, Object: &eventsv1.Event{ReportingController: reportingController,
			EventTime: metav1.NewMicroTime(t)}}
	}
	if _, counted := quietEvent(at(start.Add(-10*time.Second)), start, "now"); counted {
		t.Error("an Event that happened before the window counted as a write in it")
	}
	if _, counted := quietEvent(at(start.Add(time.Second)), start, "now"); !counted {
		t.Error("an Event that happened in the window did not count")
	}
}
