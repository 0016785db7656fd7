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
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/decide"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// create makes the remote endpoint exactly once, across crashes and lost
// responses. The API has no idempotency key, so the operator keeps a record
// of its own (see docs/crash-safe-create.md):
//
//  1. Before the POST it writes the create-pending annotation (the time, the
//     name and type it sends, and a fingerprint of the rest) with optimistic
//     concurrency. A reconcile working from a stale cached copy, one that has
//     not yet seen the id an earlier reconcile wrote, fails here with a
//     conflict instead of sending a second POST.
//  2. It sends the POST once; the client never retries a POST that may have
//     reached the server, and reports "outcome unknown" instead.
//  3. On success it writes the id annotation and drops the pending one.
//
// If the operator dies between 1 and 3, or the outcome is unknown, the pending
// annotation survives and the next decision recovers what the POST made
// (decide.ActionRecover) before it creates again.
func (r *KrosEndpointReconciler) create(ctx context.Context, s *scope, d decide.Decision) error {
	ep, res := s.ep, s.facts.Secrets
	if s.created {
		return fmt.Errorf("endpoint %s is gone again right after it was created; not creating another", d.EndpointID)
	}
	desired := mapping.Desired(ep, res.SIP)
	// One write records the intent and the finalizer that guarantees the
	// endpoint is cleaned up with the resource.
	record := mapping.NewPendingCreate(r.now().UTC(), desired)
	if err := r.patchMetadata(ctx, ep, true, func(obj *cockpitv1alpha1.KrosEndpoint) {
		controllerutil.AddFinalizer(obj, cockpitv1alpha1.Finalizer)
		delete(obj.Annotations, cockpitv1alpha1.AnnotationEndpointID)
		setAnnotation(obj, cockpitv1alpha1.AnnotationCreatePending, record.String())
	}); err != nil {
		return err
	}
	if d.Action == decide.ActionRecreate {
		// Counted once the POST is certain to be sent: an attempt that
		// failed before it (the API server down) re-created nothing, and
		// must not use up the bound.
		r.recreations.record(ep.UID, r.now())
		r.event(ep, corev1.EventTypeWarning, "Recreating", "Create",
			"Endpoint %s was deleted outside Kubernetes; creating it again", d.EndpointID)
		r.metrics.recreations.WithLabelValues(ep.Namespace).Inc()
	}
	s.created = true
	created, err := r.API.CreateEndpoint(ctx, res.Credentials, desired)
	if err != nil {
		if decide.NotCreated(err) {
			// Nothing to recover: spare the next attempt a list.
			_ = r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
				delete(obj.Annotations, cockpitv1alpha1.AnnotationCreatePending)
			})
		}
		return fmt.Errorf("create endpoint: %w", err)
	}
	rd := r.recordWrite(s, created)
	if err := r.recordID(ctx, ep, created.ID); err != nil {
		// The pending annotation stays, so the next reconcile adopts it.
		return err
	}
	r.event(ep, corev1.EventTypeNormal, "Created", "Create", "Created %s endpoint %s in KrosAI", created.Type, created.ID)
	s.setRemote(rd)
	return nil
}

// recordRecovered records the endpoint an interrupted create made as the
// resource's own, instead of creating another.
func (r *KrosEndpointReconciler) recordRecovered(ctx context.Context, s *scope, found krosai.Endpoint) error {
	if err := r.recordID(ctx, s.ep, found.ID); err != nil {
		return err
	}
	r.event(s.ep, corev1.EventTypeNormal, "Adopted", "Create",
		"Found endpoint %s made by an interrupted create and adopted it instead of creating another", found.ID)
	return nil
}

// recordID persists the remote id at once: it is the source of truth for
// which endpoint this resource owns. The finalizer comes with it, so an
// adopted endpoint is never left behind.
//
// status.id is written first. Status, which a tenant's role cannot write,
// is what says the endpoint is the resource's own, created or recovered by
// it: if the operator stops between the two writes, the create-pending
// record is still there and the next reconcile recovers the endpoint; had
// the annotation come first, it would find an id named only by an
// annotation, which it takes for an adoption, and which a namespace under
// KrosGrants may not make without a grant.
func (r *KrosEndpointReconciler) recordID(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, id string) error {
	if ep.Status.ID != id {
		before := ep.DeepCopy()
		after := before.DeepCopy()
		after.Status.ID = id
		if err := r.Status().Patch(ctx, after, client.MergeFrom(before)); err != nil {
			return fmt.Errorf("record endpoint id %s in status: %w", id, err)
		}
		ep.ResourceVersion = after.ResourceVersion
	}
	err := r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
		controllerutil.AddFinalizer(obj, cockpitv1alpha1.Finalizer)
		setAnnotation(obj, cockpitv1alpha1.AnnotationEndpointID, id)
		delete(obj.Annotations, cockpitv1alpha1.AnnotationCreatePending)
	})
	if err != nil {
		return fmt.Errorf("record endpoint id %s: %w", id, err)
	}
	ep.Status.ID = id
	return nil
}

func setAnnotation(obj *cockpitv1alpha1.KrosEndpoint, key, value string) {
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[key] = value
}

// recreationLimiter remembers, in memory, when each resource's endpoint was
// re-created within the last hour (decide.MaxRecreations bounds it). A
// restart forgets it: the bound is per process, which is enough to stop a
// loop.
type recreationLimiter struct {
	mu sync.Mutex
	at map[types.UID][]time.Time
}

// reached reports whether uid's endpoint was re-created as often as allowed
// within the hour before now.
func (l *recreationLimiter) reached(uid types.UID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	return len(l.at[uid]) >= decide.MaxRecreations
}

// record records a re-creation of uid's endpoint at now.
func (l *recreationLimiter) record(uid types.UID, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	if l.at == nil {
		l.at = map[types.UID][]time.Time{}
	}
	l.at[uid] = append(l.at[uid], now)
}

func (l *recreationLimiter) prune(now time.Time) {
	for u, times := range l.at {
		l.at[u] = slices.DeleteFunc(times, func(t time.Time) bool { return now.Sub(t) >= time.Hour })
		if len(l.at[u]) == 0 {
			delete(l.at, u)
		}
	}
}
