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

// Command manager runs the kros-operator controllers.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	// CA roots compiled in, used only when the system has none: the image
	// has no base layer and so no /etc/ssl/certs.
	_ "golang.org/x/crypto/x509roots/fallback"
	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// to ensure that exec-entrypoint and run can make use of them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/logredact"
	"github.com/krosai/kros-operator/internal/metricsauth"
	"github.com/krosai/kros-operator/pkg/operator"
)

// version, commit and date are set at build time with -ldflags
// "-X main.version=... -X main.commit=... -X main.date=..." (hack/build-manager.sh).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

var setupLog = ctrl.Log.WithName("setup")

// defaultLeaderElectionID is the Lease of a manager that is not one of
// several shards, and of releases before --leader-election-id.
const defaultLeaderElectionID = "kros-operator.cockpit.krosai.com"

// options are the manager's flags.
type options struct {
	apiURL                  string
	credentialsSecret       string
	operatorNamespace       string
	watchNamespaces         string
	watchLabelSelector      string
	syncPeriod              time.Duration
	apiRateLimit            float64
	apiBurst                int
	apiTimeout              time.Duration
	apiDailyQuota           int
	observationShare        float64
	maxConcurrentReconciles int

	metricsAddr, probeAddr string
	pprofAddr              string
	secureMetrics          bool
	enableHTTP2            bool
	leaderElect            bool
	leaderElectionID       string
	metricsCertPath        string
	metricsCertName        string
	metricsCertKey         string
	eventReceiverAddr      string
	eventReceiverCertDir   string
}

func parseFlags() (options, zap.Options) {
	var o options
	flag.StringVar(&o.apiURL, "krosai-api-url", krosai.DefaultBaseURL, "The KrosAI Cockpit API base URL.")
	flag.StringVar(&o.credentialsSecret, "krosai-credentials-secret", "krosai-credentials",
		"The Secret in the operator's namespace with the default apiKey (and optional organizationID), "+
			"for KrosEndpoints without spec.apiKeySecretRef.")
	flag.StringVar(&o.operatorNamespace, "operator-namespace", os.Getenv("POD_NAMESPACE"),
		"The operator's namespace. Defaults to $POD_NAMESPACE, which the Deployment sets from the downward API.")
	flag.StringVar(&o.watchNamespaces, "watch-namespaces", "",
		"Comma-separated namespaces to watch. Empty watches all namespaces.")
	flag.StringVar(&o.watchLabelSelector, "watch-label-selector", "",
		"Label selector of the KrosEndpoints this manager reconciles, e.g. sharding.krosai.com/key=shard1, or "+
			"!sharding.krosai.com/key for those no shard is named for: one shard of several Deployments, each "+
			"with its own --leader-election-id. Empty reconciles every KrosEndpoint watched.")
	flag.DurationVar(&o.syncPeriod, "sync-period", operator.DefaultSyncPeriod,
		"How often each endpoint is read again to correct changes made outside Kubernetes (jittered by up to 10%).")
	flag.Float64Var(&o.apiRateLimit, "api-rate-limit", operator.DefaultAPIRateLimit,
		"Requests per second to the KrosAI API per API key; keep it under your plan's limit.")
	flag.IntVar(&o.apiBurst, "api-burst", operator.DefaultAPIBurst,
		"Burst of requests to the KrosAI API per API key; the default, 8, stays within the Free plan's 10 req/s.")
	flag.IntVar(&o.apiDailyQuota, "api-daily-quota", 0,
		"Requests per day your plan allows per API key (Free 1000, Pro 50000, Business 500000), for credentials "+
			"Secrets without a dailyQuota key; 0: unknown, unless the API's headers say it.")
	flag.Float64Var(&o.observationShare, "observation-share", operator.DefaultObservationShare,
		"Share of an API key's daily quota that reading KrosAI on schedule may spend; organizations are listed "+
			"less often than --sync-period when needed, and the rest stays for writes.")
	flag.DurationVar(&o.apiTimeout, "api-timeout", operator.DefaultAPITimeout, "Timeout of one KrosAI API request.")
	flag.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", operator.DefaultMaxConcurrentReconciles,
		"KrosEndpoints reconciled in parallel.")
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "",
		"The address Go's pprof endpoints bind to, for profiling; empty disables them.")
	flag.BoolVar(&o.leaderElect, "leader-elect", false,
		"Enable leader election, so that only one of several replicas is active.")
	flag.StringVar(&o.leaderElectionID, "leader-election-id", defaultLeaderElectionID,
		"The name of the leader election Lease in the operator's namespace; each shard (--watch-label-selector) "+
			"needs its own.")
	flag.BoolVar(&o.secureMetrics, "metrics-secure", true,
		"Serve the metrics endpoint over HTTPS with authentication and authorization. "+
			"Use --metrics-secure=false for HTTP.")
	flag.StringVar(&o.metricsCertPath, "metrics-cert-path", "",
		"The directory that contains the metrics server certificate.")
	flag.StringVar(&o.metricsCertName, "metrics-cert-name", "tls.crt", "The name of the metrics server certificate file.")
	flag.StringVar(&o.metricsCertKey, "metrics-cert-key", "tls.key", "The name of the metrics server key file.")
	flag.BoolVar(&o.enableHTTP2, "enable-http2", false, "Enable HTTP/2 for the metrics server.")
	flag.StringVar(&o.eventReceiverAddr, "event-receiver-bind-address", "0",
		"The address KrosAI's signed endpoint events are received on (e.g. :9444), at "+
			"/krosai/events/<namespace>/<name> of a KrosEndpoint webhook with spec.webhook.eventReceiver. "+
			"\"0\" turns the receiver off. See docs/events.md.")
	flag.StringVar(&o.eventReceiverCertDir, "event-receiver-cert-dir", "",
		"A directory with tls.crt and tls.key for the event receiver to serve HTTPS, reloaded when they change. "+
			"Empty serves plain HTTP, for TLS terminated by an Ingress or a mesh.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	return o, zapOpts
}

func (o options) validate() error {
	switch {
	case o.operatorNamespace == "":
		return errors.New("--operator-namespace (or $POD_NAMESPACE) is required: it holds the default credentials Secret")
	case o.syncPeriod < time.Second:
		return errors.New("--sync-period must be at least 1s")
	case o.apiRateLimit <= 0 || o.apiBurst < 1:
		return errors.New("--api-rate-limit must be positive and --api-burst at least 1")
	case o.apiDailyQuota < 0 || !(o.observationShare > 0 && o.observationShare <= 1):
		return errors.New("--api-daily-quota must not be negative and --observation-share must be in (0, 1]")
	case o.maxConcurrentReconciles < 1:
		return errors.New("--max-concurrent-reconciles must be at least 1")
	case o.leaderElectionID == "":
		return errors.New("--leader-election-id must not be empty")
	}
	return nil
}

func main() {
	o, zapOpts := parseFlags()
	// At --zap-log-level 8 and above client-go logs the bodies it sends and
	// receives, Secrets' data included; logredact keeps them out.
	ctrl.SetLogger(logredact.New(zap.New(zap.UseFlagOptions(&zapOpts))))
	if err := run(o); err != nil {
		setupLog.Error(err, "manager failed")
		os.Exit(1)
	}
}

func run(o options) error {
	if err := o.validate(); err != nil {
		return err
	}
	if limit := setMemoryLimit(); limit > 0 {
		setupLog.Info("soft memory limit set to 90% of the container's", "bytes", limit)
	}
	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		// HTTP/2 Stream Cancellation and Rapid Reset (GHSA-qppj-fm5r-hxr3, GHSA-4374-p667-p6c8).
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOptions := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.secureMetrics, TLSOpts: tlsOpts}
	if o.secureMetrics {
		metricsOptions.FilterProvider = metricsauth.Filter
	}
	if o.metricsCertPath != "" {
		metricsOptions.CertDir = o.metricsCertPath
		metricsOptions.CertName, metricsOptions.KeyName = o.metricsCertName, o.metricsCertKey
	}

	var watchNamespaces []string
	for ns := range strings.SplitSeq(o.watchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			watchNamespaces = append(watchNamespaces, ns)
		}
	}
	cacheOptions, err := operator.ShardCacheOptions(o.operatorNamespace, watchNamespaces, o.watchLabelSelector)
	if err != nil {
		return fmt.Errorf("--watch-label-selector: %w", err)
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                        operator.NewScheme(),
		Cache:                         cacheOptions,
		Metrics:                       metricsOptions,
		HealthProbeBindAddress:        o.probeAddr,
		PprofBindAddress:              o.pprofAddr,
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              o.leaderElectionID,
		LeaderElectionNamespace:       o.operatorNamespace,
		LeaderElectionReleaseOnCancel: true, // the process exits as soon as the manager stops
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}

	if err := operator.Setup(mgr, operator.Options{
		APIURL:                   o.apiURL,
		DefaultCredentials:       types.NamespacedName{Namespace: o.operatorNamespace, Name: o.credentialsSecret},
		SyncPeriod:               o.syncPeriod,
		APIRateLimit:             o.apiRateLimit,
		APIBurst:                 o.apiBurst,
		APITimeout:               o.apiTimeout,
		APIDailyQuota:            o.apiDailyQuota,
		ObservationShare:         o.observationShare,
		MaxConcurrentReconciles:  o.maxConcurrentReconciles,
		WatchLabelSelector:       o.watchLabelSelector,
		UserAgent:                "kros-operator/" + version,
		RegisterMetrics:          true,
		EventReceiverBindAddress: o.eventReceiverAddr,
		EventReceiverCertDir:     o.eventReceiverCertDir,
	}); err != nil {
		return err
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	setupLog.Info("starting manager", "version", version, "commit", commit, "date", date,
		"apiURL", o.apiURL, "syncPeriod", o.syncPeriod, "watchLabelSelector", o.watchLabelSelector,
		"leaderElectionID", o.leaderElectionID, "eventReceiver", o.eventReceiverAddr)
	return mgr.Start(ctrl.SetupSignalHandler())
}
