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

package operator_test

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/crds"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operator"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

// The operator in-process, against envtest's API server (KUBEBUILDER_ASSETS
// set, as make test does) and the simulator: the KrosEndpoint becomes
// Ready and the simulator holds the endpoint it describes.
func ExampleSetup() {
	g := gomega.NewGomega(func(message string, _ ...int) { panic(message) }) // gomega.NewWithT(t) in a test

	crdList, err := crds.All()
	g.Expect(err).NotTo(gomega.HaveOccurred())
	env := &envtest.Environment{CRDs: crdList}
	cfg, err := env.Start()
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // the manager stops before the API server

	const key, org = "kros_test_example_key_0000000000000000", "11111111-1111-4111-8111-111111111111"
	sim, err := krosaisim.New(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: key, Org: org}}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer func() { _ = sim.Close() }()

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  operator.NewScheme(),
		Cache:   operator.CacheOptions("kros-system", nil),
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(operator.Setup(mgr, operator.Options{
		APIURL:             sim.APIURL(),
		DefaultCredentials: types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"},
	})).To(gomega.Succeed())
	go func() { _ = mgr.Start(ctx) }()

	c := mgr.GetClient()
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kros-system"}})).To(gomega.Succeed())
	g.Expect(c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kros-system", Name: "krosai-credentials"},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: key},
	})).To(gomega.Succeed())
	ep := &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kros-system", Name: "support"},
		Spec: cockpitv1alpha1.KrosEndpointSpec{
			Type:   cockpitv1alpha1.EndpointTypeRetell,
			Retell: &cockpitv1alpha1.RetellConfig{AgentID: "agent_1"},
		},
	}
	g.Expect(c.Create(ctx, ep)).To(gomega.Succeed())

	ready := operatortest.WaitReady(ctx, g, client.Reader(c), ep, 30*time.Second, 100*time.Millisecond)
	remote, _ := sim.Endpoint(ready.Status.ID)
	fmt.Println(remote.Name, remote.Type, remote.OrganizationID == org)
	// Output: support retell true
}
