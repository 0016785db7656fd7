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
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/fixtures"
	"github.com/krosai/kros-operator/test/harness"
)

// shardLabel names the shard a KrosEndpoint belongs to, as docs/reliability.md#shards does.
const shardLabel = "sharding.krosai.com/key"

// byObjectOf returns the cache's settings for objects of type T.
func byObjectOf[T client.Object](opts cache.Options) (cache.ByObject, bool) {
	for o, by := range opts.ByObject {
		if _, ok := o.(T); ok {
			return by, true
		}
	}
	return cache.ByObject{}, false
}

func TestShardCacheOptions(t *testing.T) {
	const watched = "team-a"
	t.Run("without a selector, CacheOptions", func(t *testing.T) {
		for _, selector := range []labels.Selector{nil, labels.Everything()} {
			g := NewWithT(t)
			opts := ShardCacheOptions(operatorNamespace, []string{watched}, selector)
			g.Expect(opts).To(HaveField("DefaultNamespaces", HaveLen(1)))
			_, selected := byObjectOf[*cockpitv1alpha1.KrosEndpoint](opts)
			g.Expect(selected).To(BeFalse(), "KrosEndpoints are not narrowed by labels")
		}
	})
	t.Run("with a selector, KrosEndpoints selected and Secrets as before", func(t *testing.T) {
		g := NewWithT(t)
		selector := labels.SelectorFromSet(labels.Set{shardLabel: "a"})
		opts := ShardCacheOptions(operatorNamespace, []string{watched}, selector)

		endpoints, ok := byObjectOf[*cockpitv1alpha1.KrosEndpoint](opts)
		g.Expect(ok).To(BeTrue())
		g.Expect(endpoints.Label).To(Equal(selector))
		g.Expect(endpoints.Namespaces).To(BeNil(), "the watched namespaces, from DefaultNamespaces")
		g.Expect(opts.DefaultNamespaces).To(HaveKey(watched))
		g.Expect(opts.DefaultLabelSelector).To(BeNil(), "Secrets carry no shard's label")

		secrets, ok := byObjectOf[*corev1.Secret](opts)
		g.Expect(ok).To(BeTrue())
		g.Expect(secrets.Label).To(BeNil())
		g.Expect(secrets.Namespaces).To(SatisfyAll(HaveKey(watched), HaveKey(operatorNamespace)))
	})
	t.Run("with a selector and every namespace", func(t *testing.T) {
		g := NewWithT(t)
		selector, err := labels.Parse("!" + shardLabel)
		g.Expect(err).NotTo(HaveOccurred())
		opts := ShardCacheOptions(operatorNamespace, nil, selector)
		endpoints, ok := byObjectOf[*cockpitv1alpha1.KrosEndpoint](opts)
		g.Expect(ok).To(BeTrue())
		g.Expect(endpoints.Label.String()).To(Equal("!" + shardLabel))
		g.Expect(opts.DefaultNamespaces).To(BeEmpty())
	})
}

// A shard's release reconciler finds none of its own resources referencing
// the Secret; it keeps the finalizer while another shard's resource does.
func TestSecretReleaseAsksEveryShard(t *testing.T) {
	key := types.NamespacedName{Namespace: "team", Name: "sip"}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
		Finalizers: []string{cockpitv1alpha1.SecretInUseFinalizer}}}
	theirs := fixtures.NewEndpoint(key.Namespace, "theirs", cockpitv1alpha1.KrosEndpointSpec{
		Type: cockpitv1alpha1.EndpointTypeCustomSIP, CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:a@b.example",
			CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: key.Name}}})
	unrelated := fixtures.NewEndpoint(key.Namespace, "unrelated", elevenLabsSpec("a"))

	for name, tt := range map[string]struct {
		otherShards []client.Object
		released    bool
	}{
		"another shard's resource references it": {otherShards: []client.Object{theirs, unrelated}, released: false},
		"no shard's resource references it":      {otherShards: []client.Object{unrelated}, released: true},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			released := false
			ownShard := fake.NewClientBuilder().WithScheme(harness.Scheme).WithObjects(secret).
				WithIndex(&cockpitv1alpha1.KrosEndpoint{}, indexSecretRefs, func(o client.Object) []string {
					return secretRefIndexValues(o.(*cockpitv1alpha1.KrosEndpoint), defaultCredentials)
				}).
				WithInterceptorFuncs(interceptor.Funcs{
					Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
						released = true
						return nil
					},
				}).Build()
			everyShard := fake.NewClientBuilder().WithScheme(harness.Scheme).WithObjects(tt.otherShards...).Build()
			release := &SecretReleaseReconciler{Client: ownShard, forget: func(types.NamespacedName) {},
				everyShard: everyShard, defaultCredentials: defaultCredentials}
			_, err := release.Reconcile(context.Background(), reconcile.Request{NamespacedName: key})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(released).To(Equal(tt.released))
		})
	}
}

// shardFront is the simulator as one shard reaches it: what it was sent.
type shardFront struct {
	key    string
	server *httptest.Server

	mu   sync.Mutex
	sent []shardRequest
}

// shardRequest is one request a shard sent: the endpoint it named, if
// any, and whether it carried the shard's own API key (never the key).
type shardRequest struct {
	Method, EndpointID string
	OwnKey             bool
}

func newShardFront(api http.Handler, key string) *shardFront {
	f := &shardFront{key: key}
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, id, _ := strings.Cut(r.URL.Path, "/endpoints/")
		f.mu.Lock()
		f.sent = append(f.sent, shardRequest{Method: r.Method, EndpointID: id,
			OwnKey: r.Header.Get("Authorization") == "Bearer "+f.key || r.Header.Get("x-api-key") == f.key})
		f.mu.Unlock()
		api.ServeHTTP(w, r)
	}))
	return f
}

func (f *shardFront) requests() []shardRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]shardRequest(nil), f.sent...)
}

// startShard starts a manager reconciling the KrosEndpoints labelled
// shard=name, through a front of the simulator of its own, with a lease of
// its own, and writing as the field manager shard-<name>.
func startShard(cp *harness.ControlPlane, api http.Handler, name, key string) (*harness.Manager, *shardFront) {
	GinkgoHelper()
	front := newShardFront(api, key)
	DeferCleanup(front.server.Close)
	selector := labels.SelectorFromSet(labels.Set{shardLabel: name})
	cfg := rest.CopyConfig(cp.Env.Config)
	cfg.UserAgent = "shard-" + name
	m, err := harness.StartManagerWithOptions(cfg, ctrl.Options{
		Cache:                         ShardCacheOptions(operatorNamespace, nil, selector),
		LeaderElection:                true,
		LeaderElectionID:              "shard-" + name,
		LeaderElectionNamespace:       operatorNamespace,
		LeaderElectionReleaseOnCancel: true,
		// The suite's manager runs controllers of the same names.
		Controller: config.Controller{SkipNameValidation: new(true)},
	}, func(m ctrl.Manager) error {
		client, err := krosai.New(krosai.Config{
			BaseURL: front.server.URL + "/v1", Timeout: 2 * time.Second, RateLimit: 100, Burst: 20,
			BackoffBase: 10 * time.Millisecond, BackoffCap: 500 * time.Millisecond,
		})
		if err != nil {
			return err
		}
		return Setup(m, client, Options{DefaultCredentials: defaultCredentials, SyncPeriod: syncPeriod,
			MaxConcurrentReconciles: 2, WatchLabelSelector: selector})
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = m.Stop() }) // a stopped manager returns at once
	return m, front
}

// inShard is a custom SIP endpoint of shard (none when empty) that reads its
// API key from keySecret and its SIP login from the Secret "sip".
func inShard(ns, name, shard, keySecret string) *cockpitv1alpha1.KrosEndpoint {
	ep := fixtures.NewEndpoint(ns, name, cockpitv1alpha1.KrosEndpointSpec{
		Type: cockpitv1alpha1.EndpointTypeCustomSIP, CustomSIP: &cockpitv1alpha1.CustomSIPConfig{
			SIPURI: "sip:" + name + "@pbx.example.com", CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "sip"}},
		APIKeySecretRef: &cockpitv1alpha1.LocalSecretReference{Name: keySecret},
	})
	if shard != "" {
		ep.Labels = map[string]string{shardLabel: shard}
	}
	return ep
}

// fieldManagers are the field managers that wrote to o.
func fieldManagers(o client.Object) []string {
	out := make([]string, 0, len(o.GetManagedFields()))
	for _, m := range o.GetManagedFields() {
		out = append(out, m.Manager)
	}
	return out
}

var _ = Describe("Two shards", func() {
	It("each with its own label selector and lease, never touch each other's resources", func() {
		By("starting a control plane and a simulator of their own: the suite's manager reconciles every KrosEndpoint")
		shardCP, err := harness.StartControlPlane(harness.ControlPlaneOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(shardCP.Stop) // last: the managers stop before it
		shardSim, err := krosaisim.NewSimulator(krosaisim.Options{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(shardSim.Close)
		f := &fixtures.Set{Ctx: ctx, Client: shardCP.Admin, Sim: shardSim.Admin(), Secrets: secretValues,
			NamespacePrefix: "shards", OrgPrefix: "33333333-3333-4333-8333-", Timeout: timeout, Interval: interval}
		Expect(f.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
		keyA, orgA := f.NewOrg()
		keyB, orgB := f.NewOrg()
		ns := f.NewNamespace()
		Expect(f.Client.Create(ctx, f.APIKeySecret(ns, "key-a", keyA, orgA))).To(Succeed())
		Expect(f.Client.Create(ctx, f.APIKeySecret(ns, "key-b", keyB, orgB))).To(Succeed())
		Expect(f.Client.Create(ctx, f.SIPSecret(ns, "sip", "desk", f.NewSecretValue("sip_password")))).To(Succeed())

		// One namespace, one shared SIP Secret: only the labels tell the
		// shards apart. "nobody" is of no shard; its key Secret does not exist.
		a1, b1, nobody := inShard(ns, "a1", "a", "key-a"), inShard(ns, "b1", "b", "key-b"), inShard(ns, "nobody", "", "key-none")
		for _, ep := range []*cockpitv1alpha1.KrosEndpoint{a1, b1, nobody} {
			Expect(f.Client.Create(ctx, ep)).To(Succeed())
		}

		By("starting shard a alone: only its resource comes up")
		_, frontA := startShard(shardCP, shardSim.Handler(), "a", keyA)
		a1 = f.WaitReady(a1)
		Consistently(func() []metav1.Condition { return f.Get(b1).Status.Conditions }, 3*time.Second, interval).
			Should(BeEmpty(), "shard b's resource waits for shard b")
		Expect(shardSim.Endpoints()[orgB]).To(BeEmpty())

		By("starting shard b beside it, with a lease of its own")
		shardB, frontB := startShard(shardCP, shardSim.Handler(), "b", keyB)
		b1 = f.WaitReady(b1)

		By("refusing, in shard a, to adopt the endpoint a resource of shard b owns, with shard b's own key")
		thief := inShard(ns, "thief", "a", "key-b")
		thief.Annotations = map[string]string{cockpitv1alpha1.AnnotationEndpointID: b1.Status.ID}
		Expect(f.Client.Create(ctx, thief)).To(Succeed())
		f.WaitStalled(thief, cockpitv1alpha1.ReasonEndpointOwnedByAnother)

		By("checking that each shard wrote only to its own resources")
		Expect(fieldManagers(f.Get(a1))).To(SatisfyAll(ContainElement("shard-a"), Not(ContainElement("shard-b"))))
		Expect(fieldManagers(f.Get(b1))).To(SatisfyAll(ContainElement("shard-b"), Not(ContainElement("shard-a"))))
		Expect(fieldManagers(f.Get(nobody))).NotTo(ContainElements("shard-a", "shard-b"))
		Expect(f.Get(nobody).Status.Conditions).To(BeEmpty(), "no shard selects it")

		By("with shard b stopped, deleting shard a's resources")
		Expect(shardB.Stop()).To(Succeed())
		Expect(f.Client.Delete(ctx, a1)).To(Succeed())
		Expect(f.Client.Delete(ctx, thief)).To(Succeed())
		for _, ep := range []*cockpitv1alpha1.KrosEndpoint{a1, thief} {
			Eventually(func() error {
				return f.Client.Get(ctx, client.ObjectKeyFromObject(ep), &cockpitv1alpha1.KrosEndpoint{})
			}, timeout, interval).Should(Satisfy(apierrors.IsNotFound), "shard a finalizes %s", ep.Name)
		}
		_, found := shardSim.Endpoint(a1.Status.ID)
		Expect(found).To(BeFalse(), "a1's endpoint is deleted")
		_, found = shardSim.Endpoint(b1.Status.ID)
		Expect(found).To(BeTrue(), "the endpoint the thief named is shard b's: orphaned, not deleted")

		finalizers := func(name string) func() []string {
			return func() []string {
				s := cluster.SecretMetadata()
				Expect(f.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, s)).To(Succeed())
				return s.GetFinalizers()
			}
		}
		Eventually(finalizers("key-a"), timeout, interval).ShouldNot(ContainElement(cockpitv1alpha1.SecretInUseFinalizer),
			"no resource of any shard reads key-a any more")
		for _, name := range []string{"sip", "key-b"} {
			Consistently(finalizers(name), 3*time.Second, interval).Should(ContainElement(cockpitv1alpha1.SecretInUseFinalizer),
				"shard b's resource still reads %s, though shard b is not running", name)
		}

		By("checking that each shard's requests carried its own key and named its own resources' endpoints only")
		Expect(frontA.requests()).NotTo(BeEmpty())
		Expect(frontA.requests()).To(HaveEach(SatisfyAll(
			HaveField("OwnKey", BeTrue()), HaveField("EndpointID", BeElementOf("", a1.Status.ID)))))
		Expect(frontB.requests()).NotTo(BeEmpty())
		Expect(frontB.requests()).To(HaveEach(SatisfyAll(
			HaveField("OwnKey", BeTrue()), HaveField("EndpointID", BeElementOf("", b1.Status.ID)))))

		By("checking that no secret value leaked into the shards' KrosEndpoints and Events (the suite checks the logs)")
		report, err := secretValues.Scan(ctx, f.Client, operatortest.Sources{})
		Expect(err).NotTo(HaveOccurred())
		Expect(report.KrosEndpoints).To(BeNumerically(">", 0))
		Expect(report.Leaks).To(BeEmpty())
	})
})
