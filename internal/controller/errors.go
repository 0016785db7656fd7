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
	"errors"
	"fmt"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// This file is the one place that says what an error means for a
// KrosEndpoint: whether a retry can fix it, and the condition reason a user
// reads. errors_test.go holds its table.

// The error classes of the reconcile_errors_total metric.
const (
	classStalled     = "stalled"
	classRateLimited = "rate_limited"
	classTransient   = "transient"
)

// listError is a failure to list an organization's endpoints. It says
// nothing about any one endpoint: a list that answers 404, garbage or half a
// page is an API failure, never evidence that endpoints were deleted.
type listError struct {
	org string
	err error
}

func (e *listError) Error() string {
	return fmt.Sprintf("list the endpoints of KrosAI organization %s: %v", e.org, e.err)
}

func (e *listError) Unwrap() error { return e.err }

// terminalAPIError is a terminal API error with advice appended.
type terminalAPIError struct {
	err  error
	hint string
}

func (e *terminalAPIError) Error() string { return e.err.Error() + e.hint }
func (e *terminalAPIError) Unwrap() error { return e.err }

// classify maps an error to its metric class and condition reason.
func classify(err error) (class, reason string) {
	if stalled, ok := errors.AsType[*mapping.Stalled](err); ok {
		return classStalled, stalled.Reason
	}
	kind := krosai.KindOf(err)
	switch kind {
	case krosai.KindUnauthorized:
		return classStalled, cockpitv1alpha1.ReasonUnauthorized
	case krosai.KindForbidden:
		return classStalled, cockpitv1alpha1.ReasonForbidden
	case krosai.KindRateLimited:
		return classRateLimited, cockpitv1alpha1.ReasonRateLimited
	}
	if _, ok := errors.AsType[*listError](err); ok {
		// Whatever the list's status, the next sync lists again.
		return classTransient, cockpitv1alpha1.ReasonListFailed
	}
	switch kind {
	case krosai.KindInvalid:
		// Also a request that could not be built, such as a header value
		// Go refuses to send: sending it again cannot help.
		return classStalled, cockpitv1alpha1.ReasonInvalidRequest
	case krosai.KindOutcomeUnknown:
		return classTransient, cockpitv1alpha1.ReasonProgressing
	}
	return classTransient, cockpitv1alpha1.ReasonAPIUnavailable
}

// endpointGone reports the one evidence that an endpoint was deleted: a 404
// to a request naming it, with the API's ENDPOINT_NOT_FOUND code where it
// sends a code (a 404 with another code is a path the API or a gateway does
// not route). A failed list is never such evidence.
func endpointGone(err error) bool {
	if _, ok := errors.AsType[*listError](err); ok {
		return false
	}
	e, ok := errors.AsType[*krosai.Error](err)
	return ok && e.Kind == krosai.KindNotFound && (e.Code == "" || e.Code == krosai.CodeEndpointNotFound)
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
