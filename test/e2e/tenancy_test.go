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
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	tenantNS = "tenant-a"
	tenantSA = "deployer"
	// tenantDisplayName is the tenant's endpoint's name in KrosAI, by which
	// the simulator's request log is searched.
	tenantDisplayName = "Tenant A front desk"
)

var _ = Describe("a tenant under the RBAC the bundle gives it", Ordered, func() {
	var tenant client.Client

	BeforeAll(func() {
		runLeadingManager()

		By("binding a ServiceAccount of " + tenantNS + " to the tenant role, by RoleBinding in its namespace")
		kubectl("create", "namespace", tenantNS)
		kubectl("create", "serviceaccount", "-n", tenantNS, tenantSA)
		Expect(cp.Admin.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "krosendpoint-editors"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole",
				Name: "kros-operator-krosendpoint-editor-role"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: tenantNS, Name: tenantSA}},
		})).To(Succeed())

		By("the platform granting " + tenantNS + " nothing, before the tenant declares anything")
		createGrant("tenant-a-nothing", nil)

		By("authenticating as the ServiceAccount with a token of its own, as its pods would")
		token := strings.TrimSpace(kubectl("create", "token", "-n", tenantNS, tenantSA))
		cfg := rest.AnonymousClientConfig(cp.Env.Config)
		cfg.BearerToken = token
		var err error
		tenant, err = client.New(cfg, client.Options{Scheme: harness.Scheme})
		Expect(err).NotTo(HaveOccurred())
	})

	AfterAll(func() {
		for _, name := range []string{"tenant-a-nothing", "tenant-a-default-credentials"} {
			Expect(client.IgnoreNotFound(cp.Admin.Delete(ctx, &cockpitv1alpha1.KrosGrant{
				ObjectMeta: metav1.ObjectMeta{Name: name}}))).To(Succeed())
		}
	})

	// KrosGrants are cluster-scoped and the Secrets they name live in the
	// operator's namespace: a RoleBinding in the tenant's namespace reaches
	// neither, whatever the role bound lists.
	It("cannot create, change, delete or read what grants", func() {
		forbidden := func(err error) { GinkgoHelper(); Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err) }
		everything := cockpitv1alpha1.KrosGrant{
			ObjectMeta: metav1.ObjectMeta{Name: "tenant-a-everything"},
			Spec: cockpitv1alpha1.KrosGrantSpec{
				NamespaceSelector:    metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: tenantNS}},
				CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: "krosai-credentials"},
				OrganizationIDs:      []string{cockpitv1alpha1.GrantAny},
				EndpointIDs:          []string{cockpitv1alpha1.GrantAny},
			},
		}
		forbidden(tenant.Create(ctx, everything.DeepCopy()))

		existing := &cockpitv1alpha1.KrosGrant{}
		Expect(cp.Admin.Get(ctx, types.NamespacedName{Name: "tenant-a-nothing"}, existing)).To(Succeed())
		widened := existing.DeepCopy()
		widened.Spec = everything.Spec
		forbidden(tenant.Update(ctx, widened))
		forbidden(tenant.Patch(ctx, widened, client.MergeFrom(existing)))
		forbidden(tenant.Delete(ctx, existing.DeepCopy()))
		forbidden(tenant.Get(ctx, types.NamespacedName{Name: "tenant-a-nothing"}, &cockpitv1alpha1.KrosGrant{}))
		forbidden(tenant.List(ctx, &cockpitv1alpha1.KrosGrantList{}))

		By("nor reading or writing the credentials a grant names, in the operator's namespace")
		forbidden(tenant.Get(ctx, types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"},
			&corev1.Secret{}))
		forbidden(tenant.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: "tenant-a-credentials"},
			StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: "kros_test_not_a_real_key_000000000"},
		}))
	})

	It("manages KrosEndpoints in its namespace but cannot write their status", func() {
		ep := tenantEndpoint(tenantNS)
		Expect(tenant.Create(ctx, ep)).To(Succeed())
		Expect(apierrors.IsForbidden(tenant.Create(ctx, tenantEndpoint("default")))).To(BeTrue(),
			"the RoleBinding reaches its namespace only")

		// status.id is what proves an endpoint is the resource's own: a
		// tenant writing it could claim any endpoint whose id it learned.
		claimed := ep.DeepCopy()
		claimed.Status.ID = "ep_someone_elses"
		err := tenant.Status().Patch(ctx, claimed, client.MergeFrom(ep))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
	})

	It("stalls on shared credentials its grants do not give, without a request to KrosAI", func() {
		key := types.NamespacedName{Namespace: tenantNS, Name: "front-desk"}
		notGranted := And(HaveField("Status", metav1.ConditionTrue), HaveField("Reason", cockpitv1alpha1.ReasonNotGranted))
		Eventually(func() *metav1.Condition { return endpointCondition(key, cockpitv1alpha1.ConditionStalled) }).
			WithTimeout(30 * time.Second).Should(HaveValue(notGranted))
		Expect(simEndpoints(tenantDisplayName)).To(BeEmpty())
		Expect(requestsNaming(tenantDisplayName)).To(BeEmpty(), "KrosAI received a request for the tenant's endpoint")

		By("the platform granting " + tenantNS + " the default credentials")
		createGrant("tenant-a-default-credentials", &cockpitv1alpha1.LocalSecretReference{Name: "krosai-credentials"})
		Eventually(func() *metav1.Condition { return endpointCondition(key, cockpitv1alpha1.ConditionReady) }).
			WithTimeout(30 * time.Second).Should(HaveValue(HaveField("Status", metav1.ConditionTrue)))
		Expect(simEndpoints(tenantDisplayName)).To(HaveLen(1))
		Expect(requestsNaming(tenantDisplayName)).To(ContainElement("createEndpoint"),
			"the simulator's log shows a request for the endpoint once one is made")

		By("the tenant deleting its endpoint, which the grant lets the operator delete in KrosAI")
		Expect(tenant.Delete(ctx, &cockpitv1alpha1.KrosEndpoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}})).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(cp.Admin.Get(ctx, key, &cockpitv1alpha1.KrosEndpoint{}))
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(simEndpoints(tenantDisplayName)).To(BeEmpty())
	})
})

// tenantEndpoint is the tenant's KrosEndpoint on shared credentials (no
// spec.apiKeySecretRef) in namespace.
func tenantEndpoint(namespace string) *cockpitv1alpha1.KrosEndpoint {
	return &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "front-desk"},
		Spec: cockpitv1alpha1.KrosEndpointSpec{
			Type:        cockpitv1alpha1.EndpointTypeElevenLabs,
			DisplayName: tenantDisplayName,
			ElevenLabs:  &cockpitv1alpha1.ElevenLabsConfig{AgentID: "el-tenant-a"},
		},
	}
}

// createGrant creates, as the platform, a KrosGrant selecting tenantNS that
// grants credentials, or nothing when credentials is nil.
func createGrant(name string, credentials *cockpitv1alpha1.LocalSecretReference) {
	GinkgoHelper()
	Expect(cp.Admin.Create(ctx, &cockpitv1alpha1.KrosGrant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: cockpitv1alpha1.KrosGrantSpec{
			NamespaceSelector:    metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: tenantNS}},
			CredentialsSecretRef: credentials,
		},
	})).To(Succeed())
}

// endpointCondition returns a KrosEndpoint's condition of that type, nil
// while it has none.
func endpointCondition(key types.NamespacedName, condType string) *metav1.Condition {
	GinkgoHelper()
	ep := &cockpitv1alpha1.KrosEndpoint{}
	Expect(cp.Admin.Get(ctx, key, ep)).To(Succeed())
	return meta.FindStatusCondition(ep.Status.Conditions, condType)
}

// requestsNaming returns the operations of the requests the simulator
// remembers whose body holds text.
func requestsNaming(text string) []string {
	GinkgoHelper()
	records, err := sim.Admin().Requests(ctx, 0)
	Expect(err).NotTo(HaveOccurred())
	var ops []string
	for _, r := range records {
		if strings.Contains(string(r.Body), text) {
			ops = append(ops, r.Operation)
		}
	}
	return ops
}
