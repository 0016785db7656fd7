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
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/decide"
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
// matching its spec. Each reconcile reads the facts a decision needs
// (facts.go), lets decide.Next make it, and carries it out here.
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
	// SyncPeriod is how often each endpoint is read again to correct drift.
	SyncPeriod time.Duration

	// everyShard reads every shard's KrosEndpoints, uncached, when the cache
	// holds this shard's only (Options.WatchLabelSelector); nil otherwise.
	everyShard client.Reader

	// dailyQuota is the API keys' daily quota for credentials that do not
	// say theirs (Options.DailyQuota).
	dailyQuota int

	remote      *remoteView
	secrets     *secretReader
	metrics     *metrics
	recreations recreationLimiter
	// wakeups are the reads KrosAI's events asked for (events.go).
	wakeups *wakeups
	now     func() time.Time
	// started is when this process started reconciling: what it has not
	// read since then, it cannot say it read.
	started time.Time
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
// +kubebuilder:rbac:groups=cockpit.krosai.com,resources=krosgrants,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile brings one KrosEndpoint's remote endpoint in line with its spec:
// read, decide, act.
func (r *KrosEndpointReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	ep := &cockpitv1alpha1.KrosEndpoint{}
	if err := r.Get(ctx, req.NamespacedName, ep); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forget(req.NamespacedName)
			r.wakeups.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := ep.DeepCopy()
	s := r.newScope(ep)
	defer func() {
		r.metrics.recordOutcome(ep, original)
		retErr = errors.Join(retErr, r.patchStatus(ctx, original, ep))
		r.metrics.recordEventAnswered(s.answered, retErr, r.now())
	}()

	d, err := r.decide(ctx, s)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	return r.act(ctx, s, d)
}

// scope is one reconcile's state: the resource, the facts read for it, and
// what carrying out the decision needs beyond them.
type scope struct {
	ep    *cockpitv1alpha1.KrosEndpoint
	facts decide.Facts
	// remote is the endpoint as last read, with when and by whose write
	// (facts.Remote is what the decision sees of it).
	remote reading
	// asked is when the endpoint was last asked for: only a list sent after
	// it confirms a deletion.
	asked time.Time
	// created is set once a create was sent: a second one in the same
	// reconcile is never right.
	created bool
	// began is when the reconcile began: a reading made since is as fresh
	// as a PATCH needs.
	began time.Time
	// answered is the first KrosAI event delivery this reconcile's read of
	// the endpoint answered; zero if none.
	answered time.Time
}

func (r *KrosEndpointReconciler) newScope(ep *cockpitv1alpha1.KrosEndpoint) *scope {
	s := &scope{ep: ep, facts: decide.Facts{Resource: ep}, began: r.now()}
	s.facts.Operator.RecreationLimitReached = r.recreations.reached(ep.UID, r.now())
	return s
}

// act carries out d.
func (r *KrosEndpointReconciler) act(ctx context.Context, s *scope, d decide.Decision) (ctrl.Result, error) {
	switch {
	case d.Action == decide.ActionStall || d.Action == decide.ActionRetry:
		return r.reportFailure(ctx, s.ep, d)
	case d.Why == decide.WhyReadFailed:
		return r.readLater(ctx, d), nil
	case d.Why == decide.WhyPaused:
		markPaused(s.ep)
		return ctrl.Result{}, nil
	case !s.ep.DeletionTimestamp.IsZero():
		return r.finalize(ctx, s, d)
	}
	d, err := r.sync(ctx, s, d)
	switch {
	case err != nil:
		return r.fail(ctx, s, err)
	case d.Action == decide.ActionStall || d.Action == decide.ActionRetry:
		return r.reportFailure(ctx, s.ep, d)
	}
	if err := r.report(ctx, s, d); err != nil {
		return r.fail(ctx, s, err)
	}
	return ctrl.Result{RequeueAfter: r.nextSync()}, nil
}

// sync carries out a decision that creates, takes over or corrects the
// endpoint, then decides again on what KrosAI answered, until nothing is
// left to write. A PATCH is computed against the organization's shared
// list, which may be a sync period old, and then carries every field the
// spec sets: one call per edit, whatever changed at KrosAI since. If
// KrosAI's answer still differs from the spec, the endpoint is read with its
// own GET and corrected once more; what differs after that is reported as
// drift. It returns the last decision, whose Diffs are that drift.
func (r *KrosEndpointReconciler) sync(ctx context.Context, s *scope, d decide.Decision) (decide.Decision, error) {
	if err := r.takeOver(ctx, s, d); err != nil {
		return d, err
	}
	patches, readAgain := 0, false
	for {
		var err error
		switch d.Action {
		case decide.ActionCreate, decide.ActionRecreate:
			err = r.create(ctx, s, d)
		case decide.ActionRecover:
			if err = r.recordRecovered(ctx, s, d.Endpoint); err == nil {
				s.setRemote(r.remote.remember(s.facts.Secrets.Credentials, d.Endpoint))
			}
		case decide.ActionAdopt, decide.ActionUpdate:
			switch {
			case len(d.Diffs) == 0 || patches == 2:
				return d, nil
			case patches == 1 && !readAgain:
				readAgain = true
				err = r.readAgain(ctx, s)
			default:
				patches++
				err = r.patch(ctx, s, d)
			}
		default:
			return d, nil
		}
		if err != nil {
			return d, err
		}
		if d, err = r.decide(ctx, s); err != nil {
			return d, err
		}
	}
}

// takeOver records, before any write, what a decision about an existing
// endpoint under managementPolicy Full needs recorded: the id annotation
// restored, the finalizer that makes deleting the resource delete the
// endpoint, and a create-pending record a person resolved by naming the
// endpoint dropped.
func (r *KrosEndpointReconciler) takeOver(ctx context.Context, s *scope, d decide.Decision) error {
	ep := s.ep
	if d.RestoreID {
		if err := r.recordID(ctx, ep, d.EndpointID); err != nil {
			return err
		}
	}
	switch d.Action {
	case decide.ActionAdopt, decide.ActionUpdate, decide.ActionNone:
	default:
		return nil
	}
	if observeOnly(ep) {
		return nil
	}
	if err := r.ensureFinalizer(ctx, ep); err != nil {
		return err
	}
	if d.Action == decide.ActionAdopt {
		r.event(ep, corev1.EventTypeNormal, "Adopted", "Adopt", "Adopted existing endpoint %s", d.EndpointID)
	}
	if !d.DropPendingRecord {
		return nil
	}
	return r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
		delete(obj.Annotations, cockpitv1alpha1.AnnotationCreatePending)
	})
}

// patch sends the PATCH that corrects d.Diffs. Diffs found in a reading made
// before this reconcile (the shared list) may miss what changed at KrosAI
// since: the PATCH then carries every field the spec sets, so that its
// answer matches the spec in one call. A 404 makes the endpoint gone, for
// the next decision; after a create in this reconcile it is an error
// instead, never a second create.
func (r *KrosEndpointReconciler) patch(ctx context.Context, s *scope, d decide.Decision) error {
	ep, res := s.ep, s.facts.Secrets
	desired, wantStatus := mapping.Desired(ep, res.SIP), mapping.DesiredStatus(ep)
	update := mapping.Patch(desired, wantStatus, d.Diffs)
	if s.remote.at.Before(s.began) {
		update = mapping.WholePatch(desired, wantStatus, d.Diffs, &s.remote.endpoint)
	}
	updated, err := r.API.UpdateEndpoint(ctx, res.Credentials, d.EndpointID, *update)
	if err != nil {
		if decide.EndpointGone(err) && !s.created {
			s.facts.Remote, s.facts.Listing = decide.LookupOf(nil, err), decide.Listing{}
			return nil
		}
		return fmt.Errorf("update endpoint %s: %w", d.EndpointID, err)
	}
	if ep.Status.ObservedGeneration == ep.Generation {
		r.metrics.driftCorrections.WithLabelValues(ep.Namespace).Inc()
		r.event(ep, corev1.EventTypeNormal, "DriftCorrected", "Update",
			"Corrected endpoint %s, changed outside Kubernetes: %s", d.EndpointID, mapping.FieldNames(d.Diffs))
	} else {
		r.event(ep, corev1.EventTypeNormal, "Updated", "Update", "Updated endpoint %s: %s", d.EndpointID, mapping.FieldNames(d.Diffs))
	}
	s.setRemote(r.recordWrite(s, updated))
	return nil
}

// readAgain reads the endpoint with its own GET, after a PATCH whose answer
// showed KrosAI had changed since the list it was computed against.
func (r *KrosEndpointReconciler) readAgain(ctx context.Context, s *scope) error {
	id, cred := s.remote.endpoint.ID, s.facts.Secrets.Credentials
	e, err := r.API.GetEndpoint(ctx, cred, id)
	if err != nil {
		return fmt.Errorf("read endpoint %s again: %w", id, err)
	}
	s.setRemote(r.remote.remember(cred, *e))
	return nil
}

// recordWrite remembers the answer to our own write as the latest reading
// of the endpoint, with the SIP login it carried.
func (r *KrosEndpointReconciler) recordWrite(s *scope, e *krosai.Endpoint) reading {
	rd := reading{endpoint: *e, at: r.now(), writtenFor: s.ep.UID, sipLogin: sipLoginDigest(s.facts.Secrets.SIP)}
	r.remote.record(s.facts.Secrets.Credentials, rd)
	return rd
}

// report writes what KrosAI holds to status, with the drift d names, and
// the webhook signing secret to its Secret.
func (r *KrosEndpointReconciler) report(ctx context.Context, s *scope, d decide.Decision) error {
	ep, remote := s.ep, &s.remote.endpoint
	st := &ep.Status
	st.ID = remote.ID
	st.URL = remote.URL
	st.SIPURI = ""
	if remote.Type != krosai.TypeWebhook {
		st.SIPURI = remote.URL
	}
	st.State = cockpitv1alpha1.EndpointState(remote.Status)
	st.OrganizationID = remote.OrganizationID
	st.LastHandledReconcileAt = ep.Annotations[cockpitv1alpha1.AnnotationReconcileRequestedAt]
	markSynced(ep, mapping.Drift(d.Diffs))
	if !observeOnly(ep) {
		// Under ObserveOnly nothing is pushed, so nothing is recorded as
		// pushed: switching to Full then pushes the SIP login.
		st.SecretResourceVersions = s.facts.Secrets.Versions
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
		markReady(ep, fmt.Sprintf("endpoint %s is %s; observed only (managementPolicy ObserveOnly): %s%s",
			remote.ID, remote.Status, syncedMessage(ep), r.stretched(s.facts.Secrets.Credentials)))
	default:
		markReady(ep, fmt.Sprintf("endpoint %s is %s and matches the spec%s", remote.ID, remote.Status,
			r.stretched(s.facts.Secrets.Credentials)))
	}
	return nil
}

// stretched says, for the Ready message, that the organization is read less
// often than the sync period to keep within the key's daily quota. Rounded
// to the minute, so that the message, and status, move only when the
// period does by that much.
func (r *KrosEndpointReconciler) stretched(cred krosai.Credentials) string {
	period := r.remote.period(cred).Round(time.Minute)
	if period <= r.SyncPeriod {
		return ""
	}
	return fmt.Sprintf("; KrosAI is read every %s instead of every %s (the sync period), to keep within %.0f%% of "+
		"the API key's daily request quota", period, r.SyncPeriod, 100*r.remote.observationShare)
}

// finalize carries out what d decided for the endpoint of a resource being
// deleted, then lets the resource go. The in-use finalizers on its Secrets
// are released by the SecretReleaseReconciler once the resource is gone.
func (r *KrosEndpointReconciler) finalize(ctx context.Context, s *scope, d decide.Decision) (ctrl.Result, error) {
	ep := s.ep
	if !d.Release {
		return ctrl.Result{}, nil
	}
	message := "the resource is being deleted; deletionPolicy is " + string(ep.Spec.DeletionPolicy)
	if observeOnly(ep) {
		message = "the resource is being deleted; managementPolicy ObserveOnly leaves the endpoint in KrosAI " +
			"whatever deletionPolicy says"
	}
	markReconciling(ep, cockpitv1alpha1.ReasonDeleting, message)
	switch d.Action {
	case decide.ActionOrphan:
		if d.Why == decide.WhyDeletionPolicy && d.EndpointID != "" {
			r.event(ep, corev1.EventTypeNormal, "Orphaned", "Delete", "Left endpoint %s in KrosAI (deletionPolicy: Orphan)", d.EndpointID)
		}
	case decide.ActionDelete:
		if d.Why == decide.WhyInterruptedCreate {
			if err := r.recordRecovered(ctx, s, d.Endpoint); err != nil {
				return r.fail(ctx, s, err)
			}
		}
		cred := s.facts.Secrets.Credentials
		if err := r.API.DeleteEndpoint(ctx, cred, d.EndpointID); err != nil {
			return r.fail(ctx, s, fmt.Errorf("delete endpoint %s: %w", d.EndpointID, err))
		}
		r.remote.forget(cred, d.EndpointID)
		r.event(ep, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted endpoint %s from KrosAI", d.EndpointID)
	}
	return ctrl.Result{}, r.patchMetadata(ctx, ep, false, func(obj *cockpitv1alpha1.KrosEndpoint) {
		controllerutil.RemoveFinalizer(obj, cockpitv1alpha1.Finalizer)
	})
}

// fail reports err, met while reading or acting, as decide.Fail judges it.
func (r *KrosEndpointReconciler) fail(ctx context.Context, s *scope, err error) (ctrl.Result, error) {
	if apierrors.IsConflict(err) {
		// Our cached copy was stale; the next reconcile reads a fresh one.
		return ctrl.Result{Requeue: true}, nil //nolint:staticcheck // an immediate, rate-limited retry is meant
	}
	return r.reportFailure(ctx, s.ep, decide.Fail(s.facts, err))
}

// reportFailure records a stall or a retry in status and says when to try
// again: never for a stall (it waits for a change to the spec or a Secret),
// when the API or the client says (a 429's wait, a spent daily quota's
// reset, an outage's next probe), and with backoff for everything else.
func (r *KrosEndpointReconciler) reportFailure(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, d decide.Decision) (ctrl.Result, error) {
	f := d.Failure
	r.metrics.reconcileErrors.WithLabelValues(string(f.Class)).Inc()
	r.event(ep, corev1.EventTypeWarning, f.Reason, "Reconcile", "%s", f.Message)
	switch {
	case f.Class == decide.ClassStalled:
		logf.FromContext(ctx).Info("stalled until the spec or a Secret changes", "reason", f.Reason, "message", f.Message)
		markStalled(ep, f.Reason, f.Message)
		return ctrl.Result{}, nil
	case f.Class == decide.ClassRateLimited || !f.RetryAt.IsZero():
		// A key paused, or an organization KrosAI fails for: come back
		// when the pause ends or with the next probe, not at this
		// resource's own backoff, so that every resource of the key or
		// organization resumes within one step of it.
		markReconciling(ep, f.Reason, f.Message)
		return ctrl.Result{RequeueAfter: r.retryDelay(f)}, nil
	default:
		markReconciling(ep, f.Reason, f.Message)
		logf.FromContext(ctx).Info("retrying after error", "class", f.Class, "error", f.Message)
		return ctrl.Result{}, f.Err
	}
}

// readLater schedules the next read of a resource whose status stays as it
// is (decide.WhyReadFailed): no status, no Event, one log line at V(1).
func (r *KrosEndpointReconciler) readLater(ctx context.Context, d decide.Decision) ctrl.Result {
	f := d.Failure
	r.metrics.reconcileErrors.WithLabelValues(string(f.Class)).Inc()
	logf.FromContext(ctx).V(1).Info("KrosAI could not be read; status is kept, as read within the freshness bound",
		"reason", f.Reason, "message", f.Message)
	return ctrl.Result{RequeueAfter: r.retryDelay(f)}
}

// retryDelay is when to try a failure again without the workqueue's
// backoff: when the API or the client said (the end of a pause, the next
// probe), else a tenth of the sync period; jittered by up to a second, or a
// twentieth, so that the resources of one organization do not come back at
// once.
func (r *KrosEndpointReconciler) retryDelay(f *decide.Failure) time.Duration {
	var wait time.Duration
	switch {
	case !f.RetryAt.IsZero():
		wait = max(f.RetryAt.Sub(r.now()), 0)
	case f.RetryAfter > 0:
		wait = f.RetryAfter
	default:
		wait = r.SyncPeriod / 10
	}
	return wait + time.Duration(rand.Int64N(int64(max(time.Second, wait/20))))
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

// observeOnly reports managementPolicy ObserveOnly.
func observeOnly(ep *cockpitv1alpha1.KrosEndpoint) bool {
	return ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly
}
