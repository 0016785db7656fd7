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

// Package operator is the kros-operator as a library: Setup wires its
// controllers into a controller-runtime manager, the same call cmd/main.go
// makes, so that a platform team's manager or test suite runs the real
// reconciler (against the real KrosAI API, or pkg/krosaisim).
//
//	mgr, _ := ctrl.NewManager(cfg, ctrl.Options{Scheme: operator.NewScheme()})
//	err := operator.Setup(mgr, operator.Options{
//		APIURL:             sim.APIURL(),
//		DefaultCredentials: types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"},
//	})
//
// The manager needs RBAC as config/rbac grants it, a cache that holds
// Secrets' metadata (CacheOptions), and the CRDs (pkg/crds).
//
// # Stability
//
// Setup, Options (fields are only added), NewScheme, CacheOptions and
// ShardCacheOptions are stable within a major version of the module. What the controllers do is
// described by the KrosEndpoint API (api/v1alpha1) and the documentation;
// the reconciler's internals, its log lines and the text of its condition
// messages are not part of the contract.
package operator

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/controller"
	"github.com/krosai/kros-operator/internal/krosai"
)

// Defaults of Options' zero values, the manager's flag defaults.
const (
	DefaultSyncPeriod              = 10 * time.Minute
	DefaultAPIRateLimit            = 8
	DefaultAPIBurst                = 8
	DefaultAPITimeout              = 10 * time.Second
	DefaultMaxConcurrentReconciles = 4
	DefaultObservationShare        = controller.DefaultObservationShare
)

// Options configure the operator. The zero value of each field but
// DefaultCredentials means its default.
type Options struct {
	// APIURL is the KrosAI Cockpit API's base URL. Default
	// https://api.krosai.com/v1; a krosaisim.Server's is its APIURL().
	APIURL string
	// DefaultCredentials is the Secret with the apiKey (and optional
	// organizationID) for KrosEndpoints without spec.apiKeySecretRef; its
	// namespace is the operator's. Required.
	DefaultCredentials types.NamespacedName
	// SyncPeriod is how often each endpoint is read again to correct
	// changes made outside Kubernetes (jittered by up to 10%). Default 10m.
	SyncPeriod time.Duration
	// APIRateLimit is the requests per second to the API per API key, and
	// APIBurst the burst. Defaults 8 and 8: within the Free plan's 10 req/s.
	APIRateLimit float64
	APIBurst     int
	// APIDailyQuota is the API keys' daily request quota (Free 1,000, Pro
	// 50,000, Business 500,000), for credentials Secrets without a
	// dailyQuota key; 0 leaves it unknown. ObservationShare is the share
	// of it that reading KrosAI on schedule may spend, listing an
	// organization less often than SyncPeriod when needed. Default 0.5.
	APIDailyQuota    int
	ObservationShare float64
	// APITimeout bounds one API request. Default 10s.
	APITimeout time.Duration
	// RetryBackoffBase is the first retry's wait after a 429, a 5xx or a
	// network error, doubled at each retry; RetryBackoffCap bounds each
	// wait. Defaults 200ms and 10s; tests shorten them.
	RetryBackoffBase time.Duration
	RetryBackoffCap  time.Duration
	// MaxConcurrentReconciles is how many KrosEndpoints are reconciled in
	// parallel. Default 4.
	MaxConcurrentReconciles int
	// UserAgent is sent with every API request. Default "kros-operator".
	UserAgent string
	// WatchLabelSelector makes this manager one shard of several: a label
	// selector (e.g. "sharding.krosai.com/key=shard1", or
	// "!sharding.krosai.com/key" for the resources no shard is named for) of
	// the KrosEndpoints it reconciles. The manager's cache must select the
	// same KrosEndpoints: build it with ShardCacheOptions and this string.
	// Empty: this manager reconciles every KrosEndpoint it caches.
	WatchLabelSelector string
	// RegisterMetrics registers the operator's metrics (kros_operator_* and
	// krosai_client_*) with controller-runtime's registry, which the
	// manager serves. A registry takes them once: a process that starts
	// several managers sets it for one at most.
	RegisterMetrics bool
	// EventReceiverBindAddress, when set (host:port), serves KrosAI's signed
	// endpoint events: a KrosEndpoint webhook marked spec.webhook.eventReceiver
	// points KrosAI at it, and an event makes the resources of the endpoint
	// it names read it within seconds (docs/events.md). Empty or "0": off.
	EventReceiverBindAddress string
	// EventReceiverCertDir holds tls.crt and tls.key for the receiver to
	// serve HTTPS; empty: plain HTTP, for TLS terminated in front of it.
	EventReceiverCertDir string
}

// Setup adds the operator's controllers to mgr: the KrosEndpoint
// reconciler, and the controller that releases Secrets no KrosEndpoint
// references any more. Start the manager afterwards.
func Setup(mgr ctrl.Manager, o Options) error {
	if o.DefaultCredentials.Namespace == "" || o.DefaultCredentials.Name == "" {
		return errors.New("operator: Options.DefaultCredentials needs a namespace and a name")
	}
	clientConfig := krosai.Config{
		BaseURL:     o.APIURL,
		UserAgent:   o.UserAgent,
		Timeout:     o.APITimeout,
		RateLimit:   o.APIRateLimit,
		Burst:       o.APIBurst,
		BackoffBase: o.RetryBackoffBase,
		BackoffCap:  o.RetryBackoffCap,
	}
	if o.RegisterMetrics {
		clientConfig.Registerer = ctrlmetrics.Registry
	}
	selector, err := parseWatchLabelSelector(o.WatchLabelSelector)
	if err != nil {
		return err
	}
	api, err := krosai.New(clientConfig)
	if err != nil {
		return err
	}
	if err := controller.Setup(mgr, api, controller.Options{
		DefaultCredentials:      o.DefaultCredentials,
		SyncPeriod:              cmp.Or(o.SyncPeriod, DefaultSyncPeriod),
		DailyQuota:              o.APIDailyQuota,
		ObservationShare:        o.ObservationShare,
		MaxConcurrentReconciles: cmp.Or(o.MaxConcurrentReconciles, DefaultMaxConcurrentReconciles),
		WatchLabelSelector:      selector,
		RegisterMetrics:         o.RegisterMetrics,
		EventReceiver: controller.EventReceiverOptions{
			BindAddress: o.EventReceiverBindAddress, CertDir: o.EventReceiverCertDir},
	}); err != nil {
		return fmt.Errorf("set up controllers: %w", err)
	}
	return nil
}

// NewScheme returns a scheme with the built-in types and KrosEndpoint: what
// the manager's clients must know.
func NewScheme() *runtime.Scheme { return cluster.NewScheme() }

// CacheOptions are the manager's cache options: managed fields stripped,
// and with watchNamespaces every type cached in those namespaces only, and
// Secrets also in operatorNamespace, for the default credentials. A
// KrosEndpoint in operatorNamespace is not reconciled unless it is listed.
func CacheOptions(operatorNamespace string, watchNamespaces []string) cache.Options {
	return controller.CacheOptions(operatorNamespace, watchNamespaces)
}

// ShardCacheOptions are CacheOptions for one shard of several: of the
// KrosEndpoints, only those watchLabelSelector selects are cached, and so
// reconciled; Options.WatchLabelSelector must be the same string. An empty
// selector gives CacheOptions. It fails on a selector that does not parse.
func ShardCacheOptions(operatorNamespace string, watchNamespaces []string, watchLabelSelector string) (
	cache.Options, error,
) {
	selector, err := parseWatchLabelSelector(watchLabelSelector)
	if err != nil {
		return cache.Options{}, err
	}
	return controller.ShardCacheOptions(operatorNamespace, watchNamespaces, selector), nil
}

func parseWatchLabelSelector(s string) (labels.Selector, error) {
	selector, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("operator: watch label selector %q: %w", s, err)
	}
	return selector, nil
}
