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

// Package decide is the one place where the operator's choices are made:
// Next turns the facts read about one KrosEndpoint into what to do next.
// The controller reads, calls Next and carries the decision out (crash-safe
// create, PATCH, DELETE, Events, metrics, status); `kubectl krosai plan`
// reads the same facts read-only, calls Next and describes the decision. So
// a prediction cannot disagree with the operator: there is one rule for each
// choice, and a table test (decide_test.go) holds every branch.
//
// Nothing here does I/O, reads a clock or holds a Kubernetes client: a fact
// that is needed and not yet read makes Next answer ActionRead.
package decide

import (
	"time"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/internal/tenancy"
)

// Facts are what a decision about one KrosEndpoint is made from. A field
// whose Read is false has not been read; Next asks for it when a rule needs
// it, so the controller reads only what the resource's path needs.
type Facts struct {
	// Resource is the KrosEndpoint as last read.
	Resource *cockpitv1alpha1.KrosEndpoint
	// Access is what the resource's namespace may reach through shared
	// credentials, as the KrosGrants selecting it say.
	Access Access
	// Secrets are what its Secrets resolved to.
	Secrets Secrets
	// Remote is the endpoint the resource names, as KrosAI answered for it.
	Remote Lookup
	// Claims are the KrosEndpoints of the whole cluster (the resource itself
	// may be among them): which endpoint each claims.
	Claims Claims
	// Listing is a list of the organization's endpoints sent after Remote
	// was read: it confirms a deletion, or finds what an interrupted create
	// made.
	Listing Listing
	// SigningSecret is what holds the name of a webhook's signing Secret.
	SigningSecret SigningSecret
	// Operator is what the running operator remembers; its zero value is a
	// freshly started operator's, which is what the planner assumes.
	Operator Memory
}

// Access is a namespace's access, as tenancy.Resolve reads the KrosGrants.
type Access struct {
	Read bool
	tenancy.Access
}

// Secrets are a resource's Secrets resolved to plain values
// (mapping.Resolve), or the error that stopped them.
type Secrets struct {
	Read bool
	mapping.Resolved
	Err error
}

// LookupState says what a read of the remote endpoint found.
type LookupState int

const (
	// NotRead: the endpoint has not been read.
	NotRead LookupState = iota
	// Found: KrosAI holds the endpoint (Lookup.Endpoint).
	Found
	// Gone: KrosAI said the endpoint does not exist: a 404 naming it, or,
	// for the planner, a list without it.
	Gone
	// Failed: the read failed (Lookup.Err) and says nothing of the
	// endpoint.
	Failed
)

// Lookup is one read of the remote endpoint.
type Lookup struct {
	State    LookupState
	Endpoint krosai.Endpoint
	Err      error
}

// LookupOf is the lookup a read of an endpoint answered with e or err. Only
// a 404 naming the endpoint (with the API's ENDPOINT_NOT_FOUND code where it
// sends a code) says it is gone: a 404 with another code is a path the API or
// a gateway does not route, and a failed list says nothing of any endpoint.
func LookupOf(e *krosai.Endpoint, err error) Lookup {
	switch {
	case err == nil:
		return Lookup{State: Found, Endpoint: *e}
	case EndpointGone(err):
		return Lookup{State: Gone, Err: err}
	default:
		return Lookup{State: Failed, Err: err}
	}
}

// Claims are the cluster's KrosEndpoints.
type Claims struct {
	Read  bool
	Items []cockpitv1alpha1.KrosEndpoint
}

// Listing is a list of an organization's endpoints, or why it failed.
type Listing struct {
	Read      bool
	Endpoints []krosai.Endpoint
	Err       error
}

// SigningSecret says whether the name of a webhook's signing Secret
// (mapping.SigningSecretName) is held by a Secret the resource does not
// control.
type SigningSecret struct {
	Read          bool
	HeldByAnother bool
}

// Memory is what only a running operator knows.
type Memory struct {
	// WroteLast reports that the latest the operator knows of the endpoint
	// the resource names is its own write for this resource: a reconcile
	// that runs before the cache shows the status that write produced is not
	// adopting anything.
	WroteLast bool
	// SIPLogin is what the operator knows of the SIP login the endpoint
	// holds, which KrosAI never returns.
	SIPLogin SIPLoginKnowledge
	// RecreationLimitReached reports that the endpoint was re-created as
	// often as the operator allows within an hour.
	RecreationLimitReached bool
	// ReadRecently reports that KrosAI was read for the endpoint within the
	// freshness bound (two sync periods). NotReadSince is the time after
	// which it was not: the last read, or, when this process has read
	// nothing of it yet, when the process started.
	ReadRecently bool
	NotReadSince time.Time
	// Deleted reports that the operator deleted the endpoint lately: a
	// reconcile of a resource being deleted, from a cache that has not yet
	// seen its finalizer go, need not delete it again.
	Deleted bool
}

// SIPLoginKnowledge is what the operator knows of the SIP login an endpoint
// holds.
type SIPLoginKnowledge int

const (
	// SIPLoginUnknown: nothing in memory; status's record of the Secret's
	// resourceVersion, when the operator last pushed it, decides.
	SIPLoginUnknown SIPLoginKnowledge = iota
	// SIPLoginCurrent: the operator's own write carried the current login.
	SIPLoginCurrent
	// SIPLoginStale: the operator's own write carried a login the Secret no
	// longer holds.
	SIPLoginStale
)
