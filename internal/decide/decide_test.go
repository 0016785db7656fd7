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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

const org = "11111111-1111-4111-8111-111111111111"

var (
	createdAt = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cred      = krosai.Credentials{APIKey: "k", OrganizationID: org}
	apiKeyRef = mapping.SecretRef{Key: types.NamespacedName{Namespace: "team", Name: "key"}, Field: "spec.apiKeySecretRef", Local: true}
	// pendingRecord is the record of a create of resource() at createdAt.
	pendingRecord = mapping.NewPendingCreate(createdAt.Add(-time.Minute), mapping.Desired(resource(), mapping.SIPLogin{})).String()
)

// resource is an ElevenLabs KrosEndpoint team/x, changed by mutate.
func resource(mutate ...func(*cockpitv1alpha1.KrosEndpoint)) *cockpitv1alpha1.KrosEndpoint {
	ep := &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "x", UID: "uid-x", Annotations: map[string]string{}},
		Spec: cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs, DisplayName: "Front desk",
			ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: "agent-a"}},
	}
	for _, m := range mutate {
		m(ep)
	}
	return ep
}

func annotated(key, value string) func(*cockpitv1alpha1.KrosEndpoint) {
	return func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Annotations[key] = value }
}

// owning makes the resource the owner of e-1: it created or adopted it.
func owning(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Annotations[cockpitv1alpha1.AnnotationEndpointID] = "e-1"
	ep.Status.ID, ep.Status.OrganizationID = "e-1", org
	ep.Finalizers = []string{cockpitv1alpha1.Finalizer}
}

// ready makes the resource Ready for its current generation.
func ready(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Generation, ep.Status.ObservedGeneration = 1, 1
	ep.Status.Conditions = []metav1.Condition{{Type: cockpitv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: cockpitv1alpha1.ReasonSynced}}
}

// stale makes a Ready resource Stale.
func stale(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Status.Conditions[0].Status, ep.Status.Conditions[0].Reason = metav1.ConditionFalse, cockpitv1alpha1.ReasonStale
}

// naming names e-1 for adoption.
var naming = annotated(cockpitv1alpha1.AnnotationEndpointID, "e-1")

func observeOnlyPolicy(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
}

func deleting(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.DeletionTimestamp = &metav1.Time{Time: createdAt}
	if len(ep.Finalizers) == 0 {
		ep.Finalizers = []string{cockpitv1alpha1.Finalizer}
	}
}

func disabled(ep *cockpitv1alpha1.KrosEndpoint) { ep.Spec.Enabled = new(false) }

func webhook(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec.Type, ep.Spec.ElevenLabs = cockpitv1alpha1.EndpointTypeWebhook, nil
	ep.Spec.Webhook = &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/x"}
}

func vogent(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec.Type, ep.Spec.ElevenLabs = cockpitv1alpha1.EndpointTypeVogent, nil
	ep.Spec.Vogent = &cockpitv1alpha1.VogentConfig{AgentID: "v-1", SIPPrefix: "p",
		CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "sip"}}
}

// pushedAt records that the SIP login was last pushed at Secret version rv.
func pushedAt(rv string) func(*cockpitv1alpha1.KrosEndpoint) {
	return func(ep *cockpitv1alpha1.KrosEndpoint) {
		ep.Status.SecretResourceVersions = []cockpitv1alpha1.SecretResourceVersion{{Name: "sip", ResourceVersion: rv}}
	}
}

// remote is e-1 or another endpoint as resource() maps to it.
func remote(id string, mutate ...func(*krosai.Endpoint)) krosai.Endpoint {
	e := krosai.Endpoint{ID: id, Name: "Front desk", Type: "elevenlabs", Status: krosai.StatusActive,
		OrganizationID: org, CreatedAt: createdAt, ProviderConfig: krosai.ProviderConfig{ElevenLabsAgentID: "agent-a"}}
	for _, m := range mutate {
		m(&e)
	}
	return e
}

func asVogent(e *krosai.Endpoint) {
	e.Type, e.ProviderConfig = "vogent", krosai.ProviderConfig{VogentAgentID: "v-1", VogentSIPPrefix: "p"}
}

// facts are those of ep once its Secrets resolved (with the SIP login at
// version 7 for SIP types), with nobody else's claims, changed by with.
func facts(ep *cockpitv1alpha1.KrosEndpoint, with ...func(*Facts)) Facts {
	f := Facts{Resource: ep, Claims: Claims{Read: true}, Access: Access{Read: true},
		Secrets: Secrets{Read: true, Resolved: mapping.Resolved{Credentials: cred, APIKeyRef: apiKeyRef}}}
	if mapping.HasSIPLogin(ep) {
		f.Secrets.SIP = mapping.SIPLogin{Username: "alice", Password: "pw"}
		f.Secrets.Versions = []cockpitv1alpha1.SecretResourceVersion{{Name: "sip", ResourceVersion: "7"}}
	}
	if ep.Spec.Type == cockpitv1alpha1.EndpointTypeWebhook {
		f.SigningSecret.Read = true
	}
	for _, w := range with {
		w(&f)
	}
	return f
}

func found(e krosai.Endpoint) func(*Facts) {
	return func(f *Facts) { f.Remote = LookupOf(&e, nil) }
}

func failed(err error) func(*Facts) { return func(f *Facts) { f.Remote = LookupOf(nil, err) } }

var (
	gone          = failed(apiError(krosai.KindNotFound, 404, krosai.CodeEndpointNotFound))
	secretsUnread = func(f *Facts) { f.Secrets = Secrets{} }
	claimsUnread  = func(f *Facts) { f.Claims = Claims{} }
	wroteLast     = func(f *Facts) { f.Operator.WroteLast = true }
	limitReached  = func(f *Facts) { f.Operator.RecreationLimitReached = true }
	readRecently  = func(f *Facts) { f.Operator.ReadRecently = true }
	// pinned is an organization kept from status, not named by the key.
	pinned = func(f *Facts) { f.Secrets.PinnedOrganization = true }
)

func listing(endpoints ...krosai.Endpoint) func(*Facts) {
	return func(f *Facts) { f.Listing = Listing{Read: true, Endpoints: endpoints} }
}

func claimedBy(others ...*cockpitv1alpha1.KrosEndpoint) func(*Facts) {
	return func(f *Facts) {
		for _, o := range others {
			f.Claims.Items = append(f.Claims.Items, *o)
		}
	}
}

// another is a resource team/owner that owns e-1.
func another() *cockpitv1alpha1.KrosEndpoint {
	return resource(owning, func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Name, ep.UID = "owner", "uid-owner" })
}

func sipLogin(k SIPLoginKnowledge) func(*Facts) {
	return func(f *Facts) { f.Operator.SIPLogin = k }
}

func secretsFailed(s *mapping.Stalled) func(*Facts) {
	return func(f *Facts) { f.Secrets = Secrets{Read: true, Err: s} }
}

func apiError(kind krosai.Kind, status int, code string) error {
	return &krosai.Error{Kind: kind, Op: "getEndpoint", StatusCode: status, Code: code, RetryAfter: 2 * time.Second}
}

// outcome is what a row checks of a decision.
type outcome struct {
	Action     Action
	Why        Why
	EndpointID string
	Read       Read
	Reason     string
	// Fields are the API fields of Diffs.
	Fields                                []string
	RestoreID, DropPendingRecord, Release bool
}

func outcomeOf(d Decision) outcome {
	o := outcome{Action: d.Action, Why: d.Why, EndpointID: d.EndpointID, Read: d.Read,
		RestoreID: d.RestoreID, DropPendingRecord: d.DropPendingRecord, Release: d.Release}
	if d.Failure != nil {
		o.Reason = d.Failure.Reason
	}
	for _, diff := range d.Diffs {
		o.Fields = append(o.Fields, diff.APIField)
	}
	return o
}

var (
	created      = []string{"name", "provider_config.elevenlabs_agent_id"}
	sipWriteOnly = []string{"provider_config.vogent_sip_username", "provider_config.vogent_sip_password"}
)

func readOf(fact Fact) outcome { return outcome{Action: ActionRead, Read: Read{Fact: fact}} }

func stalledOn(reason string) outcome { return outcome{Action: ActionStall, Reason: reason} }

func retriedOn(reason string) outcome { return outcome{Action: ActionRetry, Reason: reason} }

// TestNext is the table of every decision: each action, each stall and
// each fact asked for, on the path the operator and the planner both take.
func TestNext(t *testing.T) {
	tests := []struct {
		name  string
		facts Facts
		want  outcome
	}{
		// Before the management policy.
		{"paused", facts(resource(owning, annotated(cockpitv1alpha1.AnnotationPaused, "true")), secretsUnread),
			outcome{Action: ActionNone, Why: WhyPaused}},
		{"the namespace's grants first", facts(resource(owning), secretsUnread, func(f *Facts) { f.Access = Access{} }),
			readOf(FactAccess)},
		{"Secrets next", facts(resource(owning), secretsUnread), readOf(FactSecrets)},
		{"a missing Secret", facts(resource(owning), secretsFailed(mapping.SecretNotFound(apiKeyRef))),
			stalledOn(cockpitv1alpha1.ReasonSecretNotFound)},
		{"a Secret value that cannot be sent", facts(resource(), secretsFailed(&mapping.Stalled{
			Reason: cockpitv1alpha1.ReasonSecretValueInvalid, Message: "m"})), stalledOn(cockpitv1alpha1.ReasonSecretValueInvalid)},
		{"credentials naming another organization", facts(resource(owning), secretsFailed(&mapping.Stalled{
			Reason: cockpitv1alpha1.ReasonOrganizationChanged, Message: "m"})), stalledOn(cockpitv1alpha1.ReasonOrganizationChanged)},

		// Full: create, recover.
		{"no endpoint yet: create, every field", facts(resource()),
			outcome{Action: ActionCreate, Fields: created}},
		{"a disabled one: create, then PATCH the status", facts(resource(disabled)),
			outcome{Action: ActionCreate, Fields: []string{"name", "status", "provider_config.elevenlabs_agent_id"}}},
		{"a webhook: who holds its signing Secret's name, first", facts(resource(webhook), func(f *Facts) {
			f.SigningSecret = SigningSecret{}
		}), readOf(FactSigningSecret)},
		{"a webhook whose signing Secret's name another Secret holds: stalled before any write",
			facts(resource(webhook), func(f *Facts) { f.SigningSecret.HeldByAnother = true }),
			stalledOn(cockpitv1alpha1.ReasonSigningSecretConflict)},
		{"a webhook: create", facts(resource(webhook)), outcome{Action: ActionCreate, Fields: []string{"name", "url"}}},
		{"an interrupted create: the claims first",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)), claimsUnread),
			readOf(FactClaims)},
		{"an interrupted create: then a list sent since",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord))), readOf(FactListing)},
		{"an interrupted create that made one: recover it",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)), listing(remote("e-1"))),
			outcome{Action: ActionRecover, Why: WhyInterruptedCreate, EndpointID: "e-1"}},
		{"an interrupted create that made one unlike the spec now: recover it, then correct it",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord), disabled), listing(remote("e-1"))),
			outcome{Action: ActionRecover, Why: WhyInterruptedCreate, EndpointID: "e-1", Fields: []string{"status"}}},
		{"an interrupted create that made none: create",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)), listing()),
			outcome{Action: ActionCreate, Fields: created}},
		{"an interrupted create and two candidates",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)), listing(remote("e-1"), remote("e-2"))),
			stalledOn(cockpitv1alpha1.ReasonAmbiguousCreate)},
		{"an interrupted create and a twin's",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)), listing(remote("e-1")),
				claimedBy(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord),
					func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Name = "twin" }))),
			stalledOn(cockpitv1alpha1.ReasonAmbiguousCreate)},
		{"an interrupted create, and the list fails",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)), func(f *Facts) {
				f.Listing = Listing{Read: true, Err: &ListError{Organization: org, Err: apiError(krosai.KindTransient, 503, "")}}
			}), retriedOn(cockpitv1alpha1.ReasonListFailed)},

		// Full: an endpoint it owns.
		{"its endpoint: read it from the shared list", facts(resource(owning)),
			outcome{Action: ActionRead, Read: Read{Fact: FactRemote, EndpointID: "e-1"}}},
		{"a sync a person asked for: read it by its own GET",
			facts(resource(owning, annotated(cockpitv1alpha1.AnnotationReconcileRequestedAt, "now"))),
			outcome{Action: ActionRead, Read: Read{Fact: FactRemote, EndpointID: "e-1", ByID: true}}},
		{"in line: nothing", facts(resource(owning), found(remote("e-1"))),
			outcome{Action: ActionNone, Why: WhyInSync, EndpointID: "e-1"}},
		{"in line, in state error: nothing, said so", facts(resource(owning), found(remote("e-1", func(e *krosai.Endpoint) {
			e.Status = krosai.StatusError
		}))), outcome{Action: ActionNone, Why: WhyRemoteError, EndpointID: "e-1"}},
		{"edited in the dashboard: update", facts(resource(owning), found(remote("e-1", func(e *krosai.Endpoint) {
			e.Name, e.Status = "renamed", krosai.StatusInactive
		}))), outcome{Action: ActionUpdate, EndpointID: "e-1", Fields: []string{"name", "status"}}},
		{"the id annotation lost: restored from status", facts(resource(owning, func(ep *cockpitv1alpha1.KrosEndpoint) {
			delete(ep.Annotations, cockpitv1alpha1.AnnotationEndpointID)
		}), found(remote("e-1"))), outcome{Action: ActionNone, Why: WhyInSync, EndpointID: "e-1", RestoreID: true}},
		{"reading it failed: retried", facts(resource(owning), failed(apiError(krosai.KindTransient, 503, ""))),
			retriedOn(cockpitv1alpha1.ReasonAPIUnavailable)},
		{"reading it was rate limited: retried when asked", facts(resource(owning), failed(apiError(krosai.KindRateLimited, 429, ""))),
			retriedOn(cockpitv1alpha1.ReasonRateLimited)},
		{"the shared list failed: retried", facts(resource(owning), failed(&ListError{Organization: org,
			Err: apiError(krosai.KindNotFound, 404, krosai.CodeEndpointNotFound)})), retriedOn(cockpitv1alpha1.ReasonListFailed)},
		{"Ready, read within the freshness bound, reading it failed: nothing written, tried again",
			facts(resource(owning, ready), readRecently, failed(apiError(krosai.KindTransient, 503, ""))),
			outcome{Action: ActionNone, Why: WhyReadFailed, Reason: cockpitv1alpha1.ReasonAPIUnavailable}},
		{"Ready, read within the freshness bound, rate limited: nothing written, tried again",
			facts(resource(owning, ready), readRecently, failed(apiError(krosai.KindRateLimited, 429, ""))),
			outcome{Action: ActionNone, Why: WhyReadFailed, Reason: cockpitv1alpha1.ReasonRateLimited}},
		{"Ready, not read for longer than the bound: stale",
			facts(resource(owning, ready), failed(apiError(krosai.KindTransient, 503, ""))),
			retriedOn(cockpitv1alpha1.ReasonStale)},
		{"Stale, and reading still fails: stale still, not the failure's own reason",
			facts(resource(owning, ready, stale), failed(apiError(krosai.KindTransient, 503, ""))),
			retriedOn(cockpitv1alpha1.ReasonStale)},
		{"Ready for an older generation: the failure is reported",
			facts(resource(owning, ready, func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Generation = 2 }), readRecently,
				failed(apiError(krosai.KindTransient, 503, ""))), retriedOn(cockpitv1alpha1.ReasonAPIUnavailable)},
		{"Ready, read recently, the key refused: stalled, never hidden",
			facts(resource(owning, ready), readRecently, failed(apiError(krosai.KindUnauthorized, 401, ""))),
			stalledOn(cockpitv1alpha1.ReasonUnauthorized)},
		{"the key refused", facts(resource(owning), failed(apiError(krosai.KindUnauthorized, 401, ""))),
			stalledOn(cockpitv1alpha1.ReasonUnauthorized)},
		{"the key forbidden", facts(resource(owning), failed(apiError(krosai.KindForbidden, 403, ""))),
			stalledOn(cockpitv1alpha1.ReasonForbidden)},
		{"the key forbidden in the organization pinned from status: the organization changed",
			facts(resource(owning), pinned, failed(apiError(krosai.KindForbidden, 403, ""))),
			stalledOn(cockpitv1alpha1.ReasonOrganizationChanged)},
		{"the key forbidden while listing the pinned organization: the organization changed",
			facts(resource(owning), pinned, failed(&ListError{Organization: org, Err: apiError(krosai.KindForbidden, 403, "")})),
			stalledOn(cockpitv1alpha1.ReasonOrganizationChanged)},
		{"a request KrosAI refuses", facts(resource(owning), failed(apiError(krosai.KindInvalid, 400, ""))),
			stalledOn(cockpitv1alpha1.ReasonInvalidRequest)},

		// Full: an endpoint KrosAI says is gone.
		{"gone: confirm with a list sent since", facts(resource(owning), gone), readOf(FactListing)},
		{"gone, and the list agrees: recreate", facts(resource(owning), gone, listing()),
			outcome{Action: ActionRecreate, EndpointID: "e-1", Fields: created}},
		{"gone, but still listed: retried until the two agree", facts(resource(owning), gone, listing(remote("e-1"))),
			retriedOn(cockpitv1alpha1.ReasonAPIUnavailable)},
		{"gone, and the list fails: retried", facts(resource(owning), gone, func(f *Facts) {
			f.Listing = Listing{Read: true, Err: &ListError{Organization: org, Err: apiError(krosai.KindTransient, 503, "")}}
		}), retriedOn(cockpitv1alpha1.ReasonListFailed)},
		{"gone too often within the hour", facts(resource(owning), gone, listing(), limitReached),
			stalledOn(cockpitv1alpha1.ReasonRecreateLimitReached)},
		{"gone too often, and a person asks for it", facts(resource(owning,
			annotated(cockpitv1alpha1.AnnotationReconcileRequestedAt, "now")), gone, listing(), limitReached),
			outcome{Action: ActionRecreate, EndpointID: "e-1", Fields: created}},

		// Full: adoption.
		{"an id to adopt: who claims it, first", facts(resource(naming), claimsUnread), readOf(FactClaims)},
		{"an id another resource claims", facts(resource(naming), claimedBy(another())),
			stalledOn(cockpitv1alpha1.ReasonEndpointOwnedByAnother)},
		{"an id to adopt: read by its own GET", facts(resource(naming)),
			outcome{Action: ActionRead, Read: Read{Fact: FactRemote, EndpointID: "e-1", ByID: true}}},
		{"adopt, nothing to change", facts(resource(naming), found(remote("e-1"))),
			outcome{Action: ActionAdopt, EndpointID: "e-1"}},
		{"adopt, then correct", facts(resource(naming), found(remote("e-1", func(e *krosai.Endpoint) { e.Name = "theirs" }))),
			outcome{Action: ActionAdopt, EndpointID: "e-1", Fields: []string{"name"}}},
		{"adopting what its own write just answered is no adoption", facts(resource(naming), wroteLast, claimsUnread,
			found(remote("e-1"))), outcome{Action: ActionNone, Why: WhyInSync, EndpointID: "e-1"}},
		{"an id KrosAI does not have", facts(resource(naming), gone), stalledOn(cockpitv1alpha1.ReasonAdoptionTargetNotFound)},
		{"an ambiguous create resolved by naming the endpoint: the record goes",
			facts(resource(naming, annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)), found(remote("e-1"))),
			outcome{Action: ActionAdopt, EndpointID: "e-1", DropPendingRecord: true}},

		// Full: the SIP login, which KrosAI never returns.
		{"a SIP login never pushed: sent, without values", facts(resource(vogent, owning), found(remote("e-1", asVogent))),
			outcome{Action: ActionUpdate, EndpointID: "e-1", Fields: sipWriteOnly}},
		{"a SIP login pushed at this resourceVersion: nothing", facts(resource(vogent, owning, pushedAt("7")),
			found(remote("e-1", asVogent))), outcome{Action: ActionNone, Why: WhyInSync, EndpointID: "e-1"}},
		{"a SIP login our own write carried: nothing, whatever status recorded",
			facts(resource(vogent, owning, pushedAt("6")), found(remote("e-1", asVogent)), sipLogin(SIPLoginCurrent)),
			outcome{Action: ActionNone, Why: WhyInSync, EndpointID: "e-1"}},
		{"a SIP login rotated since our own write: sent",
			facts(resource(vogent, owning, pushedAt("7")), found(remote("e-1", asVogent)), sipLogin(SIPLoginStale)),
			outcome{Action: ActionUpdate, EndpointID: "e-1", Fields: sipWriteOnly}},

		// ObserveOnly.
		{"ObserveOnly: only the API key's Secret", facts(resource(observeOnlyPolicy, naming), secretsUnread),
			outcome{Action: ActionRead, Read: Read{Fact: FactSecrets, APIKeyOnly: true}}},
		{"ObserveOnly without an id", facts(resource(observeOnlyPolicy)), stalledOn(cockpitv1alpha1.ReasonEndpointIDRequired)},
		{"ObserveOnly, naming an endpoint another resource claims", facts(resource(observeOnlyPolicy, naming),
			claimedBy(another())), stalledOn(cockpitv1alpha1.ReasonEndpointOwnedByAnother)},
		{"ObserveOnly, observing already: another's claim is not checked again",
			facts(resource(observeOnlyPolicy, owning), claimsUnread, found(remote("e-1"))),
			outcome{Action: ActionNone, Why: WhyObserveOnly, EndpointID: "e-1"}},
		{"ObserveOnly: read by its own GET when it starts observing", facts(resource(observeOnlyPolicy, naming)),
			outcome{Action: ActionRead, Read: Read{Fact: FactRemote, EndpointID: "e-1", ByID: true}}},
		{"ObserveOnly, with drift: nothing written, the drift reported",
			facts(resource(observeOnlyPolicy, owning), found(remote("e-1", func(e *krosai.Endpoint) { e.Name = "theirs" }))),
			outcome{Action: ActionNone, Why: WhyObserveOnly, EndpointID: "e-1", Fields: []string{"name"}}},
		{"ObserveOnly, with a SIP login: write-only, never compared",
			facts(resource(observeOnlyPolicy, vogent, owning, pushedAt("7")), found(remote("e-1", asVogent))),
			outcome{Action: ActionNone, Why: WhyObserveOnly, EndpointID: "e-1", Fields: sipWriteOnly}},
		{"ObserveOnly, an id KrosAI does not have", facts(resource(observeOnlyPolicy, naming), gone),
			stalledOn(cockpitv1alpha1.ReasonAdoptionTargetNotFound)},
		{"ObserveOnly, reading it failed", facts(resource(observeOnlyPolicy, owning), failed(apiError(krosai.KindTransient, 503, ""))),
			retriedOn(cockpitv1alpha1.ReasonAPIUnavailable)},

		// Deletion.
		{"deleted, the finalizer gone: nothing", facts(resource(owning, deleting, func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Finalizers = []string{"someone-else"}
		})), outcome{Action: ActionNone, Why: WhyNoFinalizer, EndpointID: "e-1"}},
		{"deleted while paused: nothing until unpaused", facts(resource(owning, deleting,
			annotated(cockpitv1alpha1.AnnotationPaused, "true"))), outcome{Action: ActionNone, Why: WhyPaused, EndpointID: "e-1"}},
		{"deleted under ObserveOnly: orphaned", facts(resource(owning, observeOnlyPolicy, deleting), secretsUnread),
			outcome{Action: ActionOrphan, Why: WhyObserveOnly, EndpointID: "e-1", Release: true}},
		{"deleted with deletionPolicy Orphan", facts(resource(owning, deleting, func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Spec.DeletionPolicy = cockpitv1alpha1.DeletionPolicyOrphan
		}), secretsUnread), outcome{Action: ActionOrphan, Why: WhyDeletionPolicy, EndpointID: "e-1", Release: true}},
		{"deleted before anything was created", facts(resource(deleting), secretsUnread),
			outcome{Action: ActionNone, Why: WhyNothingCreated, Release: true}},
		{"deleted: the API key first", facts(resource(owning, deleting), secretsUnread),
			outcome{Action: ActionRead, Read: Read{Fact: FactSecrets, APIKeyOnly: true}}},
		{"deleted, its key's Secret gone", facts(resource(owning, deleting), secretsFailed(mapping.SecretNotFound(apiKeyRef))),
			stalledOn(cockpitv1alpha1.ReasonSecretNotFound)},
		{"deleted, its endpoint deleted by this process already (a stale cache): only the finalizer goes",
			facts(resource(owning, deleting), func(f *Facts) { f.Operator.Deleted = true }),
			outcome{Action: ActionNone, Why: WhyDeleted, EndpointID: "e-1", Release: true}},
		{"deleted: delete", facts(resource(owning, deleting)),
			outcome{Action: ActionDelete, EndpointID: "e-1", Release: true}},
		{"deleted, never adopted: who claims it, first", facts(resource(naming, deleting), claimsUnread), readOf(FactClaims)},
		{"deleted, never adopted and claimed by another: orphaned", facts(resource(naming, deleting), claimedBy(another())),
			outcome{Action: ActionOrphan, Why: WhyClaimedByAnother, EndpointID: "e-1", Release: true}},
		{"deleted, never adopted, nobody else's: delete", facts(resource(naming, deleting)),
			outcome{Action: ActionDelete, EndpointID: "e-1", Release: true}},
		{"deleted after an interrupted create: a list sent since",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord), deleting)), readOf(FactListing)},
		{"deleted after an interrupted create that made one: delete it",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord), deleting), listing(remote("e-1"))),
			outcome{Action: ActionDelete, Why: WhyInterruptedCreate, EndpointID: "e-1", Release: true}},
		{"deleted after an interrupted create that made none",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord), deleting), listing()),
			outcome{Action: ActionNone, Why: WhyCreateMadeNothing, Release: true}},
		{"deleted after an ambiguous create", facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord),
			deleting), listing(remote("e-1"), remote("e-2"))), stalledOn(cockpitv1alpha1.ReasonAmbiguousCreate)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			d := Next(tt.facts)
			g.Expect(outcomeOf(d)).To(Equal(tt.want), "%+v", d.Failure)
			if d.Failure != nil {
				g.Expect(d.Failure.Message).NotTo(BeEmpty())
				g.Expect(d.Failure.Err).To(HaveOccurred())
			}
		})
	}
}

// TestFailMessages: what a stall says beyond its reason, which each user of
// the decision shows alike.
func TestFailMessages(t *testing.T) {
	g := NewWithT(t)
	refused := Next(facts(resource(owning), failed(apiError(krosai.KindUnauthorized, 401, ""))))
	g.Expect(refused.Failure.Message).To(HaveSuffix("; check the apiKey in Secret team/key (spec.apiKeySecretRef)"))

	moved := Next(facts(resource(owning), pinned, failed(apiError(krosai.KindForbidden, 403, ""))))
	g.Expect(moved.Failure.Message).To(ContainSubstring(`the API key in Secret "key" named by spec.apiKeySecretRef cannot reach ` +
		"KrosAI organization " + org))

	undeletable := Next(facts(resource(owning, deleting), secretsFailed(mapping.SecretNotFound(apiKeyRef))))
	g.Expect(undeletable.Failure.Message).To(HaveSuffix("or set spec.deletionPolicy: Orphan to leave the endpoint in KrosAI " +
		"and let the resource go"))

	limited := Next(facts(resource(owning), failed(apiError(krosai.KindRateLimited, 429, ""))))
	g.Expect(limited.Failure.Class).To(Equal(ClassRateLimited))
	g.Expect(limited.Failure.RetryAfter).To(Equal(2 * time.Second))
	g.Expect(limited.Failure.Message).To(Equal(
		"the API key's rate limit at KrosAI is reached; requests with it resume when the API allows"), "no time: it would move")

	spent := Next(facts(resource(owning), failed(&krosai.Error{Kind: krosai.KindRateLimited, StatusCode: 429,
		Code: krosai.CodeDailyLimitExceeded, RetryAt: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)})))
	g.Expect(spent.Failure.Message).To(Equal("the API key's daily request quota at KrosAI is spent (DAILY_LIMIT_EXCEEDED): " +
		"nothing is sent with it until it resets at 2026-12-07T00:00:00Z, when this resumes"))

	down := Next(facts(resource(owning), failed(&ListError{Organization: org, Err: &krosai.Error{Kind: krosai.KindTransient,
		Code: krosai.CodeUnavailable, NotSent: true, Since: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
		RetryAt: time.Date(2026, 12, 6, 9, 5, 0, 0, time.UTC), LastAnswer: "krosai listEndpoints: 503 Service Unavailable"}})))
	g.Expect(down.Failure.Message).To(Equal("KrosAI has failed every request for this organization since "+
		"2026-12-06T09:00:00Z (last answer: krosai listEndpoints: 503 Service Unavailable); one request at a time "+
		"probes it, backing off, and this resumes once one succeeds"),
		"one shared reason, the same for every resource of the organization")

	stillListed := Next(facts(resource(owning), gone, listing(remote("e-1"))))
	g.Expect(stillListed.Failure.Message).To(Equal(fmt.Sprintf("KrosAI answers 404 for endpoint %s but still lists it; "+
		"it is not created again until the two agree", "e-1")))
}
