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
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/decide"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/test/fixtures"
)

// countingAPI answers lists and GETs from fixed endpoints and counts them.
type countingAPI struct {
	EndpointAPI
	listed, got []krosai.Endpoint
	lists, gets int
}

func (a *countingAPI) ListEndpoints(context.Context, krosai.Credentials) ([]krosai.Endpoint, error) {
	a.lists++
	return a.listed, nil
}

func (a *countingAPI) GetEndpoint(_ context.Context, _ krosai.Credentials, id string) (*krosai.Endpoint, error) {
	a.gets++
	for _, e := range a.got {
		if e.ID == id {
			return &e, nil
		}
	}
	return nil, &krosai.Error{Kind: krosai.KindNotFound, Op: "getEndpoint", StatusCode: 404, Code: krosai.CodeEndpointNotFound}
}

// TestReadFreshness pins the freshness rule with a sync period of ten
// minutes, where a stale answer would be believed for long: which read each
// situation makes, and that none reports an endpoint from before the
// resource stopped being Ready.
func TestReadFreshness(t *testing.T) {
	const period = 10 * time.Minute
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	asListed := krosai.Endpoint{ID: "ep-1", Name: "listed", Status: krosai.StatusActive}
	deleted := []krosai.Endpoint(nil)
	cred := krosai.Credentials{APIKey: "k", OrganizationID: "o"}

	resource := func(mutate ...func(*cockpitv1alpha1.KrosEndpoint)) *cockpitv1alpha1.KrosEndpoint {
		ep := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{UID: "uid", Generation: 2}}
		ep.Status.ID, ep.Status.ObservedGeneration = "ep-1", 2
		for _, m := range mutate {
			m(ep)
		}
		return ep
	}
	readySince := func(at time.Time) func(*cockpitv1alpha1.KrosEndpoint) {
		return func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Status.Conditions = []metav1.Condition{{Type: cockpitv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
				Reason: cockpitv1alpha1.ReasonSynced, ObservedGeneration: 2, LastTransitionTime: metav1.NewTime(at)}}
		}
	}
	notReadySince := func(reason string, at time.Time) func(*cockpitv1alpha1.KrosEndpoint) {
		return func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Status.Conditions = []metav1.Condition{{Type: cockpitv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
				Reason: reason, ObservedGeneration: 2, LastTransitionTime: metav1.NewTime(at)}}
		}
	}
	edited := func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Generation = 3 }

	tests := []struct {
		name string
		ep   *cockpitv1alpha1.KrosEndpoint
		// listedAt is when the shared list was taken; echo, if set, is our
		// own write recorded after it.
		listedAt   time.Time
		echo       *reading
		now        time.Time
		remoteGone bool
		lists      int
		gets       int
		wantName   string // "" when the endpoint must be found gone
	}{
		{name: "Ready: the shared list, no call", ep: resource(readySince(start)),
			listedAt: start.Add(time.Minute), now: start.Add(2 * time.Minute), wantName: "listed"},
		{name: "Ready, list older than the sync period: one list", ep: resource(readySince(start)),
			listedAt: start, now: start.Add(period + time.Second), lists: 1, wantName: "listed"},
		{name: "unpaused after a dashboard delete: a GET, not the list from before the pause",
			ep: resource(notReadySince(cockpitv1alpha1.ReasonPaused, start.Add(2*time.Minute))), remoteGone: true,
			listedAt: start.Add(time.Minute), now: start.Add(3 * time.Minute), gets: 1},
		{name: "in remote error since the last write: the echo stands in only until the next list",
			ep:       resource(notReadySince(cockpitv1alpha1.ReasonRemoteError, start)),
			listedAt: start.Add(-time.Minute), echo: &reading{endpoint: krosai.Endpoint{ID: "ep-1", Name: "echo"},
				at: start.Add(-time.Second), writtenFor: "uid"},
			now: start.Add(period), lists: 1, wantName: "listed"},
		{name: "in remote error, list taken since: no call", ep: resource(notReadySince(cockpitv1alpha1.ReasonRemoteError, start)),
			listedAt: start.Add(time.Minute), now: start.Add(2 * time.Minute), wantName: "listed"},
		{name: "a new generation: the shared list, one call per edit (update checks the answer)",
			ep: resource(readySince(start), edited), listedAt: start.Add(time.Minute), now: start.Add(2 * time.Minute),
			wantName: "listed"},
		{name: "a new generation just written by us: its echo", ep: resource(readySince(start), edited),
			listedAt: start.Add(time.Minute), echo: &reading{endpoint: krosai.Endpoint{ID: "ep-1", Name: "echo"},
				at: start.Add(90 * time.Second), writtenFor: "uid"},
			now: start.Add(2 * time.Minute), wantName: "echo"},
		{name: "a requested reconcile: a GET", ep: resource(readySince(start), func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationReconcileRequestedAt: "now"}
		}), listedAt: start.Add(time.Minute), now: start.Add(2 * time.Minute), gets: 1, wantName: "got"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			api := &countingAPI{listed: []krosai.Endpoint{asListed}, got: []krosai.Endpoint{{ID: "ep-1", Name: "got"}}}
			if tt.remoteGone {
				api.listed, api.got = deleted, deleted
			}
			clock := tt.listedAt
			r := &KrosEndpointReconciler{API: api, remote: newRemoteView(api.ListEndpoints, period), wakeups: newWakeups()}
			r.remote.now = func() time.Time { return clock }
			r.now = r.remote.now
			snapshot := r.remote.snapshot(cred)
			snapshot.fetched = tt.listedAt
			snapshot.byID["ep-1"] = reading{endpoint: asListed, at: tt.listedAt}
			if tt.echo != nil {
				r.remote.record(cred, *tt.echo)
			}
			clock = tt.now

			s := r.newScope(tt.ep)
			s.facts.Secrets = decide.Secrets{Read: true, Resolved: mapping.Resolved{Credentials: cred}}
			r.readRemote(context.Background(), s, "ep-1", decide.ReconcileRequested(tt.ep))
			g.Expect([]int{api.lists, api.gets}).To(Equal([]int{tt.lists, tt.gets}), "lists, GETs")
			if tt.wantName == "" {
				g.Expect(s.facts.Remote.State).To(Equal(decide.Gone), "%v", s.facts.Remote.Err)
				return
			}
			g.Expect(s.facts.Remote.State).To(Equal(decide.Found), "%v", s.facts.Remote.Err)
			g.Expect(s.facts.Remote.Endpoint.Name).To(Equal(tt.wantName))
		})
	}
}

// TestRecoveryListsAfterTheCreate: the endpoint an interrupted create made
// is found by a list sent after it, never in the shared list taken before,
// and recovered rather than created again.
func TestRecoveryListsAfterTheCreate(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(cockpitv1alpha1.AddToScheme(scheme)).To(Succeed())
	at := time.Now().UTC()
	ep := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", UID: "uid"},
		Spec: elevenLabsSpec("agent")}
	desired := mapping.Desired(ep, mapping.SIPLogin{})
	ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationCreatePending: mapping.NewPendingCreate(at, desired).String()}
	made := krosai.Endpoint{ID: "made", Name: desired.Name, Type: desired.Type, CreatedAt: at.Add(time.Second),
		ProviderConfig: *desired.ProviderConfig}
	api := &countingAPI{listed: []krosai.Endpoint{made}}
	r := &KrosEndpointReconciler{API: api, remote: newRemoteView(api.ListEndpoints, time.Hour), wakeups: newWakeups(), now: time.Now,
		Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(ep).Build()}
	cred := krosai.Credentials{APIKey: "k"}
	r.remote.snapshot(cred).fetched = time.Now() // a fresh shared list, from before the POST landed

	s := r.newScope(ep)
	s.facts.Secrets = decide.Secrets{Read: true, Resolved: mapping.Resolved{Credentials: cred}}
	d, err := r.decide(context.Background(), s)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(api.lists).To(Equal(1))
	g.Expect(d.Action).To(Equal(decide.ActionRecover))
	g.Expect(d.EndpointID).To(Equal("made"))
}

// patchingAPI answers PATCHes with the endpoint as patched, then changed by
// meddle (someone else's edit landing meanwhile), and GETs with the latest.
type patchingAPI struct {
	countingAPI
	current krosai.Endpoint
	meddle  func(*krosai.Endpoint)
	patches int
}

func (a *patchingAPI) UpdateEndpoint(_ context.Context, _ krosai.Credentials, _ string, u krosai.EndpointUpdate) (*krosai.Endpoint, error) {
	a.patches++
	if u.Name != nil {
		a.current.Name = *u.Name
	}
	if u.ProviderConfig != nil {
		a.current.ProviderConfig = *u.ProviderConfig
	}
	if a.meddle != nil {
		a.meddle(&a.current)
		a.meddle = nil
	}
	e := a.current
	return &e, nil
}

func (a *patchingAPI) GetEndpoint(context.Context, krosai.Credentials, string) (*krosai.Endpoint, error) {
	a.gets++
	e := a.current
	return &e, nil
}

// TestOneCallPerEdit: a spec edit is one PATCH computed against the last
// reading; only an answer that still differs costs a GET and a second
// PATCH.
func TestOneCallPerEdit(t *testing.T) {
	ep := fixtures.NewEndpoint("ns", "res", elevenLabsSpec("agent"))
	ep.Spec.DisplayName = "new name"
	ep.Finalizers = []string{cockpitv1alpha1.Finalizer}
	ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: "1"}
	ep.Status.ID = "1"
	stale := krosai.Endpoint{ID: "1", Name: "old name", Type: "elevenlabs", Status: "active",
		ProviderConfig: krosai.ProviderConfig{ElevenLabsAgentID: "agent"}}
	meddle := func(e *krosai.Endpoint) { e.ProviderConfig.ElevenLabsAgentID = "someone else's" }
	for _, tt := range []struct {
		name string
		// listed is how long before the reconcile the endpoint was read;
		// since changes it at KrosAI after that read, meddle after the PATCH.
		listed        time.Duration
		since, meddle func(*krosai.Endpoint)
		patches, gets int
	}{
		{"the answer matches: one PATCH", 0, nil, nil, 1, 0},
		{"the agent changed right after the PATCH: read again, correct once more", 0, nil, meddle, 2, 1},
		{"computed against a list, the agent changed since: one PATCH with every field", time.Minute, meddle, nil, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			api := &patchingAPI{current: stale, meddle: tt.meddle}
			if tt.since != nil {
				tt.since(&api.current)
			}
			r := &KrosEndpointReconciler{API: api, remote: newRemoteView(api.ListEndpoints, time.Hour), wakeups: newWakeups(), metrics: newMetrics(), now: time.Now}
			s := r.newScope(ep.DeepCopy())
			s.facts.Access, s.facts.Secrets = decide.Access{Read: true}, decide.Secrets{Read: true}
			s.setRemote(reading{endpoint: stale, at: s.began.Add(-tt.listed)})
			d := decide.Next(s.facts)
			g.Expect(d.Action).To(Equal(decide.ActionUpdate))
			d, err := r.sync(context.Background(), s, d)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(d.Action).To(Equal(decide.ActionNone))
			g.Expect([]int{api.patches, api.gets}).To(Equal([]int{tt.patches, tt.gets}), "PATCHes, GETs")
			g.Expect(s.remote.endpoint.Name).To(Equal("new name"))
			g.Expect(s.remote.endpoint.ProviderConfig.ElevenLabsAgentID).To(Equal("agent"))
		})
	}
}

func TestReadSinceNotReady(t *testing.T) {
	transition := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	withReady := func(status metav1.ConditionStatus) *cockpitv1alpha1.KrosEndpoint {
		ep := &cockpitv1alpha1.KrosEndpoint{}
		if status != "" {
			ep.Status.Conditions = []metav1.Condition{{Type: cockpitv1alpha1.ConditionReady, Status: status,
				LastTransitionTime: metav1.NewTime(transition)}}
		}
		return ep
	}
	tests := []struct {
		name  string
		ep    *cockpitv1alpha1.KrosEndpoint
		at    time.Time
		fresh bool
	}{
		{"a new resource takes any reading", withReady(""), transition.Add(-time.Hour), true},
		{"a Ready resource takes the shared list", withReady(metav1.ConditionTrue), transition.Add(-time.Hour), true},
		{"paused, then: an older list is not enough", withReady(metav1.ConditionFalse), transition.Add(-time.Millisecond), false},
		{"within the transition's second: not provably after", withReady(metav1.ConditionFalse), transition.Add(999 * time.Millisecond), false},
		{"a list sent after the transition", withReady(metav1.ConditionFalse), transition.Add(time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(readSinceNotReady(tt.ep, tt.at)).To(Equal(tt.fresh))
		})
	}
}

// TestRecreationsCountOnlyWhatReachesKrosAI: a re-creation that fails before
// its POST (the API server down for the create-pending record) re-creates
// nothing and does not use up the hourly bound.
func TestRecreationsCountOnlyWhatReachesKrosAI(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(cockpitv1alpha1.AddToScheme(scheme)).To(Succeed())
	ep := fixtures.NewEndpoint("ns", "res", elevenLabsSpec("agent"))
	ep.UID = "uid"
	down := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).WithObjects(ep).Build(), interceptor.Funcs{
		Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return errors.New("connection refused")
		}})
	api := &countingAPI{}
	r := &KrosEndpointReconciler{Client: down, API: api, remote: newRemoteView(api.ListEndpoints, time.Hour), wakeups: newWakeups(),
		metrics: newMetrics(), now: time.Now}
	for range decide.MaxRecreations + 1 {
		s := r.newScope(ep.DeepCopy())
		s.facts.Secrets = decide.Secrets{Read: true}
		g.Expect(r.create(context.Background(), s, decide.Decision{Action: decide.ActionRecreate, EndpointID: "gone"})).
			To(MatchError(ContainSubstring("connection refused")))
	}
	g.Expect(r.recreations.reached(ep.UID, time.Now())).To(BeFalse())
}

// deletingAPI counts DELETEs.
type deletingAPI struct {
	countingAPI
	deletes int
}

func (a *deletingAPI) DeleteEndpoint(context.Context, krosai.Credentials, string) error {
	a.deletes++
	return nil
}

// TestDeletesOnce: a reconcile of a resource being deleted that reads it
// from a cache that has not seen its finalizer go (the informer lags the
// write that removed it) does not send the DELETE again.
func TestDeletesOnce(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(cockpitv1alpha1.AddToScheme(scheme)).To(Succeed())
	g.Expect(corev1.AddToScheme(scheme)).To(Succeed())
	credentials := types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"}
	key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: credentials.Namespace, Name: credentials.Name},
		Data: map[string][]byte{cockpitv1alpha1.SecretKeyAPIKey: []byte("kros_test_key")}}
	ep := fixtures.NewEndpoint("ns", "res", elevenLabsSpec("agent"))
	ep.UID, ep.Finalizers = "uid", []string{cockpitv1alpha1.Finalizer}
	ep.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: "e-1"}
	ep.Status.ID = "e-1"
	ep.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	stale := ep.DeepCopy()
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).WithObjects(ep, key).Build(), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if got, ok := obj.(*cockpitv1alpha1.KrosEndpoint); ok { // the lagging cache
				stale.DeepCopyInto(got)
				return nil
			}
			return c.Get(ctx, k, obj, opts...)
		}})
	api := &deletingAPI{}
	r := &KrosEndpointReconciler{Client: c, APIReader: c, API: api, DefaultCredentials: credentials, SyncPeriod: time.Minute,
		remote: newRemoteView(api.ListEndpoints, time.Minute), secrets: newSecretReader(c, c), metrics: newMetrics(), wakeups: newWakeups(), now: time.Now}
	for range 2 {
		_, _ = r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ep)})
	}
	g.Expect(api.deletes).To(Equal(1))
}
