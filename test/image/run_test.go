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

package image

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	operatorNamespace = "kros-operator-system"
	samplesNamespace  = "default"
	apiKey            = "kros_test_1mage1mage1mage1mage1mage1m"
	org               = "5d6e7f80-91a2-4b3c-8d4e-5f60718293a4"
)

func httpGet(url string) (int, string, error) {
	resp, err := http.Get(url) //nolint:gosec // a local test server
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestImageRuns runs /manager from the extracted root filesystem of the
// host's platform: --help, then against a local control plane (as admin)
// and the KrosAI simulator until a KrosEndpoint is Ready and an edit made
// at KrosAI has been corrected; then it scrapes the manager and checks that
// every metric the chart's alerts and dashboard use is exported.
func TestImageRuns(t *testing.T) {
	b, rootfs := hostImage(t)
	manager := filepath.Join(rootfs, "manager")
	g := NewWithT(t)

	help, err := exec.Command(manager, "--help").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s", help)
	g.Expect(string(help)).To(ContainSubstring("-krosai-api-url"))

	root, err := harness.Root()
	g.Expect(err).NotTo(HaveOccurred())
	cp, err := harness.StartControlPlane(harness.ControlPlaneOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = cp.Stop() })

	sim, err := krosaisim.New(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: apiKey, Org: org}}})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = sim.Close() })

	ctx := t.Context()
	g.Expect(cp.Admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
	g.Expect(cp.Admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: "krosai-credentials"},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: apiKey},
	})).To(Succeed())

	metricsAddr, err := harness.FreeAddr()
	g.Expect(err).NotTo(HaveOccurred())
	probeAddr, err := harness.FreeAddr()
	g.Expect(err).NotTo(HaveOccurred())
	eventsAddr, err := harness.FreeAddr() // the receiver's metrics, which an alert uses
	g.Expect(err).NotTo(HaveOccurred())
	p, err := harness.Start(filepath.Join(t.TempDir(), "manager.log"), manager, harness.ManagerFlags{
		Kubeconfig:        cp.AdminKubeconfig,
		OperatorNamespace: operatorNamespace,
		APIURL:            sim.APIURL(),
		LeaderElect:       true,
		SyncPeriod:        2 * time.Second,
		MetricsAddr:       metricsAddr,
		InsecureMetrics:   true,
		ProbeAddr:         probeAddr,
		EventReceiverAddr: eventsAddr,
	}.Args()...)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			log, _ := os.ReadFile(p.Log)
			t.Logf("manager log:\n%s", log)
		}
	})

	g.Eventually(func() (int, error) {
		code, _, err := httpGet("http://" + probeAddr + "/readyz")
		return code, err
	}).WithTimeout(30*time.Second).Should(Equal(http.StatusOK), "the manager is ready")

	sample := filepath.Join(root, "config", "samples", "cockpit_v1alpha1_krosendpoint_webhook.yaml")
	_, err = cp.Kubectl(ctx, "apply", "-n", samplesNamespace, "-f", sample)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = cp.Kubectl(ctx, "wait", "-n", samplesNamespace, "--for=condition=Ready", "krosendpoints", "--all",
		"--timeout=60s")
	g.Expect(err).NotTo(HaveOccurred())

	logText, err := os.ReadFile(p.Log)
	g.Expect(err).NotTo(HaveOccurred())
	labels := imageLabels(t, b)
	g.Expect(string(logText)).To(MatchRegexp(`"starting manager".*"version":\s*"%s",\s*"commit":\s*"%s",\s*"date":\s*"%s"`,
		regexp.QuoteMeta(b.version), labels["org.opencontainers.image.revision"], labels["org.opencontainers.image.created"]),
		"the version stamped at build time")

	// An edit at KrosAI while the spec is unchanged: the next sync undoes it
	// (a drift correction), which makes the namespace-labelled counter appear.
	kep := &unstructured.Unstructured{}
	kep.SetGroupVersionKind(cockpitv1alpha1.GroupVersion.WithKind("KrosEndpoint"))
	g.Expect(cp.Admin.Get(ctx, client.ObjectKey{Namespace: samplesNamespace, Name: "support-webhook"}, kep)).To(Succeed())
	id, _, _ := unstructured.NestedString(kep.Object, "status", "id")
	g.Expect(id).NotTo(BeEmpty())
	edited := "Edited in the KrosAI dashboard"
	_, err = sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Name: &edited})
	g.Expect(err).NotTo(HaveOccurred())

	var families map[string]*dto.MetricFamily
	g.Eventually(func(g Gomega) {
		code, body, err := httpGet("http://" + metricsAddr + "/metrics")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusOK))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err = parser.TextToMetricFamilies(strings.NewReader(body))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(families).To(HaveKey("kros_operator_drift_corrections_total"))
	}).WithTimeout(30*time.Second).WithPolling(time.Second).Should(Succeed(), "the edit at KrosAI is corrected")

	checkMonitoringMetrics(t, root, families)
}

func imageLabels(t *testing.T, b built) map[string]string {
	t.Helper()
	im, err := b.index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return im.Annotations
}
