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
	suite     *fixtures.Suite
	ctx       context.Context
	cp        *harness.ControlPlane
	k8sClient client.Client
	sim       *krosaisim.Simulator
	apiURL    string
	fx        *fixtures.Set
	// secretValues collects every API key, password and signing secret the
	// suite uses, to prove none leaks into logs, Events, status or metrics.
	secretValues *operatortest.Secrets
)

// defaultCredentials is the operator's default credentials Secret.
var defaultCredentials = types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"}

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	suite = fixtures.StartSuite(fixtures.SuiteOptions{
		// Debug (V(1)), as the suite always has: at V(8) client-go logs the
		// bodies of the Secrets the reconciler reads, values included.
		LogVerbosity:       1,
		ControlPlane:       harness.ControlPlaneOptions{ControllerManager: true},
		Simulator:          krosaisim.Options{RequestLogSize: 200000},
		DefaultCredentials: defaultCredentials,
		DefaultKey:         defaultAPIKey,
		DefaultOrg:         defaultOrg,
		NamespacePrefix:    "test",
		OrgPrefix:          "22222222-2222-4222-8222-",
		Timeout:            timeout,
		Interval:           interval,
		// The package's own wiring, Setup: this suite cannot import
		// pkg/operator, which imports this package.
		Setup: func(m ctrl.Manager, url string) error {
			api, err := krosai.New(krosai.Config{
				BaseURL: url, Timeout: 2 * time.Second, RateLimit: 500, Burst: 100,
				BackoffBase: 10 * time.Millisecond, BackoffCap: 500 * time.Millisecond,
				OutageBackoffBase: 100 * time.Millisecond, OutageBackoffCap: time.Second,
			})
			if err != nil {
				return err
			}
			return Setup(m, api, Options{
				DefaultCredentials:      defaultCredentials,
				SyncPeriod:              syncPeriod,
				MaxConcurrentReconciles: 4,
				RegisterMetrics:         true,
			})
		},
	})
	fx, ctx, k8sClient, secretValues = suite.Set, suite.Ctx, suite.Client, suite.Secrets
	cp, sim, apiURL = suite.ControlPlane, suite.Sim, suite.APIURL
})

var _ = AfterSuite(func() {
	By("checking that no secret value leaked into logs, Events, status or metrics")
	suite.ExpectNoSecretLeaked()
})
