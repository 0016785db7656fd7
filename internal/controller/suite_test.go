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
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/fixtures"
	"github.com/krosai/kros-operator/test/harness"
)

// The suite runs the real reconciler in a manager against a real API server
// and the KrosAI simulator, with kube-controller-manager's namespace and
// garbage-collector controllers so that deletions are the real ones.

const (
	operatorNamespace = "kros-system"
	defaultAPIKey     = "kros_test_defaultdefaultdefaultdefault0"
	defaultOrg        = "11111111-1111-4111-8111-111111111111"
	syncPeriod        = 2 * time.Second
)

var (
	ctx       context.Context
	cancel    context.CancelFunc
	cp        *harness.ControlPlane
	k8sClient client.Client
	sim       *krosaisim.Server
	apiURL    string
	logs      *operatortest.LogBuffer
	mgr       *harness.Manager
	fx        *fixtures.Set
	// secretValues collects every API key, password and signing secret the
	// suite uses, to prove none leaks into logs, Events, status or metrics.
	secretValues operatortest.Secrets
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	// Debug (V(1)), as the suite always has: at V(8) client-go logs the
	// bodies of the Secrets the reconciler reads, values included.
	logs = harness.LogToBuffer(1)
	ctx, cancel = context.WithCancel(context.Background())
	secretValues.Add(defaultAPIKey, "the default API key")

	var err error
	cp, err = harness.StartControlPlane(harness.ControlPlaneOptions{ControllerManager: true})
	Expect(err).NotTo(HaveOccurred())
	// Cleanups run after AfterSuite, even when it fails: nothing outlives the suite.
	DeferCleanup(cp.Stop)
	k8sClient = cp.Admin

	sim, err = krosaisim.New(krosaisim.Options{
		Keys:           []krosaisim.APIKey{{Key: defaultAPIKey, Org: defaultOrg}},
		RequestLogSize: 200000,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(sim.Close()).To(Succeed()) })
	apiURL = sim.APIURL()
	fx = &fixtures.Set{Ctx: ctx, Client: k8sClient, Sim: sim.Admin(), Secrets: &secretValues,
		NamespacePrefix: "test", OrgPrefix: "22222222-2222-4222-8222-", Timeout: timeout, Interval: interval}

	fx.OperatorCredentials(operatorNamespace, "krosai-credentials", defaultAPIKey)

	// The package's own wiring, Setup: this suite cannot import
	// pkg/operator, which imports this package.
	mgr, err = harness.StartManager(cp.Env.Config, func(m ctrl.Manager) error {
		api, err := krosai.New(krosai.Config{
			BaseURL: apiURL, Timeout: 2 * time.Second, RateLimit: 500, Burst: 100,
			BackoffBase: 10 * time.Millisecond, BackoffCap: 500 * time.Millisecond,
		})
		if err != nil {
			return err
		}
		return Setup(m, api, Options{
			DefaultCredentials:      types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"},
			SyncPeriod:              syncPeriod,
			MaxConcurrentReconciles: 4,
			RegisterMetrics:         true,
		})
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		cancel()
		Expect(mgr.Stop()).To(Succeed())
	})
})

var _ = AfterSuite(func() {
	By("checking that no secret value leaked into logs, Events, status or metrics")
	expectNoSecretLeaked()
})
