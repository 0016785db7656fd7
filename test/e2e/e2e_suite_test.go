//go:build e2e

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

// Package e2e runs the real binaries as users run them: bin/manager under
// the ServiceAccount identity and RBAC that config/rbac grants, bin/krosai-sim,
// the kubectl plugin bin/kubectl-krosai, and kubectl, against a local control
// plane.
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	operatorNamespace = "kros-operator-system"
	serviceAccount    = "system:serviceaccount:" + operatorNamespace + ":kros-operator-controller-manager"
	apiKey            = "kros_test_e2ee2ee2ee2ee2ee2ee2ee2ee2ee2e"
	org               = "3c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
)

var (
	ctx           context.Context
	cancel        context.CancelFunc
	root          string
	cp            *harness.ControlPlane
	sim           *harness.Simulator
	managerConfig string
	managerCount  int
	// managers outlive the spec that starts them; AfterSuite stops them.
	managers []*harness.Process
	// metricsURLs are the managers' secure metrics endpoints.
	metricsURLs = map[*harness.Process]string{}
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kros-operator e2e")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	root, err = harness.Root()
	Expect(err).NotTo(HaveOccurred())
	for _, bin := range []string{"manager", "krosai-sim", "kubectl-krosai"} {
		Expect(filepath.Join(root, "bin", bin)).To(BeAnExistingFile(), "run through make test-e2e, which builds it")
	}

	By("starting the control plane with kube-controller-manager")
	cp, err = harness.StartControlPlane(harness.ControlPlaneOptions{ControllerManager: true,
		AuditPolicy: pluginAuditPolicy})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = cp.Stop() })

	By("starting krosai-sim")
	sim, err = harness.StartSimulator(filepath.Join(root, "bin", "krosai-sim"), harness.SimulatorOptions{},
		"--api-key", apiKey+"="+org, "--latency", "20ms", "--latency-jitter", "5ms")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(sim.Stop)

	By("installing config/default, all but the Deployment (no kubelet runs here)")
	objs, err := harness.Installer(root)
	Expect(err).NotTo(HaveOccurred())
	for _, obj := range objs {
		if obj.GetKind() == "Deployment" {
			continue
		}
		err := cp.Admin.Create(ctx, obj)
		Expect(err == nil || apierrors.IsAlreadyExists(err)).To(BeTrue(), "%s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
	Expect(cp.Admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: "krosai-credentials"},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: apiKey},
	})).To(Succeed())

	By("giving the manager its ServiceAccount's identity and nothing more")
	managerConfig, err = cp.Kubeconfig(serviceAccount, "system:serviceaccounts",
		"system:serviceaccounts:"+operatorNamespace, "system:authenticated")
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	for _, p := range managers {
		p.Stop()
	}
	if !CurrentSpecReport().Failed() && !suiteFailed {
		cancel()
		return
	}
	for _, p := range managers {
		GinkgoWriter.Printf("--- %s\n%s\n", p.Log, managerLog(p))
	}
	cancel()
})

// suiteFailed is set by any failed spec, so AfterSuite can show the logs.
var suiteFailed bool

var _ = ReportAfterEach(func(report SpecReport) {
	if report.Failed() {
		suiteFailed = true
	}
})

// startManager runs bin/manager as the operator's ServiceAccount.
func startManager() *harness.Process {
	GinkgoHelper()
	managerCount++
	metricsAddr, err := harness.FreeAddr()
	Expect(err).NotTo(HaveOccurred())
	p, err := harness.Start(filepath.Join(cp.Dir, fmt.Sprintf("manager-%d.log", managerCount)),
		filepath.Join(root, "bin", "manager"), harness.ManagerFlags{
			Kubeconfig:        managerConfig,
			OperatorNamespace: operatorNamespace,
			APIURL:            sim.APIURL(),
			LeaderElect:       true,
			SyncPeriod:        30 * time.Second,
			APIRateLimit:      100,
			APIBurst:          50,
			MetricsAddr:       metricsAddr,
		}.Args()...)
	Expect(err).NotTo(HaveOccurred())
	managers = append(managers, p)
	metricsURLs[p] = "https://" + metricsAddr + "/metrics"
	return p
}

// runLeadingManager starts a manager for the container whose BeforeAll calls
// it, stopped when the container ends, and waits until some manager leads:
// this one, or one an earlier container left running.
func runLeadingManager() {
	GinkgoHelper()
	By("running a leading manager")
	mine := startManager()
	// Stopped gracefully, it releases the lease for the next container's manager.
	DeferCleanup(mine.Stop)
	Eventually(func() bool {
		return slices.ContainsFunc(managers, func(p *harness.Process) bool { return !p.Exited() && isLeader(p) })
	}).WithTimeout(60 * time.Second).Should(BeTrue())
}

// managerLog returns what a manager printed so far.
func managerLog(p *harness.Process) string {
	b, err := os.ReadFile(p.Log)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// isLeader reports whether the manager has acquired the leader election lease.
func isLeader(p *harness.Process) bool {
	return strings.Contains(managerLog(p), "Successfully acquired lease")
}

func kubectl(args ...string) string {
	GinkgoHelper()
	out, err := cp.Kubectl(ctx, args...)
	Expect(err).NotTo(HaveOccurred())
	return out
}

// simEndpoints returns the simulator's endpoints whose names start with prefix.
func simEndpoints(prefix string) []krosaisim.Endpoint {
	GinkgoHelper()
	byOrg, err := sim.Admin().Endpoints(ctx)
	Expect(err).NotTo(HaveOccurred())
	var out []krosaisim.Endpoint
	for _, e := range byOrg[org] {
		if strings.HasPrefix(e.Name, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// simCreates returns how many creates the simulator has answered 201 to.
func simCreates() int {
	GinkgoHelper()
	st, err := sim.Admin().Stats(ctx)
	Expect(err).NotTo(HaveOccurred())
	return st.Count("createEndpoint", http.StatusCreated)
}

// setSimFaults replaces the simulator's faults at runtime.
func setSimFaults(f krosaisim.Faults) {
	GinkgoHelper()
	Expect(sim.Admin().SetFaults(ctx, f)).To(Succeed())
}
