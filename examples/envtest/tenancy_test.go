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
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

// TestTeamAdoptsOnlyWhatItIsGranted is a platform team's check of its
// KrosGrants: a team's namespace may adopt an endpoint made in the
// dashboard only once its grant lists it, and until then the operator sends
// KrosAI nothing about it.
func TestTeamAdoptsOnlyWhatItIsGranted(t *testing.T) {
	g := NewWithT(t)
	reception := createInDashboard(g, "Reception", "agent_reception")
	since := time.Now()

	const team = "team-c"
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: team}})).To(Succeed())
	grant := &cockpitv1alpha1.KrosGrant{
		ObjectMeta: metav1.ObjectMeta{Name: team},
		Spec: cockpitv1alpha1.KrosGrantSpec{
			NamespaceSelector:    metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": team}},
			CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "krosai-credentials"},
		},
	}
	g.Expect(k8sClient.Create(ctx, grant)).To(Succeed())
	t.Cleanup(func() { g.Expect(k8sClient.Delete(ctx, grant)).To(Succeed()) })

	ep := &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: team, Name: "reception",
			Annotations: map[string]string{cockpitv1alpha1.AnnotationEndpointID: reception}},
		Spec: cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeRetell, DisplayName: "Reception",
			Retell: &cockpitv1alpha1.RetellConfig{AgentID: "agent_reception"}},
	}
	g.Expect(k8sClient.Create(ctx, ep)).To(Succeed())
	operatortest.WaitStalled(ctx, g, k8sClient, ep, cockpitv1alpha1.ReasonNotGranted, timeout, interval)
	for _, r := range sim.Requests() {
		g.Expect(r.Time.After(since) && r.EndpointID == reception).To(BeFalse(), "a request about it: %+v", r)
	}

	patch := client.MergeFrom(grant.DeepCopy())
	grant.Spec.EndpointIDs = []string{reception}
	g.Expect(k8sClient.Patch(ctx, grant, patch)).To(Succeed())
	got := operatortest.WaitReady(ctx, g, k8sClient, ep, timeout, interval)
	g.Expect(got.Status.ID).To(Equal(reception))
}

// createInDashboard makes a Retell endpoint in the platform's organization
// as a person in the dashboard would, and returns its id.
func createInDashboard(g Gomega, name, agent string) string {
	body, err := json.Marshal(map[string]any{"name": name, "type": "retell",
		"provider_config": map[string]string{"agent_id": agent}})
	g.Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, sim.APIURL()+"/endpoints",
		bytes.NewReader(body))
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+platformKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusCreated))
	var created struct{ ID string }
	g.Expect(json.NewDecoder(resp.Body).Decode(&created)).To(Succeed())
	return created.ID
}
