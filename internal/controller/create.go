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
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

// createClockSkew widens the window in which a remote endpoint's created_at
// counts as "since the create was recorded": the operator's clock and the
// API's need not agree.
const createClockSkew = 2 * time.Minute

// create makes the remote endpoint exactly once, across crashes and lost
// responses. The API has no idempotency key, so the operator keeps a record
// of its own (see docs/crash-safe-create.md):
//
//  1. Before the POST it writes the create-pending annotation (the time, and
//     the name and type it sends) with optimistic concurrency. A reconcile working from a stale cached
//     copy, one that has not yet seen the id an earlier reconcile wrote,
//     fails here with a conflict instead of sending a second POST.
//  2. It sends the POST once; the client never retries a POST that may have
//     reached the server, and reports "outcome unknown" instead.
//  3. On success it writes the id annotation and drops the pending one.
//
// If the operator dies between 1 and 3, or the outcome is unknown, the pending
// annotation survives and the next reconcile recovers before it creates: it
// lists the organization and adopts the single endpoint with the recorded name
// and type created since the pending time that no other resource owns (the
// recorded ones: the spec may have been edited since the POST). None
// means the POST never landed, so it creates; more than one stalls with the
// candidates named, for a person to choose.
func (r *KrosEndpointReconciler) create(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved, desired krosai.EndpointCreate,
) (*krosai.Endpoint, error) {
	cred := res.credentials
	if pending, ok := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]; ok {
		found, err := r.recoverCreate(ctx, ep, cred, parsePendingCreate(pending, desired))
		if err != nil || found != nil {
			return found, err
		}
	}
	// One write records the intent and the finalizer that guarantees the
	// endpoint is cleaned up with the resource.
	if err := r.patchMetadata(ctx, ep, true, func(obj *cockpitv1alpha1.KrosEndpoint) {
		controllerutil.AddFinalizer(obj, cockpitv1alpha1.Finalizer)
		delete(obj.Annotations, cockpitv1alpha1.AnnotationEndpointID)
		setAnnotation(obj, cockpitv1alpha1.AnnotationCreatePending, pendingCreate{At: r.now().UTC(), Name: desired.Name,
			Type: desired.Type}.String())
	}); err != nil {
		return nil, err
	}
	created, err := r.API.CreateEndpoint(ctx, cred, desired)
	if err != nil {
		if definitelyNotCreated(err) {
			// Nothing to recover: spare the next attempt a list.
			_ = r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
				delete(obj.Annotations, cockpitv1alpha1.AnnotationCreatePending)
			})
		}
		return nil, fmt.Errorf("create endpoint: %w", err)
	}
	r.recordWrite(cred, ep, created, res)
	if err := r.recordID(ctx, ep, created.ID); err != nil {
		// The pending annotation stays, so the next reconcile adopts it.
		return nil, err
	}
	r.event(ep, corev1.EventTypeNormal, "Created", "Create", "Created %s endpoint %s in KrosAI", created.Type, created.ID)
	return created, nil
}

// definitelyNotCreated reports errors after which the API cannot have stored
// the endpoint: it refused the request, or the request never left.
func definitelyNotCreated(err error) bool {
	switch krosai.KindOf(err) {
	case krosai.KindInvalid, krosai.KindUnauthorized, krosai.KindForbidden, krosai.KindRateLimited, krosai.KindTransient:
		return true
	}
	return false
}

// recoverCreate looks for the endpoint an interrupted create may have made.
// It returns the adopted endpoint, nil if there is none, or a stalledError
// when more than one could be ours.
func (r *KrosEndpointReconciler) recoverCreate(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, cred krosai.Credentials, sent pendingCreate,
) (*krosai.Endpoint, error) {
	all, err := r.observer.refresh(ctx, cred)
	if err != nil {
		return nil, fmt.Errorf("list endpoints to recover an interrupted create: %w", err)
	}
	var candidates []krosai.Endpoint
	for _, e := range all {
		if e.Name != sent.Name || e.Type != sent.Type || e.CreatedAt.Before(sent.At.Add(-createClockSkew)) {
			continue
		}
		owner, err := r.otherOwner(ctx, ep, e.ID)
		if err != nil {
			return nil, err
		}
		if owner == nil {
			candidates = append(candidates, e)
		}
	}
	switch len(candidates) {
	case 0:
		return nil, nil
	case 1:
		found := candidates[0]
		if err := r.recordID(ctx, ep, found.ID); err != nil {
			return nil, err
		}
		r.event(ep, corev1.EventTypeNormal, "Adopted", "Create",
			"Found endpoint %s made by an interrupted create and adopted it instead of creating another", found.ID)
		return &found, nil
	}
	ids := make([]string, 0, len(candidates))
	for _, c := range candidates {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return nil, &stalledError{reason: cockpitv1alpha1.ReasonAmbiguousCreate, message: fmt.Sprintf(
		"an interrupted create may have made any of %d endpoints named %q of type %s created since %s: %s; "+
			"set the annotation %s to the one this resource owns and delete the others in KrosAI",
		len(ids), sent.Name, sent.Type, sent.At.Format(time.RFC3339), strings.Join(ids, ", "),
		cockpitv1alpha1.AnnotationEndpointID)}
}

// pendingCreate is the create-pending record: when the POST was sent, and
// the name and type it carried.
type pendingCreate struct {
	At   time.Time `json:"at"`
	Name string    `json:"name"`
	Type string    `json:"type"`
}

func (p pendingCreate) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// parsePendingCreate reads the record. A bare timestamp (as a person might
// write, to ask for recovery) takes the name and type from the spec; an
// unreadable one matches any creation time.
func parsePendingCreate(value string, desired krosai.EndpointCreate) pendingCreate {
	var p pendingCreate
	if err := json.Unmarshal([]byte(value), &p); err == nil && p.Name != "" && p.Type != "" {
		return p
	}
	at, _ := time.Parse(time.RFC3339Nano, value)
	return pendingCreate{At: at, Name: desired.Name, Type: desired.Type}
}

// otherOwner returns the KrosEndpoint other than ep that owns the remote id,
// if any, so that an endpoint is never adopted or deleted by two resources.
//
// It scans the cache rather than keep an index by id: it runs only when
// adopting, recovering an interrupted create or deleting a never-adopted
// endpoint, while an index costs two map entries per resource for the
// manager's lifetime (about 7 MiB at 10,000 resources; docs/benchmarks.md).
func (r *KrosEndpointReconciler) otherOwner(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, id string,
) (*cockpitv1alpha1.KrosEndpoint, error) {
	var all cockpitv1alpha1.KrosEndpointList
	// Read-only use of the cached objects; a copy is returned.
	if err := r.List(ctx, &all, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	for i := range all.Items {
		owner := &all.Items[i]
		if owner.UID != ep.UID && owner.Annotations[cockpitv1alpha1.AnnotationEndpointID] == id {
			return owner.DeepCopy(), nil
		}
	}
	return nil, nil
}

// refuseOwnedByAnother returns a stalledError when another KrosEndpoint owns id.
func (r *KrosEndpointReconciler) refuseOwnedByAnother(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, id string) error {
	owner, err := r.otherOwner(ctx, ep, id)
	if err != nil || owner == nil {
		return err
	}
	return &stalledError{reason: cockpitv1alpha1.ReasonEndpointOwnedByAnother, message: fmt.Sprintf(
		"endpoint %q named by the annotation %s is owned by KrosEndpoint %s/%s; an endpoint has one owner",
		id, cockpitv1alpha1.AnnotationEndpointID, owner.Namespace, owner.Name)}
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
