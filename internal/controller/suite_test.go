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
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/pkg/krosaisim"
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
	testEnv   *envtest.Environment
	k8sClient client.Client
	sim       *krosaisim.Simulator
	apiURL    string
	logs      harness.LogBuffer
	// reconciler is the one the manager runs, for its metrics.
	reconciler *KrosEndpointReconciler
	// secretValues collects every API key, password and signing secret the
	// suite uses, to prove none leaks into logs, Events or status.
	secretValues = []string{defaultAPIKey}
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(&logs), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(cockpitv1alpha1.AddToScheme(scheme)).To(Succeed())

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	startControllerManager()

	sim, err = krosaisim.NewSimulator(krosaisim.Options{
		Keys:           []krosaisim.APIKey{{Key: defaultAPIKey, Org: defaultOrg}},
		RequestLogSize: 200000,
	})
	Expect(err).NotTo(HaveOccurred())
	server := httptest.NewServer(sim.Handler())
	DeferCleanup(server.Close)
	apiURL = server.URL + "/v1"

	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
	Expect(k8sClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: "krosai-credentials"},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: defaultAPIKey},
	})).To(Succeed())

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	Expect(err).NotTo(HaveOccurred())
	api, err := krosai.New(krosai.Config{
		BaseURL: apiURL, Timeout: 2 * time.Second, RateLimit: 500, Burst: 100,
		BackoffBase: 10 * time.Millisecond, BackoffCap: 500 * time.Millisecond,
	})
	Expect(err).NotTo(HaveOccurred())
	reconciler, err = Setup(mgr, api, Options{
		DefaultCredentials:      types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"},
		SyncPeriod:              syncPeriod,
		MaxConcurrentReconciles: 4,
	})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	By("checking that no secret value leaked into logs, Events or status")
	expectNoSecretLeaked()
	cancel()
	stopControllerManager()
	Expect(testEnv.Stop()).To(Succeed())
})

// startControllerManager runs kube-controller-manager's namespace and
// garbage-collector controllers: envtest runs none, so without them a
// namespace never finishes deleting and owned objects are never collected.
func startControllerManager() {
	dir := GinkgoT().TempDir()
	kubeconfig, err := harness.WriteKubeconfig(testEnv, dir, "kube-controller-manager", "system:masters")
	Expect(err).NotTo(HaveOccurred())
	assets := testEnv.BinaryAssetsDirectory
	if assets == "" {
		assets = os.Getenv("KUBEBUILDER_ASSETS")
	}
	kcm, err := harness.StartControllerManager(assets, dir, kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	stopControllerManager = kcm.Kill
}

// stopControllerManager ends kube-controller-manager before the API server,
// which otherwise waits for its connections until envtest's stop timeout.
var stopControllerManager = func() {}

var namespaceCount int

// newNamespace creates a namespace for one test.
func newNamespace() string {
	namespaceCount++
	name := fmt.Sprintf("test-%d", namespaceCount)
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	return name
}
