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

// Package operatortest helps Gomega users test with the operator: matchers
// and waits for a KrosEndpoint's conditions, and a leak checker that looks
// for secret values (API keys, SIP passwords, signing secrets) everywhere
// the operator writes.
//
//	Eventually(operatortest.Get(ctx, k8sClient, ep)).Should(operatortest.BeReady())
//	Eventually(operatortest.Get(ctx, k8sClient, bad)).Should(operatortest.BeStalled(v1alpha1.ReasonSecretNotFound))
//
// It works the same in Ginkgo suites and in plain tests (gomega.NewWithT).
//
// # Stability
//
// The exported names are stable within a major version of the module.
// Failure messages, and the context a Leak quotes, may change.
package operatortest

import (
	"context"
	"fmt"
	"strings"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// Get returns a function for Eventually and Consistently that reads ep's
// current state through c.
func Get(ctx context.Context, c client.Reader,
	ep *cockpitv1alpha1.KrosEndpoint) func() (*cockpitv1alpha1.KrosEndpoint, error) {
	key := client.ObjectKeyFromObject(ep)
	return func() (*cockpitv1alpha1.KrosEndpoint, error) {
		got := &cockpitv1alpha1.KrosEndpoint{}
		return got, c.Get(ctx, key, got)
	}
}

// BeReady matches a KrosEndpoint whose Ready condition is True for its
// current generation, which status.observedGeneration has reached too: the
// operator has handled the spec as it is now.
func BeReady() types.GomegaMatcher { return conditionMatcher{} }

// BeStalled matches a KrosEndpoint whose Stalled condition is True with
// reason (one of the api's Reason constants), and whose Ready is False:
// the operator gave up until the spec or a Secret changes.
func BeStalled(reason string) types.GomegaMatcher { return conditionMatcher{stalled: reason} }

// WaitReady waits until ep is Ready (BeReady) and returns it as read. Pass
// gomega.Default in a Ginkgo suite, gomega.NewWithT(t) in a plain test;
// intervals are Eventually's (timeout, then polling interval).
func WaitReady(ctx context.Context, g gomega.Gomega, c client.Reader, ep *cockpitv1alpha1.KrosEndpoint,
	intervals ...any) *cockpitv1alpha1.KrosEndpoint {
	return waitFor(ctx, g, c, ep, BeReady(), intervals)
}

// WaitStalled waits until ep is Stalled with reason (BeStalled) and returns
// its Stalled condition. g and intervals are as for WaitReady.
func WaitStalled(ctx context.Context, g gomega.Gomega, c client.Reader, ep *cockpitv1alpha1.KrosEndpoint, reason string,
	intervals ...any) *metav1.Condition {
	got := waitFor(ctx, g, c, ep, BeStalled(reason), intervals)
	return meta.FindStatusCondition(got.Status.Conditions, cockpitv1alpha1.ConditionStalled)
}

// waitFor polls ep until it matches m and returns it as read. A failure is
// reported at the line that called WaitReady or WaitStalled.
func waitFor(ctx context.Context, g gomega.Gomega, c client.Reader, ep *cockpitv1alpha1.KrosEndpoint,
	m types.GomegaMatcher, intervals []any) *cockpitv1alpha1.KrosEndpoint {
	var got *cockpitv1alpha1.KrosEndpoint
	read := Get(ctx, c, ep)
	g.Eventually(func(g gomega.Gomega) {
		var err error
		got, err = read()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(got).To(m)
	}, intervals...).WithOffset(2).Should(gomega.Succeed())
	return got
}

// conditionMatcher is BeReady, or BeStalled when stalled names a reason.
type conditionMatcher struct{ stalled string }

func (m conditionMatcher) Match(actual any) (bool, error) {
	ep, err := endpointOf(actual)
	if err != nil {
		return false, err
	}
	conds := ep.Status.Conditions
	if m.stalled != "" {
		c := meta.FindStatusCondition(conds, cockpitv1alpha1.ConditionStalled)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == m.stalled &&
			meta.IsStatusConditionFalse(conds, cockpitv1alpha1.ConditionReady), nil
	}
	c := meta.FindStatusCondition(conds, cockpitv1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == ep.Generation &&
		ep.Status.ObservedGeneration == ep.Generation, nil
}

func (m conditionMatcher) FailureMessage(actual any) string { return m.message(actual, "to be") }

func (m conditionMatcher) NegatedFailureMessage(actual any) string {
	return m.message(actual, "not to be")
}

func (m conditionMatcher) message(actual any, verb string) string {
	want := "Ready at its generation"
	if m.stalled != "" {
		want = "Stalled with reason " + m.stalled
	}
	ep, err := endpointOf(actual)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("Expected KrosEndpoint %s/%s %s %s\n\tgeneration %d, status.observedGeneration %d, conditions:\n%s",
		ep.Namespace, ep.Name, verb, want, ep.Generation, ep.Status.ObservedGeneration, describe(ep.Status.Conditions))
}

func endpointOf(actual any) (*cockpitv1alpha1.KrosEndpoint, error) {
	switch ep := actual.(type) {
	case *cockpitv1alpha1.KrosEndpoint:
		if ep != nil {
			return ep, nil
		}
	case cockpitv1alpha1.KrosEndpoint:
		return &ep, nil
	}
	return nil, fmt.Errorf("want a *KrosEndpoint, got %T", actual)
}

// describe lists conditions one to a line, for failure messages.
func describe(conds []metav1.Condition) string {
	if len(conds) == 0 {
		return "\t\t(none)"
	}
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, "\t\t%s=%s %s (generation %d): %s\n", c.Type, c.Status, c.Reason, c.ObservedGeneration, c.Message)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
