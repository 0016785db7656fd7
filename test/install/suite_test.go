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

// Package install tests the two ways to install the operator: the kustomize
// bundle `make build-installer` writes (dist/install.yaml) and the Helm chart
// in dist/chart. Both are rendered in-process, checked for the invariants a
// cluster admin relies on, and every object is dry-run applied (server-side)
// on a real kube-apiserver: no kubelet runs, so the dry run is what proves a
// Deployment would be accepted.
package install

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/krosai/kros-operator/test/harness"
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

// fieldOwner is the server-side apply field manager of every request.
const fieldOwner = client.FieldOwner("kros-operator-install-test")

// One kube-apiserver serves every test that needs one, without the CRDs:
// the bundles install their own. It starts on first use, so the rendering
// tests run without it.
var apiServer struct {
	once sync.Once
	cp   *harness.ControlPlane
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if apiServer.cp != nil {
		if err := apiServer.cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop the control plane:", err)
		}
	}
	os.Exit(code)
}

// apiClient returns an admin client of the shared kube-apiserver.
func apiClient(t *testing.T) client.Client {
	t.Helper()
	apiServer.once.Do(func() {
		apiServer.cp, apiServer.err = harness.StartControlPlane(harness.ControlPlaneOptions{NoCRDs: true})
	})
	if apiServer.err != nil {
		t.Fatalf("start the control plane: %v", apiServer.err)
	}
	return apiServer.cp.Admin
}

// dryRunApply server-side applies every object with dryRun=All, as
// `kubectl apply --server-side --dry-run=server` would, and fails the test
// unless the API server accepts each one. Namespaces and CRDs are then applied
// for real (CRDs until Established) so that the objects after them are
// validated against them rather than rejected for their absence.
func dryRunApply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	g := NewWithT(t)
	c := apiClient(t)
	ctx := t.Context()
	ordered := slices.SortedStableFunc(slices.Values(objs), func(a, b *unstructured.Unstructured) int {
		return cmp.Compare(harness.ApplyOrder(a), harness.ApplyOrder(b))
	})
	for _, o := range ordered {
		ac := client.ApplyConfigurationFromUnstructured(o.DeepCopy())
		g.Expect(c.Apply(ctx, ac, fieldOwner, client.ForceOwnership, client.DryRunAll)).
			To(Succeed(), "server-side dry run of %s", describe(o))
		if harness.ApplyOrder(o) == 2 {
			continue
		}
		ac = client.ApplyConfigurationFromUnstructured(o.DeepCopy())
		g.Expect(c.Apply(ctx, ac, fieldOwner, client.ForceOwnership)).To(Succeed(), "apply %s", describe(o))
		if o.GetKind() == "CustomResourceDefinition" {
			g.Eventually(func() string {
				crd := &unstructured.Unstructured{}
				crd.SetGroupVersionKind(o.GroupVersionKind())
				if err := c.Get(ctx, client.ObjectKeyFromObject(o), crd); err != nil {
					return err.Error()
				}
				return conditionStatus(crd, "Established")
			}, 30*time.Second, 100*time.Millisecond).Should(Equal("True"), "%s established", describe(o))
		}
	}
}

func conditionStatus(o *unstructured.Unstructured, condType string) string {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == condType {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// bundle is a rendered installation: the kustomize bundle or the Helm chart.
type bundle []*unstructured.Unstructured

// all returns the objects of one kind.
func (b bundle) all(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range b {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// find returns the object of this kind and name, or nil.
func (b bundle) find(kind, name string) *unstructured.Unstructured {
	for _, o := range b.all(kind) {
		if o.GetName() == name {
			return o
		}
	}
	return nil
}

// names returns each object's kind/name.
func (b bundle) names() []string {
	out := make([]string, 0, len(b))
	for _, o := range b {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

// only converts the single object of kind into the typed into, failing the
// test unless there is exactly one.
func (b bundle) only(t *testing.T, kind string, into any) {
	t.Helper()
	objs := b.all(kind)
	if len(objs) != 1 {
		t.Fatalf("want exactly one %s, got %d", kind, len(objs))
	}
	convert(t, objs[0], into)
}

func convert(t *testing.T, o *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
		t.Fatalf("convert %s: %v", describe(o), err)
	}
}

// manager returns the manager's Deployment and container.
func (b bundle) manager(t *testing.T) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	dep := &appsv1.Deployment{}
	b.only(t, "Deployment", dep)
	for i, c := range dep.Spec.Template.Spec.Containers {
		if c.Name == "manager" {
			return dep, &dep.Spec.Template.Spec.Containers[i]
		}
	}
	t.Fatalf("Deployment %s has no container named manager", dep.Name)
	return nil, nil
}

// flags parses the manager's args: --name=value, or --name alone ("true").
func flags(args []string) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		name, value, found := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !found {
			value = "true"
		}
		out[name] = value
	}
	return out
}

var clusterScoped = map[string]bool{
	"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"KrosGrant": true,
}

// expect says what a bundle must look like.
type expect struct {
	namespace string // every namespaced object's namespace
	prefix    string // every name but the Namespace's, the CRDs' and the KrosGrants' starts with it
	image     string
}

// checkBundle checks the invariants both ways of installing share.
func checkBundle(t *testing.T, b bundle, want expect) {
	t.Helper()
	g := NewWithT(t)
	for _, o := range b {
		if clusterScoped[o.GetKind()] {
			g.Expect(o.GetNamespace()).To(BeEmpty(), "%s is cluster-scoped", describe(o))
		} else {
			g.Expect(o.GetNamespace()).To(Equal(want.namespace), "namespace of %s", describe(o))
		}
		// KrosGrants from the chart's values keep the names given there.
		if o.GetKind() != "Namespace" && o.GetKind() != "CustomResourceDefinition" && o.GetKind() != "KrosGrant" {
			g.Expect(o.GetName()).To(HavePrefix(want.prefix), "name of %s", describe(o))
		}
		// No admission or conversion webhook exists, hence no cert-manager.
		g.Expect(o.GetKind()).NotTo(ContainSubstring("Webhook"), describe(o))
		g.Expect(o.GetAPIVersion()).NotTo(ContainSubstring("cert-manager.io"), describe(o))
		for k := range o.GetAnnotations() {
			g.Expect(k).NotTo(ContainSubstring("cert-manager.io"), describe(o))
		}
	}
	g.Expect(b.find("CustomResourceDefinition", "krosendpoints.cockpit.krosai.com")).NotTo(BeNil())
	if crd := b.find("CustomResourceDefinition", "krosendpoints.cockpit.krosai.com"); crd != nil {
		conversion, _, _ := unstructured.NestedString(crd.Object, "spec", "conversion", "strategy")
		g.Expect(conversion).To(Or(BeEmpty(), Equal("None")), "the CRD needs no conversion webhook")
	}

	sa := &corev1.ServiceAccount{}
	b.only(t, "ServiceAccount", sa)
	dep, c := b.manager(t)
	checkManager(t, dep, c, want.image)
	g.Expect(dep.Spec.Template.Spec.ServiceAccountName).To(Equal(sa.Name))
	g.Expect(dep.Spec.Selector.MatchLabels).NotTo(BeEmpty())
	for k, v := range dep.Spec.Selector.MatchLabels {
		g.Expect(dep.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "the selector selects the pods")
	}
	for _, o := range b.all("Service") {
		svc := &corev1.Service{}
		convert(t, o, svc)
		g.Expect(svc.Spec.Selector).NotTo(BeEmpty())
		for k, v := range svc.Spec.Selector {
			g.Expect(dep.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "Service %s selects the manager", svc.Name)
		}
	}
	checkRBAC(t, b, sa)
}

// checkManager checks the manager's pod: the restricted Pod Security Standard,
// POD_NAMESPACE from the downward API, and probes.
func checkManager(t *testing.T, dep *appsv1.Deployment, c *corev1.Container, image string) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(c.Image).To(Equal(image))

	pod := dep.Spec.Template.Spec.SecurityContext
	g.Expect(pod).NotTo(BeNil())
	g.Expect(pod.RunAsNonRoot).To(HaveValue(BeTrue()), "runs as non-root")
	g.Expect(pod.SeccompProfile).To(HaveValue(HaveField("Type", corev1.SeccompProfileTypeRuntimeDefault)))
	g.Expect(pod.RunAsUser).To(Or(BeNil(), HaveValue(BeNumerically(">", 0))))

	sc := c.SecurityContext
	g.Expect(sc).NotTo(BeNil())
	g.Expect(sc.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()), "read-only root filesystem")
	g.Expect(sc.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
	g.Expect(sc.Privileged).To(Or(BeNil(), HaveValue(BeFalse())))
	g.Expect(sc.RunAsUser).To(Or(BeNil(), HaveValue(BeNumerically(">", 0))))
	g.Expect(sc.Capabilities).NotTo(BeNil())
	g.Expect(sc.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")), "drops all capabilities")
	g.Expect(sc.Capabilities.Add).To(BeEmpty())

	g.Expect(c.Env).To(ContainElement(And(
		HaveField("Name", "POD_NAMESPACE"),
		HaveField("ValueFrom.FieldRef.FieldPath", "metadata.namespace"),
	)), "POD_NAMESPACE from the downward API")

	g.Expect(c.LivenessProbe).NotTo(BeNil(), "liveness probe")
	g.Expect(c.LivenessProbe.HTTPGet).To(HaveValue(HaveField("Path", "/healthz")))
	g.Expect(c.ReadinessProbe).NotTo(BeNil(), "readiness probe")
	g.Expect(c.ReadinessProbe.HTTPGet).To(HaveValue(HaveField("Path", "/readyz")))
	g.Expect(flags(c.Args)).To(HaveKeyWithValue("health-probe-bind-address", ":8081"))
	g.Expect(c.Resources.Requests).NotTo(BeEmpty())
	g.Expect(c.Resources.Limits).NotTo(BeEmpty())
}

// checkRBAC: the roles bound to the operator's ServiceAccount use no wildcard,
// and no role in the bundle can delete Secrets.
func checkRBAC(t *testing.T, b bundle, sa *corev1.ServiceAccount) {
	t.Helper()
	g := NewWithT(t)
	bound := map[string]bool{} // "ClusterRole/name" or "Role/name"
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, o := range b.all(kind) {
			rb := &rbacv1.RoleBinding{} // a ClusterRoleBinding has the same fields
			convert(t, o, rb)
			g.Expect(rb.Subjects).To(ConsistOf(rbacv1.Subject{
				Kind: "ServiceAccount", Name: sa.Name, Namespace: sa.Namespace,
			}), "%s binds the operator's ServiceAccount", describe(o))
			bound[rb.RoleRef.Kind+"/"+rb.RoleRef.Name] = true
		}
	}
	g.Expect(bound).NotTo(BeEmpty())
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, o := range b.all(kind) {
			role := &rbacv1.ClusterRole{} // a Role has the same rules
			convert(t, o, role)
			for _, r := range role.Rules {
				if bound[kind+"/"+role.Name] {
					g.Expect(r.Verbs).NotTo(ContainElement("*"), "%s grants every verb", describe(o))
					g.Expect(r.Resources).NotTo(ContainElement("*"), "%s grants every resource", describe(o))
					g.Expect(r.APIGroups).NotTo(ContainElement("*"), "%s grants every API group", describe(o))
				}
				core := slices.Contains(r.APIGroups, "") || slices.Contains(r.APIGroups, "*")
				secrets := slices.Contains(r.Resources, "secrets") || slices.Contains(r.Resources, "*")
				deletes := slices.Contains(r.Verbs, "delete") || slices.Contains(r.Verbs, "deletecollection") ||
					slices.Contains(r.Verbs, "*")
				g.Expect(core && secrets && deletes).To(BeFalse(), "%s may delete Secrets", describe(o))
			}
		}
	}
}

// configRules reads the rules of a Role or ClusterRole under config/rbac.
func configRules(t *testing.T, file string) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(repoRoot + "/config/rbac/" + file)
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, role); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return role.Rules
}

func rules(t *testing.T, o *unstructured.Unstructured) []rbacv1.PolicyRule {
	t.Helper()
	if o == nil {
		t.Fatal("role not found")
	}
	role := &rbacv1.ClusterRole{}
	convert(t, o, role)
	return role.Rules
}
