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

package mapping

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

// Which KrosEndpoint claims which remote endpoint: the rules the controller
// follows before it adopts, recovers or deletes, and that the CLI follows to
// predict it and to find what nobody claims.

// CreateClockSkew widens the window in which a remote endpoint's created_at
// counts as "since the create was recorded": the operator's clock and the
// API's need not agree.
const CreateClockSkew = 2 * time.Minute

// PendingCreate is the create-pending record: when the POST was sent, the
// name and type it carried, and fingerprints of the rest: Readable of what
// the API returns (url, provider_config without SIP credentials), Unreadable
// of what it does not (phone_number_id). No secret goes into either.
type PendingCreate struct {
	At         time.Time `json:"at"`
	Name       string    `json:"name"`
	Type       string    `json:"type"`
	Readable   string    `json:"readable,omitempty"`
	Unreadable string    `json:"unreadable,omitempty"`
}

// NewPendingCreate is the record of sending desired at at.
func NewPendingCreate(at time.Time, desired krosai.EndpointCreate) PendingCreate {
	return PendingCreate{At: at, Name: desired.Name, Type: desired.Type,
		Readable: fingerprint(ReadableOfRequest(desired)), Unreadable: fingerprint(desired.PhoneNumberID)}
}

// String is the record as the annotation holds it.
func (p PendingCreate) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// CouldHaveMade reports whether the create p records could have made e. A
// record without a fingerprint (written by an earlier version, or by a
// person) matches by name, type and time alone.
func (p PendingCreate) CouldHaveMade(e krosai.Endpoint) bool {
	return e.Name == p.Name && e.Type == p.Type && !e.CreatedAt.Before(p.At.Add(-CreateClockSkew)) &&
		(p.Readable == "" || p.Readable == fingerprint(ReadableOfEndpoint(e)))
}

// ParsePendingCreate reads the record. A bare timestamp (as a person might
// write, to ask for recovery) takes the rest from the spec's request; an
// unreadable one matches any creation time.
func ParsePendingCreate(value string, desired krosai.EndpointCreate) PendingCreate {
	var p PendingCreate
	if err := json.Unmarshal([]byte(value), &p); err == nil && p.Name != "" && p.Type != "" {
		return p
	}
	at, _ := time.Parse(time.RFC3339Nano, value)
	return NewPendingCreate(at, desired)
}

// fingerprint is a short digest of v's JSON, for the create-pending record.
func fingerprint(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// ClaimantIn returns the resource of others that claims the remote id, by
// its id annotation or its status.
func ClaimantIn(others []cockpitv1alpha1.KrosEndpoint, id string) *cockpitv1alpha1.KrosEndpoint {
	for i := range others {
		if o := &others[i]; o.Annotations[cockpitv1alpha1.AnnotationEndpointID] == id || o.Status.ID == id {
			return o
		}
	}
	return nil
}

// PendingTwin returns a resource of others whose own interrupted create
// could have made e.
func PendingTwin(others []cockpitv1alpha1.KrosEndpoint, e krosai.Endpoint) *cockpitv1alpha1.KrosEndpoint {
	for i := range others {
		o := &others[i]
		record, pending := o.Annotations[cockpitv1alpha1.AnnotationCreatePending]
		if pending && ParsePendingCreate(record, krosai.EndpointCreate{Name: e.Name, Type: e.Type}).CouldHaveMade(e) {
			return o
		}
	}
	return nil
}

// Claimed reports whether some resource of all claims e: by its id
// annotation, its status, or the record of an interrupted create that could
// have made it.
func Claimed(all []cockpitv1alpha1.KrosEndpoint, e krosai.Endpoint) bool {
	return ClaimantIn(all, e.ID) != nil || PendingTwin(all, e) != nil
}

// RecoverCreate finds the endpoint an interrupted create may have made, by
// the record it left: the one endpoint of all with the recorded name and
// type, created since the record, whose readable fields match the recorded
// fingerprint, and that no resource of others claims. It returns nil if
// there is none (the POST never landed), or a *Stalled when it cannot tell:
// several candidates, or one that another resource's interrupted create
// could equally have made. It never guesses: a wrong guess routes one
// resource's calls to another's agent.
func RecoverCreate(ep *cockpitv1alpha1.KrosEndpoint, sent PendingCreate, all []krosai.Endpoint, others []cockpitv1alpha1.KrosEndpoint) (*krosai.Endpoint, error) {
	var candidates []krosai.Endpoint
	for _, e := range all {
		if sent.CouldHaveMade(e) && ClaimantIn(others, e.ID) == nil {
			candidates = append(candidates, e)
		}
	}
	if len(candidates) > 1 {
		ids := make([]string, 0, len(candidates))
		for _, c := range candidates {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		return nil, &Stalled{Reason: cockpitv1alpha1.ReasonAmbiguousCreate, Message: fmt.Sprintf(
			"an interrupted create may have made any of %d endpoints named %q of type %s created since %s: %s; "+
				"set the annotation %s to the one this resource owns and delete the others in KrosAI",
			len(ids), sent.Name, sent.Type, sent.At.Format(time.RFC3339), strings.Join(ids, ", "),
			cockpitv1alpha1.AnnotationEndpointID)}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	found := candidates[0]
	if twin := PendingTwin(others, found); twin != nil {
		return nil, &Stalled{Reason: cockpitv1alpha1.ReasonAmbiguousCreate, Message: fmt.Sprintf(
			"endpoint %s (named %q, type %s) could have been made by the interrupted create of this resource or of "+
				"%s, which sent the same readable fields; set the annotation %s to %s on the one that "+
				"owns it (the other then creates its own)",
			found.ID, found.Name, found.Type, Describe(ep, twin), cockpitv1alpha1.AnnotationEndpointID, found.ID)}
	}
	return &found, nil
}

// PhoneNumberClaimant returns the resource of others that claims the phone
// number ep declares, if it is not ep: one with an endpoint already (which
// may carry the number), else the one that declared it first, by creation
// time and then by namespace and name, so that of two new resources
// reconciled at once, each finds the same one first.
func PhoneNumberClaimant(ep *cockpitv1alpha1.KrosEndpoint, others []cockpitv1alpha1.KrosEndpoint) *cockpitv1alpha1.KrosEndpoint {
	number := ep.Spec.PhoneNumberID
	var first *cockpitv1alpha1.KrosEndpoint
	for i := range others {
		o := &others[i]
		if number == "" || !strings.EqualFold(o.Spec.PhoneNumberID, number) {
			continue
		}
		if o.Status.ID != "" || o.Annotations[cockpitv1alpha1.AnnotationEndpointID] != "" {
			return o
		}
		if first == nil || declaredBefore(o, first) {
			first = o
		}
	}
	if first == nil || ep.Status.ID != "" || !declaredBefore(first, ep) {
		return nil
	}
	return first
}

func declaredBefore(a, b *cockpitv1alpha1.KrosEndpoint) bool {
	return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time), strings.Compare(a.Namespace, b.Namespace),
		strings.Compare(a.Name, b.Name)) < 0
}

// EndpointID is the remote endpoint ep claims: its id annotation or, when
// the annotation was lost (kubectl replace, an Argo CD Replace sync) and no
// create is pending, the id status still names. restored reports the
// latter: the operator writes the annotation back rather than create a
// second endpoint.
func EndpointID(ep *cockpitv1alpha1.KrosEndpoint) (id string, restored bool) {
	id = ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	if _, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]; id == "" && !pending && ep.Status.ID != "" {
		return ep.Status.ID, true
	}
	return id, false
}

// ObservedID is the endpoint an ObserveOnly resource observes: its id
// annotation, else the id status names. ObserveOnly never creates, so a
// pending create record does not matter.
func ObservedID(ep *cockpitv1alpha1.KrosEndpoint) string {
	return cmp.Or(ep.Annotations[cockpitv1alpha1.AnnotationEndpointID], ep.Status.ID)
}
