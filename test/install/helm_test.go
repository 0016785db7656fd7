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
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/krosai/kros-operator/test/harness"
	"github.com/krosai/kros-operator/test/helmchart"
)

const (
	chartDir = repoRoot + "/dist/chart"
	// With the release named after the chart, every object is named as in
	// the kustomize bundle; the namespace differs to prove the chart uses
	// the release's.
	releaseName   = "kros-operator"
	helmNamespace = "kros-helm"
)

// renderChart renders dist/chart as `helm install kros-operator dist/chart
// -n kros-helm -f values --dry-run` would, with values a YAML values file. It
// returns the objects and the rendered text of every template.
func renderChart(t *testing.T, values string) (bundle, map[string]string, error) {
	t.Helper()
	out, err := helmchart.Render(chartDir, values, releaseName, helmNamespace)
	if err != nil {
		return nil, nil, err
	}
	var b bundle
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		objs, err := harness.DecodeYAML([]byte(out[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b = append(b, objs...)
	}
	return b, out, nil
}

// render renders the chart and fails the test on an error.
func render(t *testing.T, values string) bundle {
	t.Helper()
	b, _, err := renderChart(t, values)
	if err != nil {
		t.Fatalf("render with values %q: %v", values, err)
	}
	return b
}

func appVersion(t *testing.T) string {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := chrt.Validate(); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	return chrt.Metadata.AppVersion
}

func managerFlags(t *testing.T, b bundle) map[string]string {
	t.Helper()
	_, c := b.manager(t)
	return flags(c.Args)
}

func TestChartDefaults(t *testing.T) {
	b := render(t, "")
	checkBundle(t, b, expect{
		namespace: helmNamespace, prefix: "kros-operator-", image: "ghcr.io/krosai/kros-operator:" + appVersion(t),
	})

	g := NewWithT(t)
	g.Expect(managerFlags(t, b)).To(Equal(map[string]string{
		"leader-elect":              "true",
		"leader-election-id":        "kros-operator.cockpit.krosai.com",
		"health-probe-bind-address": ":8081",
		"metrics-bind-address":      ":8443",
		"metrics-secure":            "true",
		"krosai-api-url":            "https://api.krosai.com/v1",
		"krosai-credentials-secret": "krosai-credentials",
		"sync-period":               "10m",
		"api-rate-limit":            "8",
		"api-burst":                 "8",
		"api-daily-quota":           "0",
		"observation-share":         "0.5",
		"api-timeout":               "10s",
		"max-concurrent-reconciles": "4",
	}))
	dep, _ := b.manager(t)
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))
	g.Expect(b.all("Secret")).To(BeEmpty(), "no credentials Secret unless asked")
	g.Expect(b.all("Namespace")).To(BeEmpty(), "the namespace is helm's (--create-namespace)")
}

// With its defaults and the release named kros-operator, the chart installs
// what dist/install.yaml installs: the same objects under the same names, the
// same RBAC rules and bindings, and a manager with the same flags, resources
// and security contexts.
func TestChartMatchesInstaller(t *testing.T) {
	g := NewWithT(t)
	chart := render(t, "")
	installer := buildInstaller(t, "ghcr.io/krosai/kros-operator:"+appVersion(t))

	names := func(b bundle) []string {
		var out []string
		for _, o := range b {
			if o.GetKind() != "Namespace" {
				out = append(out, o.GetKind()+"/"+o.GetName())
			}
		}
		return out
	}
	g.Expect(names(chart)).To(ConsistOf(names(installer)))

	for _, want := range installer {
		got := chart.find(want.GetKind(), want.GetName())
		for _, field := range []string{"rules", "roleRef"} {
			if w, ok := want.Object[field]; ok {
				g.Expect(got.Object[field]).To(Equal(w), "%s of %s", field, describe(want))
			}
		}
		if subjects, ok := want.Object["subjects"].([]any); ok {
			for _, s := range subjects {
				s.(map[string]any)["namespace"] = helmNamespace
			}
			g.Expect(got.Object["subjects"]).To(Equal(subjects), "subjects of %s", describe(want))
		}
	}

	wantDep, want := installer.manager(t)
	gotDep, got := chart.manager(t)
	for name, value := range flags(want.Args) {
		g.Expect(flags(got.Args)).To(HaveKeyWithValue(name, value))
	}
	g.Expect(got.Resources).To(Equal(want.Resources))
	g.Expect(got.SecurityContext).To(Equal(want.SecurityContext))
	g.Expect(gotDep.Spec.Template.Spec.SecurityContext).To(Equal(wantDep.Spec.Template.Spec.SecurityContext))
	g.Expect(got.Env).To(Equal(want.Env))

	svc := func(b bundle) corev1.ServicePort {
		s := &corev1.Service{}
		b.only(t, "Service", s)
		return s.Spec.Ports[0]
	}
	g.Expect(svc(chart).Name).To(Equal(svc(installer).Name))
	g.Expect(svc(chart).Port).To(Equal(svc(installer).Port))
}

// The manager's ClusterRole is config/rbac/role.yaml, which controller-gen
// writes from the controllers' RBAC markers: a new permission must reach the
// chart too.
func TestChartManagerRole(t *testing.T) {
	NewWithT(t).Expect(rules(t, render(t, "").find("ClusterRole", "kros-operator-manager-role"))).
		To(Equal(configRules(t, "role.yaml")))
}

func TestChartValues(t *testing.T) {
	g := NewWithT(t)
	b := render(t, `
image: {repository: registry.example.com/kros/operator, tag: v9.9.9, pullPolicy: Always}
imagePullSecrets: [{name: pull}]
krosai:
  apiURL: http://krosai-sim.sim.svc:8089/v1
  credentialsSecret: {name: team-credentials}
syncPeriod: 90s
apiRateLimit: 2.5
apiBurst: 5
apiDailyQuota: 50000
observationShare: 0.25
apiTimeout: 3s
maxConcurrentReconciles: 2
watchNamespaces: [team-a, team-b]
replicas: 2
resources:
  requests: {cpu: 50m, memory: 100Mi}
  limits: {cpu: null, memory: 200Mi} # null drops a default
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: operators, effect: NoSchedule}]
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}]
`)
	checkBundle(t, b, expect{
		namespace: helmNamespace, prefix: "kros-operator-", image: "registry.example.com/kros/operator:v9.9.9",
	})

	args := managerFlags(t, b)
	for name, value := range map[string]string{
		"krosai-api-url":            "http://krosai-sim.sim.svc:8089/v1",
		"krosai-credentials-secret": "team-credentials",
		"sync-period":               "90s",
		"api-rate-limit":            "2.5",
		"api-burst":                 "5",
		"api-daily-quota":           "50000",
		"observation-share":         "0.25",
		"api-timeout":               "3s",
		"max-concurrent-reconciles": "2",
		"watch-namespaces":          "team-a,team-b",
		"leader-elect":              "true",
	} {
		g.Expect(args).To(HaveKeyWithValue(name, value))
	}

	dep, c := b.manager(t)
	pod := dep.Spec.Template.Spec
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
	g.Expect(c.ImagePullPolicy).To(Equal(corev1.PullAlways))
	g.Expect(pod.ImagePullSecrets).To(Equal([]corev1.LocalObjectReference{{Name: "pull"}}))
	quantities := func(l corev1.ResourceList) map[corev1.ResourceName]string {
		out := map[corev1.ResourceName]string{}
		for name, q := range l {
			out[name] = q.String()
		}
		return out
	}
	g.Expect(quantities(c.Resources.Requests)).To(Equal(map[corev1.ResourceName]string{
		corev1.ResourceCPU: "50m", corev1.ResourceMemory: "100Mi",
	}))
	g.Expect(quantities(c.Resources.Limits)).To(Equal(map[corev1.ResourceName]string{corev1.ResourceMemory: "200Mi"}))
	g.Expect(pod.NodeSelector).To(Equal(map[string]string{"kubernetes.io/os": "linux"}))
	g.Expect(pod.Tolerations).To(ConsistOf(HaveField("Key", "dedicated")))
	g.Expect(pod.Affinity).To(HaveValue(HaveField("NodeAffinity", Not(BeNil()))))
}

// Two releases of the chart as two shards: each passes its label selector,
// and each has a lease of its own, named after the release unless named.
func TestChartShards(t *testing.T) {
	g := NewWithT(t)
	const selector = "sharding.krosai.com/key=shard1"
	first := managerFlags(t, render(t, "watchLabelSelector: "+selector))
	g.Expect(first).To(HaveKeyWithValue("watch-label-selector", selector))
	g.Expect(first).To(HaveKeyWithValue("leader-election-id", "kros-operator.cockpit.krosai.com"))

	second := render(t, `{watchLabelSelector: "!sharding.krosai.com/key", fullnameOverride: kros-operator-rest, `+
		`crds: {install: false}, monitoring: {prometheusRule: {enabled: true}}}`)
	g.Expect(managerFlags(t, second)).To(SatisfyAll(
		HaveKeyWithValue("watch-label-selector", "!sharding.krosai.com/key"),
		HaveKeyWithValue("leader-election-id", "kros-operator-rest.cockpit.krosai.com")))
	g.Expect(second.all("CustomResourceDefinition")).To(BeEmpty())
	rules, err := yaml.Marshal(second.find("PrometheusRule", "kros-operator-rest-alerts").Object["spec"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(rules)).To(ContainSubstring(`name="kros-operator-rest.cockpit.krosai.com"`),
		"the no-leader alert watches the shard's own lease")

	named := managerFlags(t, render(t, "{watchLabelSelector: "+selector+", leaderElection: {id: shard1.example.com}}"))
	g.Expect(named).To(HaveKeyWithValue("leader-election-id", "shard1.example.com"))
}

func TestChartLeaderElectionOff(t *testing.T) {
	g := NewWithT(t)
	b := render(t, "leaderElection: {enabled: false}")
	g.Expect(managerFlags(t, b)).NotTo(HaveKey("leader-elect"))
	g.Expect(b.all("Role")).To(BeEmpty(), "no leader election Role")
	g.Expect(b.all("RoleBinding")).To(BeEmpty())

	_, _, err := renderChart(t, "{leaderElection: {enabled: false}, replicas: 2}")
	g.Expect(err).To(MatchError(ContainSubstring("replicas > 1 needs leaderElection.enabled")))
}

func TestChartMetrics(t *testing.T) {
	g := NewWithT(t)

	b := render(t, "metrics: {secure: false, port: 8080}")
	args := managerFlags(t, b)
	g.Expect(args).To(HaveKeyWithValue("metrics-bind-address", ":8080"))
	g.Expect(args).To(HaveKeyWithValue("metrics-secure", "false"))
	svc := &corev1.Service{}
	b.only(t, "Service", svc)
	g.Expect(svc.Spec.Ports).To(ConsistOf(And(HaveField("Name", "http"), HaveField("Port", BeEquivalentTo(8080)))))
	g.Expect(b.find("ClusterRole", "kros-operator-metrics-auth-role")).To(BeNil(), "no authn/authz without HTTPS")
	g.Expect(b.find("ClusterRole", "kros-operator-metrics-reader")).To(BeNil())

	b = render(t, "metrics: {enabled: false}")
	g.Expect(managerFlags(t, b)).To(HaveKeyWithValue("metrics-bind-address", "0"))
	g.Expect(b.all("Service")).To(BeEmpty())
	g.Expect(b.find("ClusterRole", "kros-operator-metrics-auth-role")).To(BeNil())
}

func TestChartCredentialsSecret(t *testing.T) {
	g := NewWithT(t)
	const apiKey = "kros_test_0123456789abcdef"
	b, out, err := renderChart(t, `
krosai:
  credentialsSecret:
    name: kros-key
    create: true
    apiKey: `+apiKey+`
    organizationID: 3f0c9a52-5a4e-4a38-9d3c-0d6f1f6f2b10`)
	g.Expect(err).NotTo(HaveOccurred())
	secret := &corev1.Secret{}
	b.only(t, "Secret", secret)
	g.Expect(secret.Name).To(Equal("kros-key"))
	g.Expect(secret.Namespace).To(Equal(helmNamespace))
	g.Expect(secret.Data).To(HaveKeyWithValue("apiKey", []byte(apiKey)))
	g.Expect(secret.Data).To(HaveKeyWithValue("organizationID", []byte("3f0c9a52-5a4e-4a38-9d3c-0d6f1f6f2b10")))
	g.Expect(managerFlags(t, b)).To(HaveKeyWithValue("krosai-credentials-secret", "kros-key"))
	// The key appears only base64-encoded in the Secret: not in NOTES.txt
	// (which helm prints), not in the Deployment.
	for name, text := range out {
		g.Expect(text).NotTo(ContainSubstring(apiKey), name)
		if !strings.HasSuffix(name, "credentials-secret.yaml") {
			g.Expect(text).NotTo(ContainSubstring(base64.StdEncoding.EncodeToString([]byte(apiKey))), name)
		}
	}

	_, _, err = renderChart(t, "krosai: {credentialsSecret: {create: true}}")
	g.Expect(err).To(MatchError(ContainSubstring("krosai.credentialsSecret.apiKey is required")))
}

// The chart's CRD is config/crd/bases: files/crds/ is a copy (make manifests
// writes both) and the template only adds labels and the keep policy.
func TestChartCRD(t *testing.T) {
	g := NewWithT(t)
	read := func(dir string) map[string]string {
		entries, err := os.ReadDir(dir)
		g.Expect(err).NotTo(HaveOccurred())
		files := map[string]string{}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			g.Expect(err).NotTo(HaveOccurred())
			files[e.Name()] = string(data)
		}
		return files
	}
	bases := read(repoRoot + "/config/crd/bases")
	g.Expect(read(chartDir+"/files/crds")).To(Equal(bases),
		"dist/chart/files/crds/ differs from config/crd/bases/: run make manifests")

	b := render(t, "")
	g.Expect(b.all("CustomResourceDefinition")).To(HaveLen(len(bases)))
	for name, text := range bases {
		want := &unstructured.Unstructured{}
		g.Expect(yaml.Unmarshal([]byte(text), &want.Object)).To(Succeed())
		got := b.find("CustomResourceDefinition", want.GetName())
		g.Expect(got).NotTo(BeNil(), name)
		g.Expect(got.Object["spec"]).To(Equal(want.Object["spec"]), name)
		g.Expect(got.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))
		for k, v := range want.GetAnnotations() {
			g.Expect(got.GetAnnotations()).To(HaveKeyWithValue(k, v))
		}
		g.Expect(got.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "Helm"))
	}

	g.Expect(render(t, "crds: {keep: false}").all("CustomResourceDefinition")).
		To(HaveEach(WithTransform((*unstructured.Unstructured).GetAnnotations, Not(HaveKey("helm.sh/resource-policy")))))
	g.Expect(render(t, "crds: {install: false}").all("CustomResourceDefinition")).To(BeEmpty())
}

// Every object the chart renders, with its defaults and with the values that
// change its shape (and names truncated to fit), is accepted by a server-side
// dry run.
func TestChartDryRun(t *testing.T) {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(helmNamespace)
	for name, values := range map[string]string{
		"defaults": "",
		"minimal":  "{leaderElection: {enabled: false}, metrics: {secure: false}, crds: {install: false}}",
		"with-secret": "{metrics: {enabled: false}, watchNamespaces: [a, b], " +
			"krosai: {credentialsSecret: {create: true, apiKey: k}}}",
		"shard": `{watchLabelSelector: "!sharding.krosai.com/key", crds: {install: false}, ` +
			"fullnameOverride: kros-operator-rest}",
		"krosgrants":                   krosGrantValues,
		"event-receiver-ingress":       eventReceiverIngress,
		"event-receiver-load-balancer": eventReceiverLoadBalancer,
		"scheduling": "{replicas: 3, tolerations: [{operator: Exists}], nodeSelector: {kubernetes.io/os: linux}, " +
			"imagePullSecrets: [{name: pull}], fullnameOverride: kros-operator-for-the-platform-team-in-eu-west-1}",
	} {
		t.Run(name, func(t *testing.T) {
			dryRunApply(t, append(bundle{ns}, render(t, values)...))
		})
	}
}

// krosGrantValues lock the default credentials down and grant them back to
// one namespace, and another Secret with every field to a set of them.
const krosGrantValues = `
krosGrants:
  requireGrant: true
  items:
  - name: team-a
    spec:
      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-a}}
      credentialsSecretRef: {name: krosai-credentials}
  - name: voice-teams
    spec:
      namespaceSelector:
        matchExpressions: [{key: krosai.example.com/tier, operator: In, values: [voice]}]
      credentialsSecretRef: {name: voice-credentials}
      organizationIDs: ["*"]
      endpointIDs: [ep_2b7f9c]
      phoneNumberIDs: [0b5f4c2e-8d1a-4e6b-9f3c-2a7d5e8b1c40]
`

// The chart exposes whether the default credentials serve every namespace:
// by default it creates no KrosGrant, so an upgrade changes no namespace's
// access; requireGrant creates the grant of nothing selecting every
// namespace, and items are KrosGrants as written.
func TestChartKrosGrants(t *testing.T) {
	g := NewWithT(t)
	g.Expect(render(t, "").all("KrosGrant")).To(BeEmpty(), "no KrosGrant unless asked")

	b := render(t, krosGrantValues)
	checkBundle(t, b, expect{
		namespace: helmNamespace, prefix: "kros-operator-", image: "ghcr.io/krosai/kros-operator:" + appVersion(t),
	})
	grants := b.all("KrosGrant")
	g.Expect(grants).To(HaveLen(3))
	for _, o := range grants {
		g.Expect(o.GetAPIVersion()).To(Equal("cockpit.krosai.com/v1alpha1"))
		g.Expect(o.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "Helm"))
	}
	nothing := b.find("KrosGrant", "kros-operator-require-grant")
	g.Expect(nothing).NotTo(BeNil())
	g.Expect(nothing.Object["spec"]).To(Equal(map[string]any{"namespaceSelector": map[string]any{}}),
		"a grant of nothing selecting every namespace")

	values := map[string]any{}
	g.Expect(yaml.Unmarshal([]byte(krosGrantValues), &values)).To(Succeed())
	items, _, _ := unstructured.NestedSlice(values, "krosGrants", "items")
	for _, item := range items {
		item := item.(map[string]any)
		got := b.find("KrosGrant", item["name"].(string))
		g.Expect(got).NotTo(BeNil(), item["name"])
		g.Expect(got.Object["spec"]).To(Equal(item["spec"]), "spec of %s as written", item["name"])
	}

	_, _, err := renderChart(t, "krosGrants: {items: [{spec: {namespaceSelector: {}}}]}")
	g.Expect(err).To(MatchError(ContainSubstring("krosGrants.items[0].name is required")))
	_, _, err = renderChart(t, "krosGrants: {items: [{name: team-a}]}")
	g.Expect(err).To(MatchError(ContainSubstring("krosGrants.items[0].spec is required")))
}
