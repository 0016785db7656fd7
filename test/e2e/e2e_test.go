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

package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

var _ = Describe("kros-operator", Ordered, func() {
	var leader *harness.Process

	BeforeAll(func() {
		leader = startManager()
		Eventually(func() bool { return isLeader(leader) }).WithTimeout(60 * time.Second).Should(BeTrue())
	})

	It("manages every sample through kubectl, under the RBAC config/rbac grants", func() {
		kubectl("create", "namespace", "samples")
		samples := filepath.Join(root, "config", "samples")
		kubectl("apply", "-n", "samples", "-k", samples)
		kubectl("wait", "-n", "samples", "--for=condition=Ready", "krosendpoints", "--all", "--timeout=90s")
		Expect(simEndpoints("")).To(HaveLen(7))

		By("editing one")
		kubectl("patch", "-n", "samples", "krosendpoint", "booking-retell", "--type=merge",
			"-p", `{"spec":{"displayName":"Booking (edited)","retell":{"agentID":"agent_v2"}}}`)
		Eventually(func() []krosaisim.Endpoint { return simEndpoints("Booking (edited)") }).WithTimeout(30 * time.Second).
			Should(ConsistOf(HaveField("ProviderConfig", HaveKeyWithValue("agent_id", "agent_v2"))))
		kubectl("wait", "-n", "samples", "--for=condition=Ready", "krosendpoint/booking-retell", "--timeout=30s")

		By("deleting them")
		kubectl("delete", "-n", "samples", "-k", samples, "--wait", "--timeout=90s")
		Expect(simEndpoints("")).To(ConsistOf(HaveField("Name", "Office PBX")),
			"only the deletionPolicy: Orphan sample stays")
		Expect(managerLog(leader)).NotTo(ContainSubstring("forbidden"), "the generated RBAC is sufficient")
	})

	It("serves metrics over TLS only to a ServiceAccount bound to the metrics-reader role", func() {
		By("making a scraper bound to kros-operator-metrics-reader, and a stranger")
		kubectl("create", "namespace", "monitoring")
		kubectl("create", "serviceaccount", "-n", "monitoring", "prometheus")
		kubectl("create", "serviceaccount", "-n", "monitoring", "stranger")
		kubectl("create", "clusterrolebinding", "prometheus-kros-metrics",
			"--clusterrole=kros-operator-metrics-reader", "--serviceaccount=monitoring:prometheus")
		scraper := kubectl("create", "token", "-n", "monitoring", "prometheus")
		stranger := kubectl("create", "token", "-n", "monitoring", "stranger")

		// The manager serves a self-signed certificate when given none.
		insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a throwaway local serving cert
		}}
		scrape := func(token string) (int, string) {
			req, err := http.NewRequest(http.MethodGet, metricsURLs[leader], nil)
			Expect(err).NotTo(HaveOccurred())
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
			}
			resp, err := insecure.Do(req)
			if err != nil {
				return 0, err.Error()
			}
			defer func() { _ = resp.Body.Close() }()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		status := func(token string) int { code, _ := scrape(token); return code }
		Eventually(status).WithArguments(scraper).WithTimeout(30 * time.Second).Should(Equal(http.StatusOK))
		_, body := scrape(scraper)
		Expect(body).To(ContainSubstring(`controller_runtime_max_concurrent_reconciles{controller="krosendpoint"}`))
		Expect(status(stranger)).To(Equal(http.StatusForbidden))
		Expect(status("")).To(Equal(http.StatusUnauthorized))
		Expect(status("not-a-token")).To(Equal(http.StatusUnauthorized))

		log := managerLog(leader)
		Expect(log).NotTo(ContainSubstring(strings.TrimSpace(scraper)))
		Expect(log).NotTo(ContainSubstring(strings.TrimSpace(stranger)))
		Expect(log).NotTo(ContainSubstring("forbidden"), "the generated RBAC lets the manager review tokens")
	})

	It("creates exactly one endpoint per resource when killed in the middle of creating 100", func() {
		const n = 100
		setSimFaults(krosaisim.Faults{Latency: 100 * time.Millisecond, LatencyJitter: 20 * time.Millisecond})
		DeferCleanup(setSimFaults, krosaisim.Faults{Latency: 20 * time.Millisecond, LatencyJitter: 5 * time.Millisecond})
		var manifests strings.Builder
		manifests.WriteString("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kill\n")
		for i := range n {
			fmt.Fprintf(&manifests, "---\napiVersion: cockpit.krosai.com/v1alpha1\nkind: KrosEndpoint\n"+
				"metadata:\n  name: kill-%03d\n  namespace: kill\n"+
				"spec:\n  type: elevenlabs\n  elevenLabs:\n    agentID: agent-%d\n", i, i)
		}
		path := filepath.Join(cp.Dir, "kill.yaml")
		Expect(os.WriteFile(path, []byte(manifests.String()), 0o600)).To(Succeed())

		before := simCreates()
		kubectl("apply", "-f", path)
		Eventually(func() int { return simCreates() - before }).
			WithTimeout(60 * time.Second).WithPolling(20 * time.Millisecond).Should(BeNumerically(">=", n/3))
		leader.Kill()
		createdBeforeKill := simCreates() - before

		restarted := startManager()
		start := time.Now()
		kubectl("wait", "-n", "kill", "--for=condition=Ready", "krosendpoints", "--all", "--timeout=180s")
		converged := time.Since(start)
		endpoints := simEndpoints("kill-")
		names := map[string]bool{}
		for _, e := range endpoints {
			names[e.Name] = true
		}
		Expect(endpoints).To(HaveLen(n), "exactly one remote endpoint per resource")
		Expect(names).To(HaveLen(n))
		AddReportEntry("kill mid-create", fmt.Sprintf(
			"%d resources; SIGKILL after %d creates; restarted manager converged in %s (lease expiry included); "+
				"%d remote endpoints, %d POSTs answered 201 in all",
			n, createdBeforeKill, converged.Round(100*time.Millisecond), len(endpoints), simCreates()-before))
		leader = restarted
	})

	It("hands over to a standby manager when the leader dies", func() {
		Eventually(func() bool { return isLeader(leader) }).WithTimeout(60 * time.Second).Should(BeTrue())
		standby := startManager()
		Consistently(func() bool { return isLeader(standby) }).WithTimeout(5*time.Second).Should(BeFalse(),
			"one manager is active at a time")

		killed := time.Now()
		leader.Kill()
		Eventually(func() bool { return isLeader(standby) }).
			WithTimeout(60 * time.Second).WithPolling(100 * time.Millisecond).Should(BeTrue())
		takeover := time.Since(killed)

		kubectl("create", "namespace", "takeover")
		livekit := filepath.Join(root, "config", "samples", "cockpit_v1alpha1_krosendpoint_livekit.yaml")
		kubectl("create", "-n", "takeover", "-f", livekit)
		kubectl("wait", "-n", "takeover", "--for=condition=Ready", "krosendpoint/triage-livekit", "--timeout=60s")
		AddReportEntry("leader election", fmt.Sprintf("standby took over %s after the leader was killed (lease 15s)",
			takeover.Round(100*time.Millisecond)))
	})
})
