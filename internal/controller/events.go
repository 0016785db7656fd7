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
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/events"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// How often KrosAI's events may make the operator read: per resource,
// eventReadBurst reads at once, then one per eventReadWindow, whatever the
// number of deliveries naming its endpoint (a token bucket: edits a person
// makes seconds apart are each read at once, a flood costs one read a
// window); and one list per organization per eventListWindow for
// deliveries that name none.
const (
	eventReadBurst  = 2
	eventReadWindow = time.Second
	eventListWindow = 30 * time.Second
)

// wakeups are the reads KrosAI's events asked of resources and that have
// not happened yet. An event says only "read this now": a resource it wakes
// reads its endpoint (or its organization's list) and decides as on any
// other reconcile. A resource once woken keeps an entry (its token bucket)
// until it is deleted: a few dozen bytes per resource.
type wakeups struct {
	mu      sync.Mutex
	pending map[types.NamespacedName]*wakeup
	// listed is, per organization, when its last event-driven list was due.
	listed map[string]time.Time
	// queue is the KrosEndpoint controller's, once it started.
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// wakeup is what one resource was asked to read.
type wakeup struct {
	// readAfter: a reading of the endpoint made before it may miss the
	// change an event reported; zero when no read is due.
	readAfter time.Time
	// echo is the updated_at that every delivery since readAfter carried for
	// a create or an update: a reading that shows it shows their change.
	// Zero: unknown, or a deletion.
	echo time.Time
	// listAfter is readAfter for the organization's list.
	listAfter time.Time
	// delivered is the first delivery the due read answers, for the metric.
	delivered time.Time
	// tokens are the reads the resource may make at once, as of refilled;
	// below zero, the read due waits for the bucket to refill.
	tokens   float64
	refilled time.Time
}

// take takes a read from the bucket at now, and says how long it waits.
func (u *wakeup) take(now time.Time) time.Duration {
	if u.refilled.IsZero() {
		u.tokens = eventReadBurst
	} else {
		u.tokens = min(eventReadBurst, u.tokens+float64(now.Sub(u.refilled))/float64(eventReadWindow))
	}
	u.refilled = now
	u.tokens--
	if u.tokens >= 0 {
		return 0
	}
	return time.Duration(-u.tokens * float64(eventReadWindow))
}

func newWakeups() *wakeups {
	return &wakeups{pending: map[types.NamespacedName]*wakeup{}, listed: map[string]time.Time{}}
}

// start is the controller's source: it hands over the queue.
func (w *wakeups) start(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queue = q
	return nil
}

// started reports whether wakeups can be queued.
func (w *wakeups) started() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queue != nil
}

// wake asks resource key to read what h names, and queues it, unless a read
// already due will see the change (coalesced: false).
func (w *wakeups) wake(key types.NamespacedName, h events.Hint) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	u := w.pending[key]
	if u == nil {
		u = &wakeup{}
		w.pending[key] = u
	}
	now := h.Delivered
	echo := time.Time{}
	if echoable(h) {
		echo = h.UpdatedAt
	}
	switch {
	case h.EndpointID == "" && !u.listAfter.IsZero(), h.EndpointID != "" && !u.readAfter.IsZero():
		if !u.echo.Equal(echo) {
			u.echo = time.Time{}
		}
		return false
	case h.EndpointID == "":
		u.listAfter = now
	default:
		u.readAfter, u.echo = now, echo
	}
	if u.delivered.IsZero() {
		u.delivered = now
	}
	w.queue.AddAfter(reconcile.Request{NamespacedName: key}, u.take(now))
	return true
}

// echoable reports an event that a reading showing its updated_at answers:
// a create or an update. A deletion leaves the endpoint as it was.
func echoable(h events.Hint) bool {
	return h.Type == "endpoint.created" || h.Type == "endpoint.updated"
}

// listDue reports whether a delivery naming no endpoint may list the
// organization now, and if so counts it.
func (w *wakeups) listDue(organization string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if last, ok := w.listed[organization]; ok && now.Sub(last) < eventListWindow {
		return false
	}
	w.listed[organization] = now
	return true
}

// listAfter is when the resource's organization must have been listed
// since, for an event; zero if no event asks.
func (w *wakeups) listAfter(key types.NamespacedName) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if u := w.pending[key]; u != nil {
		return u.listAfter
	}
	return time.Time{}
}

// answered reports whether rd shows what the events pending for the
// resource reported, and if so drops them; delivered is then the first
// delivery it answers (zero if none).
func (w *wakeups) answered(key types.NamespacedName, rd reading) (ok bool, delivered time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	u := w.pending[key]
	if u == nil {
		return true, time.Time{}
	}
	echoed := !u.echo.IsZero() && rd.endpoint.UpdatedAt.Equal(u.echo)
	if !u.readAfter.IsZero() && rd.at.Before(u.readAfter) && !echoed {
		return false, time.Time{}
	}
	if !u.listAfter.IsZero() && rd.at.Before(u.listAfter) && !echoed {
		return false, time.Time{}
	}
	delivered = u.delivered
	// The bucket stays: the next delivery's read may have to wait for it.
	u.readAfter, u.listAfter, u.echo, u.delivered = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return true, delivered
}

// forget drops what is pending for a resource that is gone.
func (w *wakeups) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, key)
}

// eventDirectory is what the event receiver asks of the cluster, answered
// from the manager's cache.
type eventDirectory struct{ r *KrosEndpointReconciler }

// Receiver returns the KrosEndpoint at namespace/name if it receives
// events: a webhook marked so, that KrosAI holds (status.id), whose
// organization is known and whose signing Secret the operator wrote.
func (d eventDirectory) Receiver(ctx context.Context, namespace, name string) (events.Receiver, error) {
	r := d.r
	if !r.wakeups.started() {
		return events.Receiver{}, errors.New("the controller has not started")
	}
	var ep cockpitv1alpha1.KrosEndpoint
	switch err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &ep); {
	case apierrors.IsNotFound(err):
		return events.Receiver{}, events.ErrNoReceiver
	case err != nil:
		return events.Receiver{}, err
	}
	if !receivesEvents(&ep) {
		return events.Receiver{}, events.ErrNoReceiver
	}
	ref := mapping.SecretRef{Key: types.NamespacedName{Namespace: namespace, Name: ep.Status.SigningSecretName}, Local: true}
	data, _, err := r.secrets.read(ctx, ref)
	var stalled *mapping.Stalled
	switch {
	case errors.As(err, &stalled):
		return events.Receiver{}, events.ErrNoReceiver
	case err != nil:
		return events.Receiver{}, err
	case len(data[cockpitv1alpha1.SecretKeySigningSecret]) == 0:
		return events.Receiver{}, events.ErrNoReceiver
	}
	return events.Receiver{Namespace: namespace, Name: name, Organization: ep.Status.OrganizationID,
		SigningSecret: data[cockpitv1alpha1.SecretKeySigningSecret]}, nil
}

// receivesEvents reports a KrosEndpoint that may verify deliveries.
func receivesEvents(ep *cockpitv1alpha1.KrosEndpoint) bool {
	return ep.Spec.Webhook != nil && ep.Spec.Webhook.EventReceiver && ep.DeletionTimestamp.IsZero() &&
		ep.Status.ID != "" && ep.Status.OrganizationID != "" && ep.Status.SigningSecretName != ""
}

// Wake wakes the resources the receiver acts for, in its organization, that
// own or observe the endpoint the hint names, or all of them for a hint
// naming none. A receiver acts for its own namespace; one in the operator's
// namespace, which tenants cannot write, for every namespace.
func (d eventDirectory) Wake(ctx context.Context, recv events.Receiver, h events.Hint) (events.Woken, error) {
	r := d.r
	if h.EndpointID == "" && !r.wakeups.listDue(recv.Organization, h.Delivered) {
		return events.Woken{Coalesced: 1}, nil
	}
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if recv.Namespace != r.DefaultCredentials.Namespace {
		opts = append(opts, client.InNamespace(recv.Namespace))
	}
	items, err := cluster.KrosEndpoints(ctx, r.Client, opts...)
	if err != nil {
		return events.Woken{}, err
	}
	var woken events.Woken
	for i := range items {
		ep := &items[i]
		if ep.Status.OrganizationID != recv.Organization || (h.EndpointID != "" && mapping.ObservedID(ep) != h.EndpointID) {
			continue
		}
		if echoable(h) && r.remote.holds(recv.Organization, h.EndpointID, h.UpdatedAt) {
			woken.Known++
			continue
		}
		if r.wakeups.wake(types.NamespacedName{Namespace: ep.Namespace, Name: ep.Name}, h) {
			woken.Resources++
		} else {
			woken.Coalesced++
		}
	}
	return woken, nil
}

// readSettled reports whether a completed read answers the events pending
// for the resource; a failed GET other than a 404 leaves them pending.
func readSettled(err error) bool { return err == nil || krosai.IsNotFound(err) }
