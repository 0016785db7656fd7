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

package decide

import (
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/internal/tenancy"
)

// Action is what to do next.
type Action string

// The actions. Each writes to KrosAI exactly what its doc says, and nothing
// else; the controller's agreement spec holds it to that.
const (
	// ActionNone writes nothing to KrosAI.
	ActionNone Action = "none"
	// ActionCreate POSTs the endpoint, crash-safe, then PATCHes what the
	// create cannot carry (the status of a disabled endpoint).
	ActionCreate Action = "create"
	// ActionRecover takes over the endpoint an interrupted create made
	// (Decision.Endpoint), then PATCHes Diffs.
	ActionRecover Action = "recover"
	// ActionAdopt takes over the existing endpoint the resource names, then
	// PATCHes Diffs.
	ActionAdopt Action = "adopt"
	// ActionUpdate PATCHes Diffs.
	ActionUpdate Action = "update"
	// ActionRecreate creates again an endpoint KrosAI confirmed deleted.
	ActionRecreate Action = "recreate"
	// ActionDelete DELETEs the endpoint and lets the resource go.
	ActionDelete Action = "delete"
	// ActionOrphan leaves the endpoint in KrosAI and lets the resource go.
	ActionOrphan Action = "orphan"
	// ActionStall stops until a person changes the spec, a Secret or
	// KrosAI: Decision.Failure says why.
	ActionStall Action = "stall"
	// ActionRetry tries again later: Decision.Failure says why and when.
	ActionRetry Action = "retry"
	// ActionRead reads Decision.Read first, then decides again.
	ActionRead Action = "read"
)

// Why says why a decision is what it is, where its Action alone does not.
type Why string

// The reasons behind a none, an orphan, a recover or a delete.
const (
	// WhyInSync: the endpoint matches the spec.
	WhyInSync Why = "InSync"
	// WhyRemoteError: the endpoint matches the spec, but KrosAI reports it
	// in state error.
	WhyRemoteError Why = "RemoteError"
	// WhyObserveOnly: managementPolicy ObserveOnly writes nothing, and
	// leaves the endpoint behind on deletion; Diffs is the drift.
	WhyObserveOnly Why = "ObserveOnly"
	// WhyPaused: the paused annotation stops every API call.
	WhyPaused Why = "Paused"
	// WhyNoFinalizer: being deleted, and the operator's finalizer is gone.
	WhyNoFinalizer Why = "NoFinalizer"
	// WhyNothingCreated: being deleted, and no endpoint was ever created.
	WhyNothingCreated Why = "NothingCreated"
	// WhyCreateMadeNothing: being deleted, and its interrupted create made
	// no endpoint.
	WhyCreateMadeNothing Why = "CreateMadeNothing"
	// WhyDeletionPolicy: deletionPolicy Orphan.
	WhyDeletionPolicy Why = "DeletionPolicyOrphan"
	// WhyClaimedByAnother: never adopted and claimed by another resource:
	// the operator deletes nothing it does not own.
	WhyClaimedByAnother Why = "ClaimedByAnother"
	// WhyInterruptedCreate: the endpoint is the one an interrupted create
	// made; the executor records its id before it acts.
	WhyInterruptedCreate Why = "InterruptedCreate"
	// WhyDeleted: being deleted, and the operator deleted the endpoint
	// already; only the finalizer is left to remove.
	WhyDeleted Why = "Deleted"
	// WhyNotGranted: being deleted, never took over its endpoint, and its
	// namespace may not: the operator deletes nothing a tenant was not
	// granted.
	WhyNotGranted Why = "NotGranted"
	// WhyReadFailed: KrosAI could not be read, but the resource was Ready
	// and read within the freshness bound: its status is still true as of
	// that read, so nothing is written; Failure says when to try again.
	WhyReadFailed Why = "ReadFailed"
)

// Fact names a fact to read.
type Fact string

// The facts Next can ask for.
const (
	FactAccess        Fact = "Access"
	FactSecrets       Fact = "Secrets"
	FactRemote        Fact = "Remote"
	FactClaims        Fact = "Claims"
	FactListing       Fact = "Listing"
	FactSigningSecret Fact = "SigningSecret"
)

// Read is a fact to read before deciding again.
type Read struct {
	Fact Fact
	// APIKeyOnly: of the Secrets, read only the API key's; ObserveOnly and
	// a deletion push no SIP login.
	APIKeyOnly bool
	// EndpointID is the endpoint to read, for FactRemote.
	EndpointID string
	// ByID: read the endpoint by its own GET, not from the organization's
	// shared list: an adoption, or a sync a person asked for.
	ByID bool
}

// Decision is what to do next for one KrosEndpoint.
type Decision struct {
	Action Action
	Why    Why
	// EndpointID is the endpoint acted on, when there is one.
	EndpointID string
	// Endpoint is the endpoint an interrupted create made, for ActionRecover
	// and a delete WhyInterruptedCreate.
	Endpoint krosai.Endpoint
	// Diffs are, for create and recreate, every field the create sets (and
	// the status PATCHed after it); for recover, adopt and update, what the
	// PATCH corrects; for none under ObserveOnly, the drift.
	Diffs []mapping.FieldDiff
	// RestoreID: the id annotation was lost and status still names the
	// endpoint: write the annotation back before acting, rather than create
	// a second endpoint.
	RestoreID bool
	// DropPendingRecord: a person resolved an ambiguous create by naming the
	// endpoint; the create-pending record goes.
	DropPendingRecord bool
	// Release: the resource may go; its finalizer is removed after the
	// action.
	Release bool
	// Read is the fact to read first, for ActionRead.
	Read Read
	// Failure says why, for ActionStall and ActionRetry.
	Failure *Failure
}

// Next decides what to do next for the resource of f, or which fact to read
// first. It follows one order: deletion, pause, the namespace's grants and
// Secrets (before any call to KrosAI, so that what is not granted reveals
// nothing), then the management policy.
func Next(f Facts) Decision {
	ep := f.Resource
	switch {
	case !ep.DeletionTimestamp.IsZero():
		return finalize(f)
	case paused(ep):
		return Decision{Action: ActionNone, Why: WhyPaused}
	}
	if d, decided := credentials(f, observeOnly(ep)); decided {
		return d
	}
	if s := grants(f).OrganizationStall(ep.Spec.OrganizationID, f.Secrets.KeyOrganizationID); s != nil {
		return stall(s)
	}
	if observeOnly(ep) {
		return observe(f)
	}
	return manage(f)
}

// credentials decides what resolving the resource's credentials takes
// first: the namespace's access, whether it grants shared credentials, and
// the Secrets. decided is false once they are resolved.
func credentials(f Facts, apiKeyOnly bool) (d Decision, decided bool) {
	if !f.Access.Read {
		return read(Read{Fact: FactAccess}), true
	}
	if s := grants(f).CredentialsStall(); s != nil {
		return stall(s), true
	}
	switch {
	case !f.Secrets.Read:
		return read(Read{Fact: FactSecrets, APIKeyOnly: apiKeyOnly}), true
	case f.Secrets.Err != nil:
		return Fail(f, f.Secrets.Err), true
	}
	return Decision{}, false
}

// grants is what KrosGrants allow the resource: a resource with an API key
// of its own namespace reaches what that key reaches.
func grants(f Facts) tenancy.Access {
	if !tenancy.Shared(f.Resource) {
		return tenancy.Access{}
	}
	return f.Access.Access
}

// NextRead decides as Next does, first filling each fact Next asks for
// with read. Each read fills the fact it was asked for, so Next asks for
// each at most once; the bound only guards against a reader that does not.
func NextRead(f *Facts, read func(*Facts, Read) error) (Decision, error) {
	for range 8 {
		d := Next(*f)
		if d.Action != ActionRead {
			return d, nil
		}
		if err := read(f, d.Read); err != nil {
			return Decision{}, err
		}
	}
	return Decision{}, fmt.Errorf("no decision after reading every fact")
}

// manage decides under managementPolicy Full: create, recover, adopt,
// update, recreate, or nothing.
func manage(f Facts) Decision {
	ep := f.Resource
	desired := mapping.Desired(ep, f.Secrets.SIP)
	if ep.Spec.Type == cockpitv1alpha1.EndpointTypeWebhook {
		// Before any write: an endpoint whose signing secret cannot be
		// handed over is of no use to its receiver.
		if !f.SigningSecret.Read {
			return read(Read{Fact: FactSigningSecret})
		}
		if f.SigningSecret.HeldByAnother {
			return stall(mapping.SigningSecretConflict(mapping.SigningSecretName(ep)))
		}
	}
	id, restored := mapping.EndpointID(ep)
	record, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]
	if id == "" {
		if pending {
			found, d, decided := recovery(f, record, desired)
			if decided {
				return d
			}
			if found != nil {
				return Decision{Action: ActionRecover, Why: WhyInterruptedCreate, EndpointID: found.ID, Endpoint: *found,
					Diffs: diff(f, desired, found)}
			}
		}
		if d, decided := attach(f); decided {
			return d
		}
		return Decision{Action: ActionCreate, Diffs: creation(ep, desired)}
	}
	adopting := ep.Status.ID != id && !f.Operator.WroteLast
	if d, decided := reach(f, id, adopting); decided {
		return d
	}
	if f.Remote.State == Gone {
		if adopting {
			return stall(mapping.AdoptionTargetNotFound(id, f.Secrets.Credentials, false))
		}
		return recreate(f, id, desired)
	}
	d := Decision{EndpointID: id, RestoreID: restored, DropPendingRecord: pending,
		Diffs: diff(f, desired, &f.Remote.Endpoint)}
	switch {
	case adopting:
		d.Action = ActionAdopt
	case len(d.Diffs) > 0:
		d.Action = ActionUpdate
	case f.Remote.Endpoint.Status == krosai.StatusError:
		d.Action, d.Why = ActionNone, WhyRemoteError
	default:
		d.Action, d.Why = ActionNone, WhyInSync
	}
	return d
}

// recovery finds the endpoint an interrupted create made, by the record it
// left, in a list sent since. decided is true when d is the decision: a
// fact to read, or a failure.
func recovery(f Facts, record string, desired krosai.EndpointCreate) (found *krosai.Endpoint, d Decision, decided bool) {
	if !f.Claims.Read {
		return nil, read(Read{Fact: FactClaims}), true
	}
	if !f.Listing.Read {
		return nil, read(Read{Fact: FactListing}), true
	}
	if f.Listing.Err != nil {
		return nil, Fail(f, f.Listing.Err), true
	}
	found, err := mapping.RecoverCreate(f.Resource, mapping.ParsePendingCreate(record, desired), recoverable(f), others(f))
	if err != nil {
		return nil, Fail(f, err), true
	}
	return found, Decision{}, false
}

// recoverable are the listed endpoints an interrupted create of the
// resource could have made. A namespace that needs grants to take over what
// it did not create recovers nothing created before the resource was: the
// create-pending record is an annotation that its tenant can write too.
func recoverable(f Facts) []krosai.Endpoint {
	ep, access := f.Resource, grants(f)
	return slices.DeleteFunc(slices.Clone(f.Listing.Endpoints), func(e krosai.Endpoint) bool {
		return e.CreatedAt.Before(ep.CreationTimestamp.Add(-mapping.CreateClockSkew)) && !access.EndpointGranted(e.ID)
	})
}

// attach decides what attaching the phone number a create carries takes
// first: a grant for it, and that no other resource claims it. decided is
// false when the create may go ahead.
func attach(f Facts) (d Decision, decided bool) {
	ep := f.Resource
	if ep.Spec.PhoneNumberID == "" {
		return Decision{}, false
	}
	if s := grants(f).PhoneNumberStall(ep.Spec.PhoneNumberID); s != nil {
		return stall(s), true
	}
	if !f.Claims.Read {
		return read(Read{Fact: FactClaims}), true
	}
	if claimant := mapping.PhoneNumberClaimant(ep, others(f)); claimant != nil {
		return stall(mapping.PhoneNumberClaimedByAnother(ep, claimant)), true
	}
	return Decision{}, false
}

// recreate creates the endpoint again once KrosAI has said twice that it is
// gone: a read naming it answered 404, and a list sent after that read lacks
// it too. Two reads that disagree are an API failure, not a deletion; and an
// endpoint is re-created at most so often, so that an API that keeps
// misreporting deletions costs calls, not a pile of duplicates.
func recreate(f Facts, id string, desired krosai.EndpointCreate) Decision {
	ep := f.Resource
	switch {
	case !f.Listing.Read:
		return read(Read{Fact: FactListing})
	case f.Listing.Err != nil:
		return Fail(f, f.Listing.Err)
	case slices.ContainsFunc(f.Listing.Endpoints, func(e krosai.Endpoint) bool { return e.ID == id }):
		return Fail(f, fmt.Errorf("KrosAI answers 404 for endpoint %s but still lists it; "+
			"it is not created again until the two agree", id))
	}
	if d, decided := attach(f); decided {
		return d
	}
	if f.Operator.RecreationLimitReached && !ReconcileRequested(ep) {
		return stall(&mapping.Stalled{Reason: cockpitv1alpha1.ReasonRecreateLimitReached, Message: fmt.Sprintf(
			"endpoint %s was deleted outside Kubernetes and created again %d times within an hour; the operator stops "+
				"re-creating it in case KrosAI misreports deletions: check the organization in the KrosAI dashboard, "+
				"then set the annotation %s to re-create it once more", id, MaxRecreations,
			cockpitv1alpha1.AnnotationReconcileRequestedAt)})
	}
	return Decision{Action: ActionRecreate, EndpointID: id, Diffs: creation(ep, desired)}
}

// MaxRecreations bounds how often one resource's endpoint is created again
// within an hour after KrosAI reported it deleted.
const MaxRecreations = 3

// observe decides under managementPolicy ObserveOnly: read the endpoint the
// resource names, write nothing, report the drift.
func observe(f Facts) Decision {
	ep := f.Resource
	id := mapping.ObservedID(ep)
	if id == "" {
		return stall(mapping.EndpointIDRequired())
	}
	if d, decided := reach(f, id, ep.Status.ID != id); decided {
		return d
	}
	if f.Remote.State == Gone {
		return stall(mapping.AdoptionTargetNotFound(id, f.Secrets.Credentials, true))
	}
	drift := mapping.Diff(ep, mapping.Desired(ep, f.Secrets.SIP), mapping.DesiredStatus(ep), &f.Remote.Endpoint, false)
	return Decision{Action: ActionNone, Why: WhyObserveOnly, EndpointID: id, Diffs: drift}
}

// finalize decides what becomes of the endpoint of a resource being deleted.
func finalize(f Facts) Decision {
	ep := f.Resource
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	record, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]
	switch {
	case !slices.Contains(ep.Finalizers, cockpitv1alpha1.Finalizer):
		return Decision{Action: ActionNone, Why: WhyNoFinalizer, EndpointID: id}
	case paused(ep):
		return Decision{Action: ActionNone, Why: WhyPaused, EndpointID: id}
	case observeOnly(ep):
		return Decision{Action: ActionOrphan, Why: WhyObserveOnly, EndpointID: id, Release: true}
	case ep.Spec.DeletionPolicy == cockpitv1alpha1.DeletionPolicyOrphan:
		return Decision{Action: ActionOrphan, Why: WhyDeletionPolicy, EndpointID: id, Release: true}
	case id == "" && !pending:
		return Decision{Action: ActionNone, Why: WhyNothingCreated, Release: true}
	}
	if d, decided := credentials(f, true); decided {
		return d
	}
	if id != "" && ep.Status.ID != id {
		if !grants(f).EndpointGranted(id) {
			return Decision{Action: ActionOrphan, Why: WhyNotGranted, EndpointID: id, Release: true}
		}
		if !f.Claims.Read {
			return read(Read{Fact: FactClaims})
		}
		if mapping.ClaimantIn(others(f), id) != nil {
			return Decision{Action: ActionOrphan, Why: WhyClaimedByAnother, EndpointID: id, Release: true}
		}
	}
	switch {
	case id != "" && f.Operator.Deleted:
		return Decision{Action: ActionNone, Why: WhyDeleted, EndpointID: id, Release: true}
	case id != "":
		return Decision{Action: ActionDelete, EndpointID: id, Release: true}
	}
	found, d, decided := recovery(f, record, mapping.Desired(ep, f.Secrets.SIP))
	switch {
	case decided:
		return d
	case found == nil:
		return Decision{Action: ActionNone, Why: WhyCreateMadeNothing, Release: true}
	}
	return Decision{Action: ActionDelete, Why: WhyInterruptedCreate, EndpointID: found.ID, Endpoint: *found, Release: true}
}

// reach decides what reaching endpoint id takes first: when adopting, a
// grant for it, before anything is read of it, and that no other resource
// claims it; then a read of it (by its own GET when adopting or asked), and
// what a failed read means. decided is false once the endpoint was found,
// or found gone.
func reach(f Facts, id string, adopting bool) (d Decision, decided bool) {
	if adopting {
		if s := grants(f).EndpointStall(id); s != nil {
			return stall(s), true
		}
		if d, claimed := claimedByAnother(f, id); claimed {
			return d, true
		}
	}
	switch f.Remote.State {
	case NotRead:
		return read(Read{Fact: FactRemote, EndpointID: id, ByID: adopting || ReconcileRequested(f.Resource)}), true
	case Failed:
		return unreadable(f), true
	}
	return Decision{}, false
}

// unreadable decides what a failed read of the endpoint means. A resource
// Ready at its generation was only being observed: while it was read within
// the freshness bound its status is still true as of that read, and writing
// the failure would turn every outage, and every daily limit, into a status
// write per resource; past the bound it says it is stale. Freshness is by
// exception, not by heartbeat (docs/reliability.md#freshness).
func unreadable(f Facts) Decision {
	d := Fail(f, f.Remote.Err)
	if d.Action != ActionRetry || !observing(f.Resource) {
		return d
	}
	if f.Operator.ReadRecently {
		return Decision{Action: ActionNone, Why: WhyReadFailed, Failure: d.Failure}
	}
	d.Failure.Reason = cockpitv1alpha1.ReasonStale
	d.Failure.Message = fmt.Sprintf("KrosAI has not been read for this endpoint since %s, longer than the freshness "+
		"bound of two sync periods; status shows the endpoint as read then. Reading it fails: %s",
		f.Operator.NotReadSince.UTC().Format(time.RFC3339), d.Failure.Message)
	return d
}

// observing reports a resource that was only being observed: Ready for its
// current spec, or Stale, which it stays, with the same message, while
// reading fails (it is still Ready as of its last read).
func observing(ep *cockpitv1alpha1.KrosEndpoint) bool {
	ready := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReady)
	return ep.Status.ObservedGeneration == ep.Generation && ready != nil &&
		(ready.Status == metav1.ConditionTrue || ready.Reason == cockpitv1alpha1.ReasonStale)
}

// claimedByAnother stalls on an endpoint another resource claims: an
// endpoint has one owner, or anyone who can read that owner's status could
// reroute, or delete, its calls.
func claimedByAnother(f Facts, id string) (Decision, bool) {
	if !f.Claims.Read {
		return read(Read{Fact: FactClaims}), true
	}
	if owner := mapping.ClaimantIn(others(f), id); owner != nil {
		return stall(mapping.OwnedByAnother(f.Resource, id, owner)), true
	}
	return Decision{}, false
}

// others are the cluster's KrosEndpoints but the resource itself.
func others(f Facts) []cockpitv1alpha1.KrosEndpoint {
	ep := f.Resource
	return slices.DeleteFunc(slices.Clone(f.Claims.Items), func(o cockpitv1alpha1.KrosEndpoint) bool {
		return o.Namespace == ep.Namespace && o.Name == ep.Name
	})
}

// diff is what a PATCH must correct of e. SIP logins cannot be read back:
// they count as current only when the operator's own write carried the
// current one, or, without that memory, when the Secret's resourceVersion is
// the one status recorded when they were last pushed.
func diff(f Facts, desired krosai.EndpointCreate, e *krosai.Endpoint) []mapping.FieldDiff {
	ep := f.Resource
	current := f.Operator.SIPLogin == SIPLoginCurrent ||
		(f.Operator.SIPLogin == SIPLoginUnknown && !mapping.SIPLoginSecretChanged(ep, f.Secrets.Versions))
	return mapping.Diff(ep, desired, mapping.DesiredStatus(ep), e, current)
}

// creation is every field a create sets, with the status PATCHed after it
// for a disabled endpoint (the create request cannot carry status).
func creation(ep *cockpitv1alpha1.KrosEndpoint, desired krosai.EndpointCreate) []mapping.FieldDiff {
	fresh := krosai.Endpoint{Status: krosai.StatusActive}
	return mapping.Diff(ep, desired, mapping.DesiredStatus(ep), &fresh, false)
}

func read(r Read) Decision { return Decision{Action: ActionRead, Read: r} }

func stall(s *mapping.Stalled) Decision {
	return Decision{Action: ActionStall, Failure: &Failure{Class: ClassStalled, Reason: s.Reason, Message: s.Message, Err: s}}
}

func paused(ep *cockpitv1alpha1.KrosEndpoint) bool {
	return ep.Annotations[cockpitv1alpha1.AnnotationPaused] == "true"
}

func observeOnly(ep *cockpitv1alpha1.KrosEndpoint) bool {
	return ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly
}

// ReconcileRequested reports a new value of the reconcile-requested-at
// annotation: a person asks for a sync that reads KrosAI afresh.
func ReconcileRequested(ep *cockpitv1alpha1.KrosEndpoint) bool {
	v := ep.Annotations[cockpitv1alpha1.AnnotationReconcileRequestedAt]
	return v != "" && v != ep.Status.LastHandledReconcileAt
}
