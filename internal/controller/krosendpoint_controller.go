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
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// EndpointAPI is the part of the KrosAI client the reconciler uses.
type EndpointAPI interface {
	ListEndpoints(ctx context.Context, cred krosai.Credentials) ([]krosai.Endpoint, error)
	CreateEndpoint(ctx context.Context, cred krosai.Credentials, req krosai.EndpointCreate) (*krosai.Endpoint, error)
	GetEndpoint(ctx context.Context, cred krosai.Credentials, id string) (*krosai.Endpoint, error)
	UpdateEndpoint(ctx context.Context, cred krosai.Credentials, id string, req krosai.EndpointUpdate) (*krosai.Endpoint, error)
	DeleteEndpoint(ctx context.Context, cred krosai.Credentials, id string) error
}

// KrosEndpointReconciler keeps each KrosEndpoint's remote endpoint in KrosAI
// matching its spec.
type KrosEndpointReconciler struct {
	client.Client
	// APIReader reads the few Secrets whose values are needed; the manager
	// caches Secret metadata only.
	APIReader client.Reader
	API       EndpointAPI
	Recorder  events.EventRecorder
	// DefaultCredentials is the operator's credentials Secret, for
	// KrosEndpoints without spec.apiKeySecretRef.
	DefaultCredentials types.NamespacedName
	// SyncPeriod is how often each endpoint is re-observed to correct drift.
	SyncPeriod time.Duration

	observer    *observer
	secrets     *secretReader
	metrics     *metrics
	recreations recreationLimiter
	now         func() time.Time
}

// Every write is a patch. Secrets: metadata watch (list, watch) to find
// referrers, get for the few referenced, create and patch for the webhook
// signing Secret and the in-use finalizer; never delete. finalizers/update
// lets the signing Secret's owner reference block the owner's deletion.
// docs/security.md justifies each verb.
// +kubebuilder:rbac:groups=cockpit.krosai.com,resources=krosendpoints,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=cockpit.krosai.com,resources=krosendpoints/status,verbs=patch
// +kubebuilder:rbac:groups=cockpit.krosai.com,resources=krosendpoints/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one KrosEndpoint's remote endpoint in line with its spec.
func (r *KrosEndpointReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ep := &cockpitv1alpha1.KrosEndpoint{}
	if err := r.Get(ctx, req.NamespacedName, ep); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := ep.DeepCopy()
	defer func() {
		r.metrics.recordOutcome(ep, original)
		retErr = errors.Join(retErr, r.patchStatus(ctx, original, ep))
	}()

	if !ep.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, ep)
	}
	if ep.Annotations[cockpitv1alpha1.AnnotationPaused] == "true" {
		markPaused(ep)
		return ctrl.Result{}, nil
	}
	res, err := r.secrets.resolve(ctx, ep, r.DefaultCredentials, observeOnly(ep))
	if err != nil {
		return r.fail(ctx, ep, err)
	}
	if err := protectSecrets(ctx, r.Client, ep, r.DefaultCredentials); err != nil {
		return ctrl.Result{}, err
	}
	obs, err := r.sync(ctx, ep, res)
	if err != nil {
		return r.fail(ctx, ep, res.explain(err))
	}
	if err := r.report(ctx, ep, obs, res); err != nil {
		return r.fail(ctx, ep, err)
	}
	return ctrl.Result{RequeueAfter: r.nextSync()}, nil
}

// sync creates the remote endpoint or brings it in line, and returns it as
// the API last reported it.
func (r *KrosEndpointReconciler) sync(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved) (observation, error) {
	if observeOnly(ep) {
		return r.observeWithoutWriting(ctx, ep, res)
	}
	desired := mapping.Desired(ep, res.SIP)
	id, restored := mapping.EndpointID(ep)
	if restored {
		if err := r.recordID(ctx, ep, id); err != nil {
			return observation{}, err
		}
	}
	if id == "" {
		return r.createChecked(ctx, ep, res, desired)
	}
	adopting := ep.Status.ID != id && !r.wroteFor(ep, res.Credentials, id)
	if adopting {
		// Never an endpoint another resource claims, which would let anyone
		// who can read its status reroute (or delete) its calls.
		if err := r.refuseClaimedByAnother(ctx, ep, id); err != nil {
			return observation{}, err
		}
	}
	// Before any remote write (a create adds it with its create-pending record).
	if err := r.ensureFinalizer(ctx, ep); err != nil {
		return observation{}, err
	}
	asked := r.now()
	obs, err := r.observe(ctx, ep, res.Credentials, id, adopting)
	switch {
	case endpointGone(err) && adopting:
		return observation{}, mapping.AdoptionTargetNotFound(id, res.Credentials, false)
	case endpointGone(err):
		return r.recreate(ctx, ep, res, desired, id, asked)
	case err != nil:
		return observation{}, fmt.Errorf("observe endpoint %s: %w", id, err)
	}
	if adopting {
		r.event(ep, corev1.EventTypeNormal, "Adopted", "Adopt", "Adopted existing endpoint %s", id)
	}
	if _, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]; pending {
		// A user resolved an ambiguous create by naming the endpoint.
		if err := r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
			delete(obj.Annotations, cockpitv1alpha1.AnnotationCreatePending)
		}); err != nil {
			return observation{}, err
		}
	}
	updated, err := r.update(ctx, ep, res, desired, obs)
	if endpointGone(err) {
		// Deleted since the observation the PATCH was computed against.
		return r.recreate(ctx, ep, res, desired, id, asked)
	}
	return updated, err
}

// observeWithoutWriting reads the endpoint named by the id annotation and
// writes nothing to KrosAI: managementPolicy ObserveOnly.
func (r *KrosEndpointReconciler) observeWithoutWriting(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved) (observation, error) {
	id := mapping.ObservedID(ep)
	if id == "" {
		return observation{}, mapping.EndpointIDRequired()
	}
	adopting := ep.Status.ID != id
	if adopting {
		if err := r.refuseClaimedByAnother(ctx, ep, id); err != nil {
			return observation{}, err
		}
	}
	obs, err := r.observe(ctx, ep, res.Credentials, id, adopting)
	if endpointGone(err) {
		return observation{}, mapping.AdoptionTargetNotFound(id, res.Credentials, true)
	}
	return obs, err
}

// observeOnly reports managementPolicy ObserveOnly.
func observeOnly(ep *cockpitv1alpha1.KrosEndpoint) bool {
	return ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly
}

// wroteFor reports whether the latest thing known of endpoint id is our own
// write for ep: a reconcile that runs before the informer shows the status
// that write produced is not adopting anything.
func (r *KrosEndpointReconciler) wroteFor(ep *cockpitv1alpha1.KrosEndpoint, cred krosai.Credentials, id string) bool {
	obs, ok := r.observer.peek(cred, id)
	return ok && obs.writtenFor == ep.UID
}

// createChecked creates the endpoint, then checks it like any other
// observation: the create request cannot say everything (status is
// PATCH-only), so a disabled endpoint is PATCHed inactive at once.
func (r *KrosEndpointReconciler) createChecked(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved, desired krosai.EndpointCreate,
) (observation, error) {
	created, err := r.create(ctx, ep, res, desired)
	if err != nil {
		return observation{}, err
	}
	return r.update(ctx, ep, res, desired, created)
}

// recreate creates the endpoint again once KrosAI has said twice that it is
// gone: its own GET answered 404, and a list sent after that GET lacks it
// too. Two reads that disagree are an API failure, not a deletion; and an
// endpoint is re-created at most maxRecreations times an hour, so that an
// API that keeps misreporting deletions costs calls, not a pile of
// duplicates.
func (r *KrosEndpointReconciler) recreate(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved, desired krosai.EndpointCreate, id string, asked time.Time,
) (observation, error) {
	all, err := r.observer.refresh(ctx, res.Credentials, asked)
	if err != nil {
		return observation{}, err
	}
	if slices.ContainsFunc(all, func(e krosai.Endpoint) bool { return e.ID == id }) {
		return observation{}, fmt.Errorf("KrosAI answers 404 for endpoint %s but still lists it; "+
			"it is not created again until the two agree", id)
	}
	if !r.recreations.allow(ep.UID, r.now(), reconcileRequested(ep)) {
		return observation{}, &mapping.Stalled{Reason: cockpitv1alpha1.ReasonRecreateLimitReached, Message: fmt.Sprintf(
			"endpoint %s was deleted outside Kubernetes and created again %d times within an hour; the operator stops "+
				"re-creating it in case KrosAI misreports deletions: check the organization in the KrosAI dashboard, "+
				"then set the annotation %s to re-create it once more", id, maxRecreations,
			cockpitv1alpha1.AnnotationReconcileRequestedAt)}
	}
	r.event(ep, corev1.EventTypeWarning, "Recreating", "Create",
		"Endpoint %s was deleted outside Kubernetes; creating it again", id)
	r.metrics.recreations.WithLabelValues(ep.Namespace).Inc()
	return r.createChecked(ctx, ep, res, desired)
}

// update PATCHes what differs between the desired and the observed endpoint,
// and nothing when nothing does. The observation may be the organization's
// shared list: one call per edit. If the answer still differs from the spec
// (KrosAI changed since that observation), the endpoint is read with its own
// GET and corrected once more.
func (r *KrosEndpointReconciler) update(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved, desired krosai.EndpointCreate, obs observation,
) (observation, error) {
	updated, differs, err := r.patch(ctx, ep, res, desired, obs)
	if err != nil || !differs {
		return updated, err
	}
	e, err := r.API.GetEndpoint(ctx, res.Credentials, obs.endpoint.ID)
	if err != nil {
		return observation{}, fmt.Errorf("read endpoint %s again: %w", obs.endpoint.ID, err)
	}
	updated, _, err = r.patch(ctx, ep, res, desired, r.observer.remember(res.Credentials, *e))
	return updated, err
}

// patch sends the PATCH that corrects what obs differs in from the spec, if
// anything, and reports whether KrosAI's answer still differs.
func (r *KrosEndpointReconciler) patch(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved, desired krosai.EndpointCreate, obs observation,
) (observation, bool, error) {
	id, wantStatus := obs.endpoint.ID, mapping.DesiredStatus(ep)
	diffs := mapping.Diff(ep, desired, wantStatus, &obs.endpoint, !r.credentialsChanged(ep, res, obs))
	if len(diffs) == 0 {
		return obs, false, nil
	}
	updated, err := r.API.UpdateEndpoint(ctx, res.Credentials, id, *mapping.Patch(desired, wantStatus, diffs))
	if err != nil {
		return observation{}, false, fmt.Errorf("update endpoint %s: %w", id, err)
	}
	if ep.Status.ObservedGeneration == ep.Generation {
		r.metrics.driftCorrections.WithLabelValues(ep.Namespace).Inc()
		r.event(ep, corev1.EventTypeNormal, "DriftCorrected", "Update",
			"Corrected endpoint %s, changed outside Kubernetes: %s", id, mapping.FieldNames(diffs))
	} else {
		r.event(ep, corev1.EventTypeNormal, "Updated", "Update", "Updated endpoint %s: %s", id, mapping.FieldNames(diffs))
	}
	obs = r.recordWrite(res.Credentials, ep, updated, res)
	return obs, len(mapping.Diff(ep, desired, wantStatus, &obs.endpoint, true)) > 0, nil
}

// observe reads the endpoint as KrosAI holds it now, as cheaply as the
// freshness rule of docs/reliability.md allows:
//
//   - from the organization's shared list, refreshed once per sync period,
//     or the echo of our own write, which stands in for the list entry until
//     the next list replaces it; if the resource is not Ready, only an
//     observation made after it stopped being Ready will do (so unpausing,
//     or leaving an error, never reports Ready from what was seen before). A
//     spec edit is computed against it too, and update checks the answer;
//   - otherwise with its own GET: adopting, a requested reconcile, or an
//     endpoint the list lacks. Only a 404 naming the endpoint says it is gone
//     (endpointGone); a failed list says nothing of any.
func (r *KrosEndpointReconciler) observe(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, cred krosai.Credentials, id string, adopting bool,
) (observation, error) {
	if !adopting && !reconcileRequested(ep) {
		obs, found, err := r.observer.lookup(ctx, cred, id)
		if err != nil {
			return observation{}, err
		}
		if found && observedSinceNotReady(ep, obs.at) {
			return obs, nil
		}
	}
	e, err := r.API.GetEndpoint(ctx, cred, id)
	if err != nil {
		return observation{}, err
	}
	return r.observer.remember(cred, *e), nil
}

// recordWrite remembers the response to our own write as the observation.
func (r *KrosEndpointReconciler) recordWrite(
	cred krosai.Credentials, ep *cockpitv1alpha1.KrosEndpoint, e *krosai.Endpoint, res *resolved,
) observation {
	obs := observation{endpoint: *e, at: r.now(), writtenFor: ep.UID, generation: ep.Generation,
		credentials: res.credentialsDigest()}
	r.observer.record(cred, obs)
	return obs
}

// report writes what the API returned to status, and the webhook signing
// secret to its Secret.
func (r *KrosEndpointReconciler) report(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, obs observation, res *resolved) error {
	remote := &obs.endpoint
	st := &ep.Status
	st.ID = remote.ID
	st.URL = remote.URL
	st.SIPURI = ""
	if remote.Type != krosai.TypeWebhook {
		st.SIPURI = remote.URL
	}
	st.State = cockpitv1alpha1.EndpointState(remote.Status)
	st.OrganizationID = remote.OrganizationID
	st.LastObservedTime = &metav1.Time{Time: obs.at}
	st.LastHandledReconcileAt = ep.Annotations[cockpitv1alpha1.AnnotationReconcileRequestedAt]
	// Under ObserveOnly nothing is pushed, so nothing is recorded as pushed:
	// switching to Full then pushes the SIP credentials.
	credentialsKnown := !observeOnly(ep) && !r.credentialsChanged(ep, res, obs)
	drift := mapping.Diff(ep, mapping.Desired(ep, res.SIP), mapping.DesiredStatus(ep), remote, credentialsKnown)
	markSynced(ep, mapping.Drift(drift))
	if !observeOnly(ep) {
		st.SecretResourceVersions = res.Versions
		if ep.Spec.Type == cockpitv1alpha1.EndpointTypeWebhook {
			if err := r.writeSigningSecret(ctx, ep, remote.Secret); err != nil {
				return err
			}
		}
	}
	switch {
	case remote.Status == krosai.StatusError:
		markRemoteError(ep, remote.ID, r.SyncPeriod, r.now())
	case observeOnly(ep):
		markReady(ep, fmt.Sprintf("endpoint %s is %s; observed only (managementPolicy ObserveOnly): %s",
			remote.ID, remote.Status, syncedMessage(ep)))
	default:
		markReady(ep, fmt.Sprintf("endpoint %s is %s and matches the spec", remote.ID, remote.Status))
	}
	return nil
}

// finalize handles the remote endpoint per deletionPolicy, then lets the
// resource go. The in-use finalizers on its Secrets are released by the
// SecretReleaseReconciler once the resource is gone.
func (r *KrosEndpointReconciler) finalize(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(ep, cockpitv1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	if ep.Annotations[cockpitv1alpha1.AnnotationPaused] == "true" {
		markPaused(ep)
		return ctrl.Result{}, nil
	}
	message := "the resource is being deleted; deletionPolicy is " + string(ep.Spec.DeletionPolicy)
	if observeOnly(ep) {
		message = "the resource is being deleted; managementPolicy ObserveOnly leaves the endpoint in KrosAI " +
			"whatever deletionPolicy says"
	}
	markReconciling(ep, cockpitv1alpha1.ReasonDeleting, message)
	if err := r.deleteRemote(ctx, ep); err != nil {
		return r.fail(ctx, ep, err)
	}
	return ctrl.Result{}, r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
		controllerutil.RemoveFinalizer(obj, cockpitv1alpha1.Finalizer)
	})
}

func (r *KrosEndpointReconciler) deleteRemote(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint) error {
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	_, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]
	if observeOnly(ep) {
		return nil // observed, never owned
	}
	if ep.Spec.DeletionPolicy == cockpitv1alpha1.DeletionPolicyOrphan {
		if id != "" {
			r.event(ep, corev1.EventTypeNormal, "Orphaned", "Delete", "Left endpoint %s in KrosAI (deletionPolicy: Orphan)", id)
		}
		return nil
	}
	if id == "" && !pending {
		return nil // nothing was ever created
	}
	res, err := r.secrets.resolve(ctx, ep, r.DefaultCredentials, true)
	if err != nil {
		return withDeletionHint(err)
	}
	if err := r.deleteFrom(ctx, ep, res, id); err != nil {
		return withDeletionHint(res.explain(err))
	}
	return nil
}

// deleteFrom deletes the endpoint id, or the one an interrupted create made.
func (r *KrosEndpointReconciler) deleteFrom(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, res *resolved, id string) error {
	if id != "" && ep.Status.ID != id {
		// Never adopted: delete nothing another resource claims.
		if owner, err := r.claimant(ctx, ep, id); err != nil || owner != nil {
			return err
		}
	}
	if id == "" {
		// A create was interrupted: find what it made, so nothing is left behind.
		sent := mapping.ParsePendingCreate(ep.Annotations[cockpitv1alpha1.AnnotationCreatePending], mapping.Desired(ep, res.SIP))
		found, err := r.recoverCreate(ctx, ep, res.Credentials, sent)
		if err != nil || found == nil {
			return err
		}
		id = found.ID
	}
	if err := r.API.DeleteEndpoint(ctx, res.Credentials, id); err != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	r.observer.forget(res.Credentials, id)
	r.event(ep, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted endpoint %s from KrosAI", id)
	return nil
}

// fail records err in status and says when to try again: never for errors
// that need a person (they wait for a change to the spec or a Secret), at
// the API's request for 429s, and with backoff for everything else.
func (r *KrosEndpointReconciler) fail(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, err error) (ctrl.Result, error) {
	if apierrors.IsConflict(err) {
		// Our cached copy was stale; the next reconcile reads a fresh one.
		return ctrl.Result{Requeue: true}, nil //nolint:staticcheck // an immediate, rate-limited retry is meant
	}
	class, reason := classify(err)
	r.metrics.reconcileErrors.WithLabelValues(class).Inc()
	message := err.Error()
	switch stalled, ok := errors.AsType[*mapping.Stalled](err); {
	case ok:
		message = stalled.Message
	case reason == cockpitv1alpha1.ReasonUnauthorized || reason == cockpitv1alpha1.ReasonForbidden:
		key := mapping.SecretRefs(ep, r.DefaultCredentials)[0]
		message = fmt.Sprintf("%s; check the %s in Secret %s (%s)", message, cockpitv1alpha1.SecretKeyAPIKey, key.Key, key.Field)
	}
	switch class {
	case classStalled:
		logf.FromContext(ctx).Info("stalled until the spec or a Secret changes", "reason", reason, "message", message)
		markStalled(ep, reason, message)
		r.event(ep, corev1.EventTypeWarning, reason, "Reconcile", "%s", message)
		return ctrl.Result{}, nil
	case classRateLimited:
		wait, _ := krosai.RetryAfterOf(err)
		message = fmt.Sprintf("KrosAI rate limit reached; retrying in %s", wait.Round(time.Millisecond))
		markReconciling(ep, reason, message)
		r.event(ep, corev1.EventTypeWarning, reason, "Reconcile", "%s", message)
		return ctrl.Result{RequeueAfter: wait}, nil
	default:
		markReconciling(ep, reason, message)
		r.event(ep, corev1.EventTypeWarning, reason, "Reconcile", "%s", message)
		logf.FromContext(ctx).Info("retrying after error", "class", class, "error", message)
		return ctrl.Result{}, err
	}
}

func (r *KrosEndpointReconciler) ensureFinalizer(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint) error {
	if controllerutil.ContainsFinalizer(ep, cockpitv1alpha1.Finalizer) {
		return nil
	}
	return r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
		controllerutil.AddFinalizer(obj, cockpitv1alpha1.Finalizer)
	})
}

// patchMetadata applies mutate to ep's metadata on the server at once. With
// optimistic it fails with a conflict if ep is not the latest version. The
// in-memory status is kept: it is written once, by the deferred patchStatus.
func (r *KrosEndpointReconciler) patchMetadata(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, optimistic bool, mutate func(*cockpitv1alpha1.KrosEndpoint),
) error {
	obj := ep.DeepCopy()
	patch := client.MergeFrom(obj.DeepCopy())
	if optimistic {
		patch = client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
	}
	mutate(obj)
	if err := r.Patch(ctx, obj, patch); err != nil {
		return err
	}
	ep.ObjectMeta = obj.ObjectMeta
	return nil
}

// patchStatus writes the status once per reconcile, and only if it changed.
func (r *KrosEndpointReconciler) patchStatus(ctx context.Context, original, ep *cockpitv1alpha1.KrosEndpoint) error {
	if equality.Semantic.DeepEqual(original.Status, ep.Status) {
		return nil
	}
	err := r.Status().Patch(ctx, ep, client.MergeFrom(original))
	return client.IgnoreNotFound(err)
}

func (r *KrosEndpointReconciler) nextSync() time.Duration {
	return r.SyncPeriod + time.Duration(rand.Int64N(int64(r.SyncPeriod)/10+1))
}

func (r *KrosEndpointReconciler) event(ep *cockpitv1alpha1.KrosEndpoint, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(ep, nil, eventType, reason, action, note, args...)
	}
}

// reconcileRequested reports a new value of the reconcile-requested-at annotation.
func reconcileRequested(ep *cockpitv1alpha1.KrosEndpoint) bool {
	v := ep.Annotations[cockpitv1alpha1.AnnotationReconcileRequestedAt]
	return v != "" && v != ep.Status.LastHandledReconcileAt
}
