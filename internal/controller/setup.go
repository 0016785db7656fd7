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
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/events"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// budgeter is the KrosAI client's account of an API key's daily budget.
type budgeter interface {
	Budget(krosai.Credentials) krosai.Budget
}

// DefaultObservationShare is the share of an API key's daily quota that
// reading KrosAI on schedule may spend by default: the rest stays for the
// writes users ask for and for the key's other users.
const DefaultObservationShare = 0.5

// Options tune the controllers.
type Options struct {
	// DefaultCredentials is the operator's credentials Secret, for
	// KrosEndpoints without spec.apiKeySecretRef.
	DefaultCredentials types.NamespacedName
	// SyncPeriod is how often each endpoint is read again to correct drift.
	SyncPeriod time.Duration
	// DailyQuota is the API keys' daily request quota, for credentials
	// Secrets that do not say theirs (0: unknown).
	DailyQuota int
	// ObservationShare is the share of a key's daily quota that reading
	// KrosAI on schedule may spend: an organization is listed less often
	// than SyncPeriod when needed (0: one half).
	ObservationShare        float64
	MaxConcurrentReconciles int
	// WatchLabelSelector, when not empty, is the label selector of the
	// KrosEndpoints this manager's cache holds (ShardCacheOptions): the
	// manager is one shard of several, and reads what concerns every shard
	// from the API server.
	WatchLabelSelector labels.Selector
	// RegisterMetrics registers the reconciler's metrics with controller-runtime's
	// registry; tests that start several managers in one process turn it off.
	RegisterMetrics bool
	// EventReceiver, when its BindAddress is set, serves KrosAI's signed
	// endpoint events (docs/events.md).
	EventReceiver EventReceiverOptions
}

// EventReceiverOptions configure the receiver of KrosAI's events.
type EventReceiverOptions struct {
	// BindAddress is host:port to serve on; empty or "0": no receiver.
	BindAddress string
	// CertDir holds tls.crt and tls.key to serve HTTPS; empty: plain HTTP,
	// for TLS terminated in front of the manager.
	CertDir string
	// MaxBodyBytes caps a delivery's body; 0: 1 MiB.
	MaxBodyBytes int64
}

// Setup builds the KrosEndpoint reconciler on mgr's clients, calling api,
// and registers it with the Secret release controller. It is the one
// wiring: pkg/operator.Setup (and so cmd/main.go) calls it, and so does this
// package's suite, which cannot import pkg/operator.
func Setup(mgr ctrl.Manager, api EndpointAPI, opts Options) error {
	r := &KrosEndpointReconciler{
		Client:             mgr.GetClient(),
		APIReader:          mgr.GetAPIReader(),
		API:                api,
		Recorder:           mgr.GetEventRecorder("kros-operator"),
		DefaultCredentials: opts.DefaultCredentials,
		SyncPeriod:         opts.SyncPeriod,
	}
	return r.setupWithManager(mgr, opts)
}

// CacheOptions are the manager's cache options. With watchNamespaces, every
// type is cached in those namespaces only, and Secrets also in the
// operator's namespace, for the default credentials: a KrosEndpoint there is
// not reconciled unless that namespace is listed.
func CacheOptions(operatorNamespace string, watchNamespaces []string) cache.Options {
	opts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if len(watchNamespaces) == 0 {
		return opts
	}
	opts.DefaultNamespaces = map[string]cache.Config{}
	for _, ns := range watchNamespaces {
		opts.DefaultNamespaces[ns] = cache.Config{}
	}
	secretNamespaces := maps.Clone(opts.DefaultNamespaces)
	secretNamespaces[operatorNamespace] = cache.Config{}
	opts.ByObject = map[client.Object]cache.ByObject{&corev1.Secret{}: {Namespaces: secretNamespaces}}
	return opts
}

// setupWithManager registers the KrosEndpoint controller and the controller
// that releases Secrets no KrosEndpoint references any more.
func (r *KrosEndpointReconciler) setupWithManager(mgr ctrl.Manager, opts Options) error {
	r.remote = newRemoteView(r.API.ListEndpoints, r.SyncPeriod)
	r.remote.observationShare = cmp.Or(opts.ObservationShare, DefaultObservationShare)
	r.dailyQuota = opts.DailyQuota
	r.remote.dailyQuota = func(cred krosai.Credentials) int {
		if b, ok := r.API.(budgeter); ok {
			return b.Budget(cred).Quota // configured, else learned from the API's headers
		}
		return cred.DailyQuota
	}
	r.secrets = newSecretReader(mgr.GetClient(), r.APIReader)
	if sharded(opts.WatchLabelSelector) {
		r.everyShard = r.APIReader
	}
	r.wakeups = newWakeups()
	r.metrics = newMetrics()
	r.metrics.freshness = r.remote.freshness
	if r.now == nil {
		r.now = time.Now
	}
	r.started = r.now()
	if opts.RegisterMetrics {
		if err := r.metrics.register(ctrlmetrics.Registry); err != nil {
			return err
		}
	}
	ctx := context.Background()
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(ctx, &cockpitv1alpha1.KrosEndpoint{}, indexSecretRefs, func(o client.Object) []string {
		return secretRefIndexValues(o.(*cockpitv1alpha1.KrosEndpoint), r.DefaultCredentials)
	}); err != nil {
		return err
	}

	if err := ctrl.NewControllerManagedBy(mgr).
		For(&cockpitv1alpha1.KrosEndpoint{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, userAnnotationsChanged()))).
		// Secret metadata only: a changed referenced Secret reaches its
		// referrers within seconds, and a deleted signing Secret is rewritten.
		Watches(cluster.SecretMetadata(), handler.EnqueueRequestsFromMapFunc(r.referrersOf), builder.OnlyMetadata,
			builder.WithPredicates(secretNews())).
		// A grant given, changed or taken back, or a namespace relabelled,
		// changes what the resources on shared credentials may reach.
		Watches(&cockpitv1alpha1.KrosGrant{}, handler.EnqueueRequestsFromMapFunc(r.sharedCredentialUsers)).
		Watches(cluster.NamespaceMetadata(), handler.EnqueueRequestsFromMapFunc(r.sharedCredentialUsersIn),
			builder.OnlyMetadata, builder.WithPredicates(labelsChanged())).
		// KrosAI's events wake the resources whose endpoint they name.
		WatchesRawSource(source.Func(r.wakeups.start)).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: max(opts.MaxConcurrentReconciles, 1),
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](time.Second, 5*time.Minute),
		}).
		Named("krosendpoint").
		Complete(r); err != nil {
		return err
	}

	if err := r.addEventReceiver(mgr, opts.EventReceiver, opts.RegisterMetrics); err != nil {
		return err
	}

	release := &SecretReleaseReconciler{Client: mgr.GetClient(), forget: r.secrets.forget,
		everyShard: r.everyShard, defaultCredentials: r.DefaultCredentials}
	return ctrl.NewControllerManagedBy(mgr).
		Named("secret-release").
		For(cluster.SecretMetadata(), builder.OnlyMetadata, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return controllerutil.ContainsFinalizer(o, cockpitv1alpha1.SecretInUseFinalizer)
		}))).
		Watches(&cockpitv1alpha1.KrosEndpoint{}, handler.Funcs{
			CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				enqueueLocalRefs(q, e.Object)
			},
			UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				enqueueLocalRefs(q, e.ObjectOld)
				enqueueLocalRefs(q, e.ObjectNew)
			},
			DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				enqueueLocalRefs(q, e.Object)
			},
		}).
		Complete(release)
}

// addEventReceiver serves KrosAI's events on their own address, if one is
// set. Every replica serves; those not leading answer 503.
func (r *KrosEndpointReconciler) addEventReceiver(mgr ctrl.Manager, o EventReceiverOptions, registerMetrics bool) error {
	if o.BindAddress == "" || o.BindAddress == "0" {
		return nil
	}
	cfg := events.Config{MaxBodyBytes: o.MaxBodyBytes, Leading: func() bool {
		select {
		case <-mgr.Elected():
			return true
		default:
			return false
		}
	}}
	if registerMetrics {
		cfg.Registerer = ctrlmetrics.Registry
	}
	h, err := events.NewHandler(eventDirectory{r}, cfg)
	if err != nil {
		return err
	}
	return mgr.Add(&events.Server{Addr: o.BindAddress, CertDir: o.CertDir, Handler: h})
}

// userAnnotationsChanged passes updates that change an annotation a user
// sets. The operator's own bookkeeping (create-pending, and the endpoint id it
// records after a create) is excluded, so a create costs one reconcile, not
// two; an id a user sets on a resource with no recorded id still passes.
func userAnnotationsChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		oldA, newA := e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations()
		for _, key := range []string{cockpitv1alpha1.AnnotationPaused, cockpitv1alpha1.AnnotationReconcileRequestedAt} {
			if oldA[key] != newA[key] {
				return true
			}
		}
		// The operator records an id and drops create-pending in one patch;
		// a user naming the endpoint after an ambiguous create leaves it.
		_, pendingOld := oldA[cockpitv1alpha1.AnnotationCreatePending]
		_, pendingNew := newA[cockpitv1alpha1.AnnotationCreatePending]
		idChanged := oldA[cockpitv1alpha1.AnnotationEndpointID] != newA[cockpitv1alpha1.AnnotationEndpointID]
		recordedByOperator := pendingOld && !pendingNew
		return idChanged && !recordedByOperator
	}}
}

// secretNews drops the Secret events a referrer has nothing to learn from,
// each of which would otherwise wake KrosEndpoints mid-create, from a cache
// that has not yet seen their own writes (a stale status written again, a
// create-pending record found without its id and recovered by a list):
//   - the creation of a webhook signing Secret, which its owner has just
//     written (at startup every KrosEndpoint is reconciled anyway);
//   - the update in which the operator adds its in-use finalizer and
//     changes nothing else. A data change shows only as a new
//     resourceVersion, but no write that adds our finalizer alone carries
//     one: ours patch metadata only.
func secretNews() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool {
			owner := metav1.GetControllerOf(e.Object)
			return owner == nil || owner.Kind != "KrosEndpoint" || owner.APIVersion != cockpitv1alpha1.GroupVersion.String()
		},
		UpdateFunc: func(e event.UpdateEvent) bool { return !onlyInUseFinalizerAdded(e.ObjectOld, e.ObjectNew) },
	}
}

func onlyInUseFinalizerAdded(oldObj, newObj client.Object) bool {
	if controllerutil.ContainsFinalizer(oldObj, cockpitv1alpha1.SecretInUseFinalizer) ||
		!controllerutil.ContainsFinalizer(newObj, cockpitv1alpha1.SecretInUseFinalizer) {
		return false
	}
	others := func(o client.Object) []string {
		return slices.DeleteFunc(slices.Clone(o.GetFinalizers()), func(f string) bool {
			return f == cockpitv1alpha1.SecretInUseFinalizer
		})
	}
	return slices.Equal(others(oldObj), others(newObj)) &&
		maps.Equal(oldObj.GetLabels(), newObj.GetLabels()) &&
		maps.Equal(oldObj.GetAnnotations(), newObj.GetAnnotations()) &&
		equality.Semantic.DeepEqual(oldObj.GetOwnerReferences(), newObj.GetOwnerReferences()) &&
		oldObj.GetDeletionTimestamp().Equal(newObj.GetDeletionTimestamp())
}

// labelsChanged passes a namespace whose labels changed: KrosGrants select
// namespaces by them. A new namespace holds no KrosEndpoint yet.
func labelsChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
		},
	}
}

// referrersOf maps a Secret to the KrosEndpoints that read it or own it.
// A Secret of the operator's namespace that a KrosGrant names is read by
// the resources of the namespaces it selects; they are among those on
// shared credentials.
func (r *KrosEndpointReconciler) referrersOf(ctx context.Context, secret client.Object) []reconcile.Request {
	key := types.NamespacedName{Namespace: secret.GetNamespace(), Name: secret.GetName()}
	if key.Namespace == r.DefaultCredentials.Namespace && key != r.DefaultCredentials && r.grantedCredentials(ctx, key.Name) {
		key = r.DefaultCredentials
	}
	requests := requestsFor(r.readersOf(ctx, key), "")
	if owner := metav1.GetControllerOf(secret); owner != nil && owner.Kind == "KrosEndpoint" &&
		owner.APIVersion == cockpitv1alpha1.GroupVersion.String() {
		requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: key.Namespace, Name: owner.Name}})
	} else if name, ok := mapping.SigningWebhookName(key.Name); ok {
		// A Secret in the way of a webhook's signing Secret: when it goes,
		// the webhook can write its own.
		requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: key.Namespace, Name: name}})
	}
	return requests
}

// readersOf lists, from the cache, the KrosEndpoints that read the Secret
// key (the default credentials' key stands for every shared one).
func (r *KrosEndpointReconciler) readersOf(ctx context.Context, key types.NamespacedName) []cockpitv1alpha1.KrosEndpoint {
	var referrers cockpitv1alpha1.KrosEndpointList
	if err := r.List(ctx, &referrers, client.MatchingFields{indexSecretRefs: key.String()}); err != nil {
		return nil
	}
	return referrers.Items
}

// grantedCredentials reports whether a KrosGrant names the Secret of that
// name in the operator's namespace.
func (r *KrosEndpointReconciler) grantedCredentials(ctx context.Context, name string) bool {
	grants, err := cluster.KrosGrants(ctx, r.Client)
	return err == nil && slices.ContainsFunc(grants, func(g cockpitv1alpha1.KrosGrant) bool {
		return g.Spec.CredentialsSecretRef != nil && g.Spec.CredentialsSecretRef.Name == name
	})
}

// sharedCredentialUsers maps a KrosGrant to the KrosEndpoints on shared
// credentials, whose access it may change. Grants change seldom, and a
// reconcile of a resource whose access did not change reads nothing of
// KrosAI: all of them is simpler than working out which namespaces the
// grant selected before.
func (r *KrosEndpointReconciler) sharedCredentialUsers(ctx context.Context, _ client.Object) []reconcile.Request {
	return requestsFor(r.readersOf(ctx, r.DefaultCredentials), "")
}

// sharedCredentialUsersIn maps a relabelled namespace to its KrosEndpoints
// on shared credentials.
func (r *KrosEndpointReconciler) sharedCredentialUsersIn(ctx context.Context, namespace client.Object) []reconcile.Request {
	return requestsFor(r.readersOf(ctx, r.DefaultCredentials), namespace.GetName())
}

// requestsFor are the requests of eps, of namespace only unless it is empty.
func requestsFor(eps []cockpitv1alpha1.KrosEndpoint, namespace string) []reconcile.Request {
	requests := make([]reconcile.Request, 0, len(eps))
	for _, ep := range eps {
		if namespace == "" || ep.Namespace == namespace {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ep.Namespace, Name: ep.Name}})
		}
	}
	return requests
}

// SecretReleaseReconciler removes the in-use finalizer from a Secret once no
// KrosEndpoint references it. It runs after the KrosEndpoint is gone, from
// the informer's own delete event, so two referrers finishing at once cannot
// both see the other and leave the finalizer behind.
type SecretReleaseReconciler struct {
	client.Client
	forget func(types.NamespacedName)
	// everyShard, when the cache holds one shard's KrosEndpoints only, reads
	// every shard's, uncached: another shard's may reference the Secret.
	everyShard         client.Reader
	defaultCredentials types.NamespacedName
}

// Reconcile releases one Secret if nothing references it.
func (r *SecretReleaseReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	secret := cluster.SecretMetadata()
	if err := r.Get(ctx, req.NamespacedName, secret); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !controllerutil.ContainsFinalizer(secret, cockpitv1alpha1.SecretInUseFinalizer) {
		return ctrl.Result{}, nil
	}
	var referrers cockpitv1alpha1.KrosEndpointList
	if err := r.List(ctx, &referrers, client.InNamespace(req.Namespace),
		client.MatchingFields{indexSecretRefs: req.String()}); err != nil {
		return ctrl.Result{}, err
	}
	if len(referrers.Items) > 0 {
		return ctrl.Result{}, nil
	}
	// This shard's resources reference it no more; another shard's may.
	if r.everyShard != nil {
		if referenced, err := r.referencedInAnyShard(ctx, req.NamespacedName); err != nil || referenced {
			return ctrl.Result{}, err
		}
	}
	if err := r.Patch(ctx, secret, removeInUseFinalizer); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.forget(req.NamespacedName)
	return ctrl.Result{}, nil
}

// removeInUseFinalizer removes ours alone from the finalizers the server
// holds: a patch computed from the cached copy would replace the list, and
// drop a finalizer another controller added that the cache has not seen.
var removeInUseFinalizer = client.RawPatch(types.StrategicMergePatchType,
	[]byte(`{"metadata":{"$deleteFromPrimitiveList/finalizers":["`+cockpitv1alpha1.SecretInUseFinalizer+`"]}}`))

// enqueueLocalRefs enqueues the Secrets in the KrosEndpoint's own namespace
// that it reads (the default credentials carry no finalizer of ours).
func enqueueLocalRefs(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object) {
	ep, ok := o.(*cockpitv1alpha1.KrosEndpoint)
	if !ok {
		return
	}
	for _, ref := range mapping.SecretRefs(ep, mapping.SecretRef{}) {
		if ref.Local {
			q.Add(reconcile.Request{NamespacedName: ref.Key})
		}
	}
}
