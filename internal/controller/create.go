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
// annotation survives and the next reconcile recovers before it creates
// (recoverCreate).
func (r *KrosEndpointReconciler) create(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved, desired krosai.EndpointCreate,
) (observation, error) {
	cred := res.Credentials
	if pending, ok := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]; ok {
		found, err := r.recoverCreate(ctx, ep, cred, mapping.ParsePendingCreate(pending, desired))
		if err != nil {
			return observation{}, err
		}
		if found != nil {
			return r.observer.remember(cred, *found), nil
		}
	}
	// One write records the intent and the finalizer that guarantees the
	// endpoint is cleaned up with the resource.
	record := mapping.NewPendingCreate(r.now().UTC(), desired)
	if err := r.patchMetadata(ctx, ep, true, func(obj *cockpitv1alpha1.KrosEndpoint) {
		controllerutil.AddFinalizer(obj, cockpitv1alpha1.Finalizer)
		delete(obj.Annotations, cockpitv1alpha1.AnnotationEndpointID)
		setAnnotation(obj, cockpitv1alpha1.AnnotationCreatePending, record.String())
	}); err != nil {
		return observation{}, err
	}
	created, err := r.API.CreateEndpoint(ctx, cred, desired)
	if err != nil {
		if definitelyNotCreated(err) {
			// Nothing to recover: spare the next attempt a list.
			_ = r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
				delete(obj.Annotations, cockpitv1alpha1.AnnotationCreatePending)
			})
		}
		return observation{}, fmt.Errorf("create endpoint: %w", err)
	}
	obs := r.recordWrite(cred, ep, created, res)
	if err := r.recordID(ctx, ep, created.ID); err != nil {
		// The pending annotation stays, so the next reconcile adopts it.
		return observation{}, err
	}
	r.event(ep, corev1.EventTypeNormal, "Created", "Create", "Created %s endpoint %s in KrosAI", created.Type, created.ID)
	return obs, nil
}

// recoverCreate adopts the endpoint an interrupted create made, if the
// record it left names exactly one (mapping.RecoverCreate), from a list sent
// now: one from before the POST landed would not show it.
func (r *KrosEndpointReconciler) recoverCreate(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, cred krosai.Credentials, sent mapping.PendingCreate,
) (*krosai.Endpoint, error) {
	all, err := r.observer.refresh(ctx, cred, r.now())
	if err != nil {
		return nil, fmt.Errorf("list endpoints to recover an interrupted create: %w", err)
	}
	others, err := r.otherKrosEndpoints(ctx, ep)
	if err != nil {
		return nil, err
	}
	found, err := mapping.RecoverCreate(sent, all, others)
	if err != nil || found == nil {
		return nil, err
	}
	if err := r.recordID(ctx, ep, found.ID); err != nil {
		return nil, err
	}
	r.event(ep, corev1.EventTypeNormal, "Adopted", "Create",
		"Found endpoint %s made by an interrupted create and adopted it instead of creating another", found.ID)
	return found, nil
}

// otherKrosEndpoints returns every KrosEndpoint but ep, from the cache.
//
// It scans the cache rather than keep an index by id: it runs only when
// adopting, recovering an interrupted create or deleting a never-adopted
// endpoint, while an index costs two map entries per resource for the
// manager's lifetime (about 7 MiB at 10,000 resources; docs/benchmarks.md).
func (r *KrosEndpointReconciler) otherKrosEndpoints(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint) ([]cockpitv1alpha1.KrosEndpoint, error) {
	var all cockpitv1alpha1.KrosEndpointList
	// Read-only use of the cached objects: nothing returned from here is
	// changed.
	if err := r.List(ctx, &all, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all.Items, func(o cockpitv1alpha1.KrosEndpoint) bool { return o.UID == ep.UID }), nil
}

// claimant returns the KrosEndpoint other than ep that claims the remote id,
// if any, so that an endpoint is never adopted or deleted by two resources.
func (r *KrosEndpointReconciler) claimant(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, id string) (*cockpitv1alpha1.KrosEndpoint, error) {
	others, err := r.otherKrosEndpoints(ctx, ep)
	if err != nil {
		return nil, err
	}
	if c := mapping.ClaimantIn(others, id); c != nil {
		return c.DeepCopy(), nil
	}
	return nil, nil
}

// refuseClaimedByAnother returns a *mapping.Stalled when another KrosEndpoint
// claims id.
func (r *KrosEndpointReconciler) refuseClaimedByAnother(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, id string) error {
	owner, err := r.claimant(ctx, ep, id)
	if err != nil || owner == nil {
		return err
	}
	return mapping.OwnedByAnother(id, owner)
}

// recordID persists the remote id at once: it is the source of truth for
// which endpoint this resource owns. The finalizer comes with it, so an
// adopted endpoint is never left behind.
func (r *KrosEndpointReconciler) recordID(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, id string) error {
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

// maxRecreations bounds how often one resource's endpoint is created again
// within an hour after KrosAI reported it deleted.
const maxRecreations = 3

// recreationLimiter remembers, in memory, when each resource's endpoint was
// re-created within the last hour. A restart forgets it: the bound is per
// process, which is enough to stop a loop.
type recreationLimiter struct {
	mu sync.Mutex
	at map[types.UID][]time.Time
}

// allow records a re-creation of uid's endpoint at now and reports whether
// it is within the bound; force (a person asked for it) always allows.
func (l *recreationLimiter) allow(uid types.UID, now time.Time, force bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = map[types.UID][]time.Time{}
	}
	for u, times := range l.at {
		l.at[u] = slices.DeleteFunc(times, func(t time.Time) bool { return now.Sub(t) >= time.Hour })
		if len(l.at[u]) == 0 {
			delete(l.at, u)
		}
	}
	if len(l.at[uid]) >= maxRecreations && !force {
		return false
	}
	l.at[uid] = append(l.at[uid], now)
	return true
}
