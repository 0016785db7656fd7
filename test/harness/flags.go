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
	"cmp"
	"fmt"
	"net"
	"strconv"
	"time"
)

// ManagerFlags are bin/manager's flags as the suites, the demo and the
// benchmark set them: the one place that spells them. A zero field leaves
// the binary's default, except the metrics and probe addresses, which are
// off ("0") unless set: a suite never wants :8081 taken.
type ManagerFlags struct {
	Kubeconfig        string
	OperatorNamespace string
	// APIURL is the KrosAI API's base URL, a simulator's URL + "/v1".
	APIURL                  string
	SyncPeriod              time.Duration
	APIRateLimit            float64
	APIBurst                int
	APITimeout              time.Duration
	APIDailyQuota           int
	MaxConcurrentReconciles int
	LeaderElect             bool
	// MetricsAddr serves /metrics; InsecureMetrics serves them over plain
	// HTTP without authentication.
	MetricsAddr     string
	InsecureMetrics bool
	ProbeAddr       string
	PprofAddr       string
	// LogLevel is zap's level: debug, info, or a verbosity number.
	LogLevel string
	// EventReceiverAddr serves KrosAI's events; EventReceiverCertDir makes
	// it HTTPS with tls.crt and tls.key from there.
	EventReceiverAddr    string
	EventReceiverCertDir string
}

// Args are the flags as a command line.
func (f ManagerFlags) Args() []string {
	args := []string{
		"--metrics-bind-address=" + cmp.Or(f.MetricsAddr, "0"),
		"--health-probe-bind-address=" + cmp.Or(f.ProbeAddr, "0"),
	}
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	add("kubeconfig", f.Kubeconfig)
	add("operator-namespace", f.OperatorNamespace)
	add("krosai-api-url", f.APIURL)
	if f.SyncPeriod != 0 {
		add("sync-period", f.SyncPeriod.String())
	}
	if f.APIRateLimit != 0 {
		add("api-rate-limit", strconv.FormatFloat(f.APIRateLimit, 'f', -1, 64))
	}
	if f.APIBurst != 0 {
		add("api-burst", strconv.Itoa(f.APIBurst))
	}
	if f.APITimeout != 0 {
		add("api-timeout", f.APITimeout.String())
	}
	if f.APIDailyQuota != 0 {
		add("api-daily-quota", strconv.Itoa(f.APIDailyQuota))
	}
	if f.MaxConcurrentReconciles != 0 {
		add("max-concurrent-reconciles", strconv.Itoa(f.MaxConcurrentReconciles))
	}
	if f.LeaderElect {
		add("leader-elect", "true")
	}
	if f.InsecureMetrics {
		add("metrics-secure", "false")
	}
	add("pprof-bind-address", f.PprofAddr)
	add("zap-log-level", f.LogLevel)
	add("event-receiver-bind-address", f.EventReceiverAddr)
	add("event-receiver-cert-dir", f.EventReceiverCertDir)
	return args
}

// FreeAddr returns a loopback address, 127.0.0.1:PORT, that nothing
// listened on a moment ago: for a server of a process started next.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}
