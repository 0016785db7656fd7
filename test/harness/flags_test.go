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

package harness

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestManagerFlags(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ManagerFlags{}.Args()).To(Equal([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}),
		"servers off unless asked for, every other flag at the binary's default")
	g.Expect(ManagerFlags{
		Kubeconfig: "/k", OperatorNamespace: "ns", APIURL: "http://sim/v1", SyncPeriod: 10 * time.Second,
		APIRateLimit: 2.5, APIBurst: 3, APITimeout: 5 * time.Second, APIDailyQuota: 1000, MaxConcurrentReconciles: 6,
		LeaderElect: true, MetricsAddr: "127.0.0.1:1", InsecureMetrics: true, ProbeAddr: "127.0.0.1:2",
		PprofAddr: "127.0.0.1:3", LogLevel: "debug", EventReceiverAddr: "127.0.0.1:4", EventReceiverCertDir: "/certs",
	}.Args()).To(Equal([]string{
		"--metrics-bind-address=127.0.0.1:1", "--health-probe-bind-address=127.0.0.1:2",
		"--kubeconfig=/k", "--operator-namespace=ns", "--krosai-api-url=http://sim/v1", "--sync-period=10s",
		"--api-rate-limit=2.5", "--api-burst=3", "--api-timeout=5s", "--api-daily-quota=1000",
		"--max-concurrent-reconciles=6",
		"--leader-elect=true", "--metrics-secure=false", "--pprof-bind-address=127.0.0.1:3", "--zap-log-level=debug",
		"--event-receiver-bind-address=127.0.0.1:4", "--event-receiver-cert-dir=/certs",
	}))
}

func TestFreeAddr(t *testing.T) {
	g := NewWithT(t)
	addr, err := FreeAddr()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(addr).To(MatchRegexp(`^127\.0\.0\.1:[1-9][0-9]*$`))
}
