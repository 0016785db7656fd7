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

package example

import (
	"context"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

// pbxPassword is team B's SIP password in testdata/gitops.
const pbxPassword = "pbx-password-from-the-vault"

// TestGitOpsTreeBecomesReady applies the tree as Argo CD or Flux would and
// checks both sides: every KrosEndpoint is Ready, and the KrosAI API (the
// simulator) holds exactly the endpoints the tree describes, in the right
// organizations, with the SIP password pushed and the webhook's signing
// secret handed back in a Secret.
func TestGitOpsTreeBecomesReady(t *testing.T) {
	g := NewWithT(t)
	applied, err := apply("testdata/gitops")
	g.Expect(err).NotTo(HaveOccurred())

	want := map[string]struct{ org, remoteType string }{
		"team-a/support-line": {platformOrg, "retell"},
		"team-a/call-events":  {platformOrg, "webhook"},
		"team-b/office-pbx":   {teamBOrg, "custom_sip"},
	}
	ready := map[string]*cockpitv1alpha1.KrosEndpoint{}
	for _, obj := range applied {
		if obj.GetKind() != "KrosEndpoint" {
			continue
		}
		ep := &cockpitv1alpha1.KrosEndpoint{}
		ep.Namespace, ep.Name = obj.GetNamespace(), obj.GetName()
		ready[ep.Namespace+"/"+ep.Name] = operatortest.WaitReady(ctx, g, k8sClient, ep, timeout, interval)
	}
	g.Expect(ready).To(HaveLen(len(want)))

	byOrg := sim.Endpoints()
	g.Expect(byOrg[platformOrg]).To(HaveLen(2))
	g.Expect(byOrg[teamBOrg]).To(HaveLen(1))
	for key, ep := range ready {
		remote, ok := sim.Endpoint(ep.Status.ID)
		g.Expect(ok).To(BeTrue(), "%s: endpoint %s not in the simulator", key, ep.Status.ID)
		g.Expect(remote.OrganizationID).To(Equal(want[key].org), key)
		g.Expect(remote.Type).To(Equal(want[key].remoteType), key)
		g.Expect(remote.Name).To(Equal(ep.Spec.DisplayName), key)
	}

	pbx, _ := sim.Endpoint(ready["team-b/office-pbx"].Status.ID)
	g.Expect(pbx.ProviderConfig).To(HaveKeyWithValue("password", pbxPassword))

	webhook := ready["team-a/call-events"]
	remote, _ := sim.Endpoint(webhook.Status.ID)
	g.Expect(remote.Secret).NotTo(BeEmpty())
	var signing corev1.Secret
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: webhook.Status.SigningSecretName},
		&signing)).To(Succeed())
	g.Expect(string(signing.Data["signingSecret"])).To(Equal(remote.Secret))
	secrets.Add(remote.Secret, "the webhook's signing secret")
}

// TestRateLimitBurst starves the platform key with 429s while a KrosEndpoint
// is created: the operator reports the wait, and once the API recovers
// makes the endpoint exactly once.
func TestRateLimitBurst(t *testing.T) {
	g := NewWithT(t)
	ep := newRetell(g, "burst")

	// One request per 10 seconds per key after a burst of one, which this
	// test spends itself: the operator's first request is answered 429 with
	// a Retry-After longer than the suite's RetryBackoffCap, so the operator
	// reports the wait instead of sleeping through it.
	g.Expect(sim.SetFaults(krosaisim.Faults{RateLimit: 0.1, Burst: 1})).To(Succeed())
	t.Cleanup(func() { g.Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed()) })
	g.Expect(listWith(platformKey)).To(Equal(http.StatusOK))
	refused := countStatus(http.StatusTooManyRequests)
	g.Expect(k8sClient.Create(ctx, ep)).To(Succeed())

	g.Eventually(func() int { return countStatus(http.StatusTooManyRequests) }, timeout, interval).
		Should(BeNumerically(">", refused))
	g.Eventually(operatortest.Get(ctx, k8sClient, ep), timeout, interval).
		Should(HaveField("Status.Conditions", ContainElement(And(
			HaveField("Type", cockpitv1alpha1.ConditionReady),
			HaveField("Reason", cockpitv1alpha1.ReasonRateLimited)))))

	// The API recovers; the operator resumes on its own when the wait the
	// 429 asked for ends.
	g.Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed())
	got := operatortest.WaitReady(ctx, g, k8sClient, ep, timeout, interval)
	g.Expect(namedInSimulator(platformOrg, "burst")).To(ConsistOf(HaveField("ID", got.Status.ID)))
}

// TestCommitThenFail makes the API create the endpoint and then lose the
// answer (a 500 or a dropped connection): the operator cannot know whether
// its POST took, finds the endpoint it made instead of making a second, and
// becomes Ready with it.
func TestCommitThenFail(t *testing.T) {
	g := NewWithT(t)
	ep := newRetell(g, "flaky")
	g.Expect(sim.SetFaults(krosaisim.Faults{CommitThenFailRate: 1})).To(Succeed())
	t.Cleanup(func() { g.Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed()) })
	g.Expect(k8sClient.Create(ctx, ep)).To(Succeed())

	var committed string
	g.Eventually(func() string {
		for _, r := range sim.Requests() {
			if r.Operation == "createEndpoint" && r.Fault == krosaisim.FaultCommitThenFail {
				if e, ok := sim.Endpoint(r.EndpointID); ok && e.Name == "flaky" {
					committed = r.EndpointID
				}
			}
		}
		return committed
	}, timeout, interval).ShouldNot(BeEmpty())

	g.Expect(sim.SetFaults(krosaisim.Faults{})).To(Succeed())
	got := operatortest.WaitReady(ctx, g, k8sClient, ep, timeout, interval)
	g.Expect(got.Status.ID).To(Equal(committed))
	g.Expect(namedInSimulator(platformOrg, "flaky")).To(HaveLen(1))
}

// newRetell creates a namespace named name and returns a Retell
// KrosEndpoint in it, displayed as name, on the default credentials.
func newRetell(g Gomega, name string) *cockpitv1alpha1.KrosEndpoint {
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	return &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: name},
		Spec: cockpitv1alpha1.KrosEndpointSpec{
			Type:        cockpitv1alpha1.EndpointTypeRetell,
			DisplayName: name,
			Retell:      &cockpitv1alpha1.RetellConfig{AgentID: "agent_" + name},
		},
	}
}

// namedInSimulator returns the simulator's endpoints of org named name.
func namedInSimulator(org, name string) []krosaisim.Endpoint {
	var out []krosaisim.Endpoint
	for _, e := range sim.Endpoints()[org] {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// countStatus counts the API requests answered with status, every operation.
func countStatus(status int) int {
	n := 0
	for op := range sim.Stats().Operations {
		n += sim.Stats().Count(op, status)
	}
	return n
}

// listWith lists endpoints with key, as any other client of the API would.
func listWith(key string) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, sim.APIURL()+"/endpoints", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
