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

package install

import (
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
)

// allows reports whether rules let their holder do verb on resource (with
// its subresource, as "krosendpoints/status") in the cockpit.krosai.com
// group, wildcards included.
func allows(rules []rbacv1.PolicyRule, verb, resource string) bool {
	for _, r := range rules {
		if len(r.ResourceNames) > 0 {
			continue // no role of ours names objects; a named rule would not grant create or list
		}
		if (slices.Contains(r.APIGroups, "cockpit.krosai.com") || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) &&
			(slices.Contains(r.Verbs, verb) || slices.Contains(r.Verbs, "*")) {
			return true
		}
	}
	return false
}

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}
)

// What grants is cluster-scoped (KrosGrant) or lives in the operator's
// namespace (its Secrets), so a tenant bound in its own namespace to the
// role both bundles give it cannot grant itself; only the platform's admin
// role writes KrosGrants. A tenant must not write krosendpoints/status
// either: status.id is what proves that an endpoint is the resource's own.
func TestTenantRoleCannotGrant(t *testing.T) {
	for name, b := range map[string]bundle{
		"installer": buildInstaller(t, installerImage),
		"chart":     render(t, ""),
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			tenant := rules(t, b.find("ClusterRole", "kros-operator-krosendpoint-editor-role"))
			for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
				g.Expect(allows(tenant, verb, "krosendpoints")).To(BeTrue(), "a tenant may not %s KrosEndpoints", verb)
			}
			for _, verb := range append(readVerbs, writeVerbs...) {
				g.Expect(allows(tenant, verb, "krosgrants")).To(BeFalse(), "a tenant may %s KrosGrants", verb)
			}
			for _, verb := range writeVerbs {
				g.Expect(allows(tenant, verb, "krosendpoints/status")).To(BeFalse(),
					"a tenant may %s KrosEndpoint status", verb)
			}
			g.Expect(allows(tenant, "get", "krosendpoints/status")).To(BeTrue())

			for _, o := range append(b.all("ClusterRole"), b.all("Role")...) {
				roleRules := rules(t, o)
				for _, verb := range writeVerbs {
					g.Expect(allows(roleRules, verb, "krosgrants")).To(
						Equal(o.GetName() == "kros-operator-krosgrant-admin-role"), "%s may %s KrosGrants", describe(o), verb)
					g.Expect(allows(roleRules, verb, "krosendpoints/status")).To(
						Equal(o.GetName() == "kros-operator-manager-role" && verb == "patch"),
						"%s may %s KrosEndpoint status", describe(o), verb)
				}
				// An aggregated role would reach whoever holds the built-in
				// admin, edit or view roles, tenants included.
				for label := range o.GetLabels() {
					g.Expect(strings.HasPrefix(label, "rbac.authorization.k8s.io/aggregate-to-")).To(BeFalse(),
						"%s aggregates into a built-in role", describe(o))
				}
			}
			g.Expect(rules(t, b.find("ClusterRole", "kros-operator-krosgrant-viewer-role"))).
				To(ConsistOf(HaveField("Verbs", ConsistOf(readVerbs))))
		})
	}
}
