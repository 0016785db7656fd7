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
	"testing"
	"time"

	. "github.com/onsi/gomega"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// TestErrorMeaning is the table of what each error means for a KrosEndpoint:
// retried or stalled, with which reason; whether it proves the endpoint
// gone; whether a create after it may have landed.
var (
	midnight = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	outage   = &krosai.Error{Kind: krosai.KindTransient, Op: "listEndpoints", Code: krosai.CodeUnavailable, NotSent: true,
		Since: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), RetryAt: time.Date(2026, 12, 6, 9, 5, 0, 0, time.UTC)}
)

func TestErrorMeaning(t *testing.T) {
	apiErr := func(kind krosai.Kind, op string, status int, code string) error {
		return &krosai.Error{Kind: kind, Op: op, StatusCode: status, Code: code}
	}
	listFailed := func(err error) error { return &ListError{Organization: "o", Err: err} }
	tests := []struct {
		name       string
		err        error
		class      Class
		reason     string
		gone       bool // deletion evidence
		notCreated bool // a POST that failed so cannot have landed
	}{
		{"a missing Secret", &mapping.Stalled{Reason: cockpitv1alpha1.ReasonSecretNotFound},
			ClassStalled, cockpitv1alpha1.ReasonSecretNotFound, false, false},
		{"a Secret value that cannot be sent", &mapping.Stalled{Reason: cockpitv1alpha1.ReasonSecretValueInvalid},
			ClassStalled, cockpitv1alpha1.ReasonSecretValueInvalid, false, false},
		{"credentials of another organization", &mapping.Stalled{Reason: cockpitv1alpha1.ReasonOrganizationChanged},
			ClassStalled, cockpitv1alpha1.ReasonOrganizationChanged, false, false},
		{"401", apiErr(krosai.KindUnauthorized, "getEndpoint", 401, "UNAUTHORIZED"),
			ClassStalled, cockpitv1alpha1.ReasonUnauthorized, false, true},
		{"403", apiErr(krosai.KindForbidden, "getEndpoint", 403, "KEY_EXPIRED"),
			ClassStalled, cockpitv1alpha1.ReasonForbidden, false, true},
		{"400, wrapped", fmt.Errorf("wrapped: %w", apiErr(krosai.KindInvalid, "createEndpoint", 400, "")),
			ClassStalled, cockpitv1alpha1.ReasonInvalidRequest, false, true},
		{"a request that could not be built", apiErr(krosai.KindInvalid, "getEndpoint", 0, ""),
			ClassStalled, cockpitv1alpha1.ReasonInvalidRequest, false, true},
		{"429", apiErr(krosai.KindRateLimited, "createEndpoint", 429, "RATE_LIMIT_EXCEEDED"),
			ClassRateLimited, cockpitv1alpha1.ReasonRateLimited, false, true},
		{"a create whose outcome is unknown", apiErr(krosai.KindOutcomeUnknown, "createEndpoint", 502, ""),
			ClassTransient, cockpitv1alpha1.ReasonProgressing, false, false},
		{"5xx", apiErr(krosai.KindTransient, "getEndpoint", 503, ""),
			ClassTransient, cockpitv1alpha1.ReasonAPIUnavailable, false, true},
		{"the endpoint's own 404", apiErr(krosai.KindNotFound, "getEndpoint", 404, krosai.CodeEndpointNotFound),
			ClassTransient, cockpitv1alpha1.ReasonAPIUnavailable, true, false},
		{"a 404 without a code", apiErr(krosai.KindNotFound, "getEndpoint", 404, ""),
			ClassTransient, cockpitv1alpha1.ReasonAPIUnavailable, true, false},
		{"a 404 for a path the API does not route", apiErr(krosai.KindNotFound, "getEndpoint", 404, "NOT_FOUND"),
			ClassTransient, cockpitv1alpha1.ReasonAPIUnavailable, false, false},
		{"a list that answers 404", listFailed(apiErr(krosai.KindNotFound, "listEndpoints", 404, krosai.CodeEndpointNotFound)),
			ClassTransient, cockpitv1alpha1.ReasonListFailed, false, false},
		{"a list that rejects its query", listFailed(apiErr(krosai.KindInvalid, "listEndpoints", 400, "")),
			ClassTransient, cockpitv1alpha1.ReasonListFailed, false, true},
		{"a list that is garbage", listFailed(apiErr(krosai.KindTransient, "listEndpoints", 200, "")),
			ClassTransient, cockpitv1alpha1.ReasonListFailed, false, true},
		{"a list refused for the key", listFailed(apiErr(krosai.KindUnauthorized, "listEndpoints", 401, "")),
			ClassStalled, cockpitv1alpha1.ReasonUnauthorized, false, true},
		{"a list rate limited", listFailed(apiErr(krosai.KindRateLimited, "listEndpoints", 429, "")),
			ClassRateLimited, cockpitv1alpha1.ReasonRateLimited, false, true},
		{"the daily quota spent", &krosai.Error{Kind: krosai.KindRateLimited, Op: "listEndpoints", StatusCode: 429,
			Code: krosai.CodeDailyLimitExceeded, RetryAt: midnight},
			ClassRateLimited, cockpitv1alpha1.ReasonDailyLimitExceeded, false, true},
		{"the daily quota spent, the list refused unsent", listFailed(&krosai.Error{Kind: krosai.KindRateLimited,
			Op: "listEndpoints", Code: krosai.CodeDailyLimitExceeded, RetryAt: midnight, NotSent: true}),
			ClassRateLimited, cockpitv1alpha1.ReasonDailyLimitExceeded, false, true},
		{"an outage: refused unsent until the next probe", listFailed(outage),
			ClassTransient, cockpitv1alpha1.ReasonAPIUnavailable, false, true},
		{"a Kubernetes error", errors.New("kube API server hiccup"),
			ClassTransient, cockpitv1alpha1.ReasonAPIUnavailable, false, false},
		{"a deletion hint keeps the meaning", withDeletionHint(apiErr(krosai.KindUnauthorized, "deleteEndpoint", 401, "")),
			ClassStalled, cockpitv1alpha1.ReasonUnauthorized, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			failure := classify(tt.err)
			if at, ok := krosai.RetryAtOf(tt.err); ok {
				g.Expect(failure.RetryAt).To(Equal(at), "when to try again, as the client said")
			}
			g.Expect(failure.Class).To(Equal(tt.class))
			g.Expect(failure.Reason).To(Equal(tt.reason))
			g.Expect(EndpointGone(tt.err)).To(Equal(tt.gone), "EndpointGone")
			state := Failed
			if tt.gone {
				state = Gone
			}
			g.Expect(LookupOf(nil, tt.err).State).To(Equal(state), "LookupOf")
			g.Expect(NotCreated(tt.err)).To(Equal(tt.notCreated), "NotCreated")
		})
	}
}
