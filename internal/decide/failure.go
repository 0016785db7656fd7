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
	"errors"
	"fmt"
	"time"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// This file is the one place that says what an error means for a
// KrosEndpoint: whether a retry can fix it, the condition reason a user
// reads, and the advice its message carries. failure_test.go holds its
// table.

// Class is a failure's class, as the reconcile_errors_total metric counts it.
type Class string

// The classes.
const (
	// ClassStalled needs a person: no retry helps.
	ClassStalled Class = "stalled"
	// ClassRateLimited is retried after the wait the API asked for.
	ClassRateLimited Class = "rate_limited"
	// ClassTransient is retried with backoff.
	ClassTransient Class = "transient"
)

// Failure is what an error means for a KrosEndpoint. Message never holds a
// secret value: errors from the KrosAI client never do, and Secret errors
// name keys, never values.
type Failure struct {
	Class   Class
	Reason  string
	Message string
	// RetryAfter is the wait a rate-limited request asked for; RetryAt,
	// when set, when to try again: the end of the key's pause, or the next
	// probe of an organization KrosAI fails for.
	RetryAfter time.Duration
	RetryAt    time.Time
	// Err is the error, as explained.
	Err error
}

// Fail decides what err, met while reading or acting for the resource of f,
// means: ActionStall when no retry can fix it, else ActionRetry.
func Fail(f Facts, err error) Decision {
	err = explainOrganization(f, err)
	if !f.Resource.DeletionTimestamp.IsZero() {
		err = withDeletionHint(err)
	}
	failure := classify(err)
	if failure.Reason == cockpitv1alpha1.ReasonUnauthorized || failure.Reason == cockpitv1alpha1.ReasonForbidden {
		if key := f.Secrets.APIKeyRef; key.Key.Name != "" {
			failure.Message = fmt.Sprintf("%s; check the %s in Secret %s (%s)", failure.Message,
				cockpitv1alpha1.SecretKeyAPIKey, key.Key, key.Field)
		}
	}
	action := ActionRetry
	if failure.Class == ClassStalled {
		action = ActionStall
	}
	return Decision{Action: action, Failure: &failure}
}

// classify maps an error to its class and condition reason.
func classify(err error) Failure {
	failure := Failure{Class: ClassTransient, Reason: cockpitv1alpha1.ReasonAPIUnavailable, Message: err.Error(), Err: err}
	if stalled, ok := errors.AsType[*mapping.Stalled](err); ok {
		failure.Class, failure.Reason, failure.Message = ClassStalled, stalled.Reason, stalled.Message
		return failure
	}
	switch kind := krosai.KindOf(err); {
	case kind == krosai.KindUnauthorized:
		failure.Class, failure.Reason = ClassStalled, cockpitv1alpha1.ReasonUnauthorized
	case kind == krosai.KindForbidden:
		failure.Class, failure.Reason = ClassStalled, cockpitv1alpha1.ReasonForbidden
	case krosai.IsDailyLimit(err):
		failure.RetryAt, _ = krosai.RetryAtOf(err)
		failure.Class, failure.Reason = ClassRateLimited, cockpitv1alpha1.ReasonDailyLimitExceeded
		failure.Message = fmt.Sprintf("the API key's daily request quota at KrosAI is spent (%s): nothing is sent "+
			"with it until it resets at %s, when this resumes", krosai.CodeDailyLimitExceeded, at(failure.RetryAt))
	case kind == krosai.KindRateLimited:
		failure.RetryAfter, _ = krosai.RetryAfterOf(err)
		failure.RetryAt, _ = krosai.RetryAtOf(err)
		failure.Class, failure.Reason = ClassRateLimited, cockpitv1alpha1.ReasonRateLimited
		// No time in the message: it would change, and status with it, at
		// every 429; the client holds the key for seconds only.
		failure.Message = "the API key's rate limit at KrosAI is reached; requests with it resume when the API allows"
	case krosai.IsUnavailable(err):
		e, _ := errors.AsType[*krosai.Error](err)
		failure.RetryAt = e.RetryAt
		failure.Message = fmt.Sprintf("KrosAI has failed every request for this organization since %s (last answer: "+
			"%s); one request at a time probes it, backing off, and this resumes once one succeeds",
			at(e.Since), e.LastAnswer)
	case isListError(err):
		// Whatever the list's status, the next sync lists again.
		failure.Reason = cockpitv1alpha1.ReasonListFailed
	case kind == krosai.KindInvalid:
		// Also a request that could not be built, such as a header value
		// Go refuses to send: sending it again cannot help.
		failure.Class, failure.Reason = ClassStalled, cockpitv1alpha1.ReasonInvalidRequest
	case kind == krosai.KindOutcomeUnknown:
		failure.Reason = cockpitv1alpha1.ReasonProgressing
	}
	return failure
}

// at formats a time for a condition message: to the second, in UTC.
func at(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ListError is a failure to list an organization's endpoints. It says
// nothing about any one endpoint: a list that answers 404, garbage or half a
// page is an API failure, never evidence that endpoints were deleted.
type ListError struct {
	// Organization names the organization (mapping.OrganizationName).
	Organization string
	Err          error
}

func (e *ListError) Error() string {
	return fmt.Sprintf("list the endpoints of KrosAI organization %s: %v", e.Organization, e.Err)
}

func (e *ListError) Unwrap() error { return e.Err }

func isListError(err error) bool {
	_, ok := errors.AsType[*ListError](err)
	return ok
}

// EndpointGone reports the one evidence that an endpoint was deleted: a 404
// to a request naming it, such as a GET, PATCH or DELETE (see LookupOf).
func EndpointGone(err error) bool {
	if isListError(err) {
		return false
	}
	e, ok := errors.AsType[*krosai.Error](err)
	return ok && e.Kind == krosai.KindNotFound && (e.Code == "" || e.Code == krosai.CodeEndpointNotFound)
}

// NotCreated reports errors after which the API cannot have stored the
// endpoint a POST sent: it refused the request, or the request never left.
// The create-pending record can go then: there is nothing to recover.
func NotCreated(err error) bool {
	switch krosai.KindOf(err) {
	case krosai.KindInvalid, krosai.KindUnauthorized, krosai.KindForbidden, krosai.KindRateLimited, krosai.KindTransient:
		return true
	}
	return false
}

// explainOrganization turns the API's refusal of a pinned organization
// (mapping.Resolve keeps it) into what it means: the credentials
// no longer reach the organization the endpoint lives in.
func explainOrganization(f Facts, err error) error {
	res := f.Secrets.Resolved
	if !f.Secrets.Read || !res.PinnedOrganization || krosai.KindOf(err) != krosai.KindForbidden {
		return err
	}
	return &mapping.Stalled{Reason: cockpitv1alpha1.ReasonOrganizationChanged, Message: fmt.Sprintf(
		"the API key in Secret %q named by %s cannot reach KrosAI organization %s, where the endpoint lives (%v); "+
			"a key of another organization does not move an endpoint. Restore a key of organization %s, or move the "+
			"endpoint: set deletionPolicy: Orphan, delete this resource, and create one for the new organization",
		res.APIKeyRef.Key.Name, res.APIKeyRef.Field, res.Credentials.OrganizationID, err, res.Credentials.OrganizationID)}
}

// terminalAPIError is a terminal API error with advice appended.
type terminalAPIError struct {
	err  error
	hint string
}

func (e *terminalAPIError) Error() string { return e.err.Error() + e.hint }
func (e *terminalAPIError) Unwrap() error { return e.err }

// withDeletionHint tells the user how to let go of a resource whose remote
// endpoint cannot be deleted.
func withDeletionHint(err error) error {
	const hint = "; fix it, or set spec.deletionPolicy: Orphan to leave the endpoint in KrosAI and let the resource go"
	if stalled, ok := errors.AsType[*mapping.Stalled](err); ok {
		return &mapping.Stalled{Reason: stalled.Reason, Message: stalled.Message + hint}
	}
	if krosai.IsTerminal(err) {
		return &terminalAPIError{err: err, hint: hint}
	}
	return err
}
