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
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/krosai/kros-operator/test/helmchart"
)

// monitoringOn turns on every optional monitoring object of the chart.
const monitoringOn = "{monitoring: {serviceMonitor: {enabled: true}, prometheusRule: {enabled: true}, " +
	"dashboard: {enabled: true}}}"

// chartFeatures are the values that switch each optional feature of the
// chart on, one at a time and all together.
var chartFeatures = map[string]string{
	"defaults":           "",
	"service-monitor":    "{monitoring: {serviceMonitor: {enabled: true}}}",
	"prometheus-rule":    "{monitoring: {prometheusRule: {enabled: true}}}",
	"grafana-dashboard":  "{monitoring: {dashboard: {enabled: true}}}",
	"credentials-secret": "{krosai: {credentialsSecret: {create: true, apiKey: k}}}",
	"all-monitoring":     monitoringOn,
	"everything": `
monitoring:
  serviceMonitor:
    enabled: true
    labels: {release: kube-prometheus-stack}
    interval: 30s
    scrapeTimeout: 10s
    prometheusServiceAccount: {name: prometheus, namespace: monitoring}
  prometheusRule: {enabled: true, labels: {release: kube-prometheus-stack}}
  dashboard: {enabled: true, annotations: {grafana_folder: Operators}, namespace: grafana}
krosai: {credentialsSecret: {create: true, apiKey: k}}
watchNamespaces: [a, b]
replicas: 2`,
	"monitoring-plain-http": "{metrics: {secure: false}, " +
		"monitoring: {serviceMonitor: {enabled: true}, prometheusRule: {enabled: true}}}",
	"krosgrants":                    krosGrantValues,
	"monitoring-no-leader-election": "{leaderElection: {enabled: false}, monitoring: {prometheusRule: {enabled: true}}}",
	"event-receiver":                "{eventReceiver: {enabled: true}}",
	"event-receiver-ingress":        eventReceiverIngress,
	"event-receiver-load-balancer":  eventReceiverLoadBalancer,
}

// `helm lint --strict` and `helm template` pass with each optional feature.
func TestChartLint(t *testing.T) {
	for name, values := range chartFeatures {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			msgs, err := helmchart.Lint(chartDir, values, helmNamespace)
			g.Expect(err).NotTo(HaveOccurred())
			for _, m := range msgs {
				t.Log(m)
				g.Expect(m.Severity).To(BeNumerically("<", support.WarningSev), "helm lint: %s", m)
			}
			render(t, values)
		})
	}
}

func TestChartServiceMonitor(t *testing.T) {
	g := NewWithT(t)
	g.Expect(render(t, "").all("ServiceMonitor")).To(BeEmpty(), "off by default: it needs the Prometheus operator's CRDs")

	b := render(t, chartFeatures["everything"])
	sm := b.find("ServiceMonitor", "kros-operator-controller-manager-metrics-monitor")
	g.Expect(sm).NotTo(BeNil())
	g.Expect(sm.GetNamespace()).To(Equal(helmNamespace))
	g.Expect(sm.GetLabels()).To(HaveKeyWithValue("release", "kube-prometheus-stack"))
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	g.Expect(endpoints).To(HaveLen(1))
	g.Expect(endpoints[0]).To(And(
		HaveKeyWithValue("port", "https"), HaveKeyWithValue("scheme", "https"), HaveKeyWithValue("path", "/metrics"),
		HaveKeyWithValue("interval", "30s"), HaveKeyWithValue("scrapeTimeout", "10s"),
		HaveKeyWithValue("honorLabels", true),
		HaveKeyWithValue("bearerTokenFile", "/var/run/secrets/kubernetes.io/serviceaccount/token"),
		HaveKeyWithValue("tlsConfig", map[string]any{"insecureSkipVerify": true})))

	// The ServiceMonitor selects the metrics Service, and only it.
	svc := &corev1.Service{}
	b.only(t, "Service", svc)
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	for k, v := range selector {
		g.Expect(svc.Labels).To(HaveKeyWithValue(k, v))
	}
	g.Expect(selector).To(HaveKey("control-plane"))
	names, _, _ := unstructured.NestedStringSlice(sm.Object, "spec", "namespaceSelector", "matchNames")
	g.Expect(names).To(Equal([]string{helmNamespace}))

	// Prometheus' ServiceAccount may read the HTTPS endpoint.
	crb := b.find("ClusterRoleBinding", "kros-operator-metrics-reader-prometheus")
	g.Expect(crb).NotTo(BeNil())
	g.Expect(crb.Object["roleRef"]).To(HaveKeyWithValue("name", "kros-operator-metrics-reader"))
	g.Expect(crb.Object["subjects"]).To(Equal([]any{map[string]any{
		"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring",
	}}))

	b = render(t, chartFeatures["monitoring-plain-http"])
	endpoints, _, _ = unstructured.NestedSlice(b.find("ServiceMonitor",
		"kros-operator-controller-manager-metrics-monitor").Object, "spec", "endpoints")
	g.Expect(endpoints[0]).To(And(HaveKeyWithValue("port", "http"), HaveKeyWithValue("scheme", "http"),
		Not(HaveKey("bearerTokenFile")), Not(HaveKey("tlsConfig"))))

	_, _, err := renderChart(t, "{metrics: {enabled: false}, monitoring: {serviceMonitor: {enabled: true}}}")
	g.Expect(err).To(MatchError(ContainSubstring("monitoring.serviceMonitor.enabled needs metrics.enabled")))
}

// rule is one alerting rule of the chart's PrometheusRule.
type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// alertRules renders the chart with values and returns its PrometheusRule's
// spec (the rule groups, as a Prometheus rules file holds them) and rules.
func alertRules(t *testing.T, values string) (map[string]any, []rule) {
	t.Helper()
	pr := render(t, values).find("PrometheusRule", "kros-operator-alerts")
	if pr == nil {
		t.Fatalf("no PrometheusRule with values %q", values)
	}
	spec, _, _ := unstructured.NestedMap(pr.Object, "spec")
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var groups struct{ Groups []struct{ Rules []rule } }
	if err := json.Unmarshal(data, &groups); err != nil {
		t.Fatal(err)
	}
	var rules []rule
	for _, g := range groups.Groups {
		rules = append(rules, g.Rules...)
	}
	return spec, rules
}

func TestChartPrometheusRule(t *testing.T) {
	g := NewWithT(t)
	g.Expect(render(t, "").all("PrometheusRule")).To(BeEmpty(), "off by default: it needs the Prometheus operator's CRDs")

	_, rules := alertRules(t, "{monitoring: {prometheusRule: {enabled: true}}}")
	alerts := map[string]rule{}
	for _, r := range rules {
		alerts[r.Alert] = r
	}
	g.Expect(alerts).To(HaveLen(9))
	g.Expect(alerts).To(HaveKey("KrosOperatorNoLeader"))
	g.Expect(alerts["KrosAIRateLimited"].Expr).To(HaveSuffix("> 0.01"), "429s above 1 % of requests")
	g.Expect(alerts["KrosEndpointStalled"].For).To(Equal("15m"))
	g.Expect(alerts["KrosOperatorDown"].Expr).To(Equal(
		`absent(up{job="kros-operator-controller-manager-metrics-service",namespace="`+helmNamespace+`"} == 1)`),
		"up of the ServiceMonitor's targets: job is the Service's name")
	// Prometheus' own templates reach Prometheus unrendered by Helm.
	g.Expect(alerts["KrosEndpointStalled"].Annotations["summary"]).To(ContainSubstring("{{ $labels.reason }}"))

	// Every alert links a runbook section that exists, by a stable anchor.
	guide, err := os.ReadFile(filepath.Join(repoRoot, "docs", "troubleshooting.md"))
	g.Expect(err).NotTo(HaveOccurred())
	for name, r := range alerts {
		g.Expect(r.Labels).To(HaveKey("severity"), name)
		g.Expect(r.Annotations).To(HaveKey("summary"), name)
		page, anchor, ok := strings.Cut(r.Annotations["runbook_url"], "#")
		g.Expect(ok).To(BeTrue(), name)
		g.Expect(page).To(Equal("https://github.com/krosai/kros-operator/blob/main/docs/troubleshooting.md"))
		g.Expect(anchor).To(Equal("alert-"+strings.ToLower(name)), name)
		g.Expect(string(guide)).To(MatchRegexp(`<a id="%s"></a>\n### %s\n`, regexp.QuoteMeta(anchor), name),
			"docs/troubleshooting.md has the runbook of %s", name)
	}

	_, rules = alertRules(t, `{leaderElection: {enabled: false},
monitoring: {prometheusRule: {enabled: true,
  rateLimitedRatio: 0.2, serverErrorRatio: 0.3, driftCorrectionsPerHour: 40}}}`)
	exprs := map[string]string{}
	for _, r := range rules {
		exprs[r.Alert] = r.Expr
	}
	g.Expect(exprs).NotTo(HaveKey("KrosOperatorNoLeader"), "no lease without leader election")
	g.Expect(exprs["KrosAIRateLimited"]).To(HaveSuffix("> 0.2"))
	g.Expect(exprs["KrosAIServerErrors"]).To(HaveSuffix("> 0.3"))
	g.Expect(exprs["KrosEndpointDriftCorrections"]).To(HaveSuffix("> 40"))
}

// promtoolPath is the promtool make test builds (bin/promtool).
func promtoolPath(t *testing.T) string {
	t.Helper()
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		t.Fatal("PROMTOOL is not set: run `make test`, which builds bin/promtool, or export PROMTOOL=$(pwd)/bin/promtool")
	}
	return promtool
}

// promtool check rules (Prometheus' own rule parser and PromQL parser)
// accepts the chart's rules, with leader election and without.
func TestChartPrometheusRulePromtool(t *testing.T) {
	promtool := promtoolPath(t)
	for name, values := range map[string]string{
		"leader-election":    "{monitoring: {prometheusRule: {enabled: true}}}",
		"no-leader-election": "{leaderElection: {enabled: false}, monitoring: {prometheusRule: {enabled: true}}}",
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			spec, rules := alertRules(t, values)
			data, err := yaml.Marshal(spec)
			g.Expect(err).NotTo(HaveOccurred())
			file := filepath.Join(t.TempDir(), "rules.yaml")
			g.Expect(os.WriteFile(file, data, 0o600)).To(Succeed())
			out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
			g.Expect(err).NotTo(HaveOccurred(), "promtool check rules:\n%s\n%s", out, data)
			g.Expect(string(out)).To(ContainSubstring("SUCCESS: %d rules found", len(rules)))
		})
	}
}

func TestChartGrafanaDashboard(t *testing.T) {
	g := NewWithT(t)
	g.Expect(render(t, "").all("ConfigMap")).To(BeEmpty())

	b := render(t, chartFeatures["everything"])
	cm := &corev1.ConfigMap{}
	b.only(t, "ConfigMap", cm)
	g.Expect(cm.Name).To(Equal("kros-operator-grafana-dashboard"))
	g.Expect(cm.Namespace).To(Equal("grafana"))
	g.Expect(cm.Labels).To(HaveKeyWithValue("grafana_dashboard", "1"), "the Grafana sidecar's label")
	g.Expect(cm.Annotations).To(HaveKeyWithValue("grafana_folder", "Operators"))

	var dashboard struct {
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	g.Expect(json.Unmarshal([]byte(cm.Data["kros-operator.json"]), &dashboard)).To(Succeed())
	g.Expect(dashboard.UID).To(Equal("kros-operator"))
	titles := make([]string, 0, len(dashboard.Panels))
	for _, p := range dashboard.Panels {
		titles = append(titles, p.Title)
		g.Expect(p.Targets).NotTo(BeEmpty(), p.Title)
	}
	g.Expect(titles).To(ContainElements("KrosEndpoints by condition", "API requests by operation and code",
		"Rate-limit headroom per organization", "Reconcile latency", "Writes per minute"))
}

// With every optional feature on, what needs no CRD beyond the chart's own
// (the dashboard ConfigMap, the ClusterRoleBinding for Prometheus) passes a
// server-side dry run; ServiceMonitor and PrometheusRule need the Prometheus
// operator's CRDs, which this control plane does not have.
func TestChartMonitoringDryRun(t *testing.T) {
	var objs bundle
	for _, o := range render(t, chartFeatures["everything"]) {
		if o.GroupVersionKind().Group != "monitoring.coreos.com" {
			objs = append(objs, o)
		}
	}
	for _, name := range []string{helmNamespace, "grafana"} {
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName(name)
		objs = append(objs, ns)
	}
	dryRunApply(t, objs)
}

// alertCase is a promtool rule unit test: input series, and the alert that
// must fire at evalTime with these labels and summary (its other
// annotations are the rule's own, taken from the rendered rule).
type alertCase struct {
	alert    string
	series   map[string]string
	evalTime string
	labels   map[string]string
	summary  string
}

// The service labels Prometheus adds to the manager's series when the
// chart's ServiceMonitor scrapes it.
const scraped = `job="kros-operator-controller-manager-metrics-service",namespace="` + helmNamespace + `"`

var alertCases = []alertCase{{
	alert: "KrosEndpointStalled",
	series: map[string]string{
		`kros_operator_endpoint_conditions{condition="Stalled",status="True",reason="SecretNotFound",` +
			scraped + `}`: "0 1x30",
	},
	evalTime: "20m",
	labels:   map[string]string{"reason": "SecretNotFound"},
	summary:  "1 KrosEndpoint(s) Stalled with reason SecretNotFound for 15 minutes",
}, {
	alert:    "KrosEndpointRemoteError",
	series:   map[string]string{`kros_operator_endpoints{type="vapi",state="error",` + scraped + `}`: "2x30"},
	evalTime: "20m",
	labels:   map[string]string{"type": "vapi"},
	summary:  "2 vapi endpoint(s) in state error at KrosAI for 15 minutes",
}, {
	alert: "KrosAIRateLimited",
	series: map[string]string{
		`krosai_client_requests_total{operation="listEndpoints",code="200",` + scraped + `}`: "0+100x40",
		`krosai_client_requests_total{operation="listEndpoints",code="429",` + scraped + `}`: "0+2x40",
	},
	evalTime: "30m",
	summary:  "1.961% of KrosAI API requests are answered 429",
}, {
	alert: "KrosAIServerErrors",
	series: map[string]string{
		`krosai_client_requests_total{operation="updateEndpoint",code="200",` + scraped + `}`: "0+100x40",
		`krosai_client_requests_total{operation="updateEndpoint",code="503",` + scraped + `}`: "0+10x40",
	},
	evalTime: "30m",
	summary:  "9.091% of KrosAI API requests fail with a 5xx",
}, {
	alert: "KrosAIOrganizationNotRead",
	series: map[string]string{
		// Last read at 60 s, then never again; lists due every 10 minutes.
		`kros_operator_organization_last_read_timestamp_seconds{organization="org-a",` + scraped + `}`: "60x40",
		`kros_operator_effective_sync_period_seconds{organization="org-a",` + scraped + `}`:            "600x40",
	},
	evalTime: "30m",
	labels:   map[string]string{"organization": "org-a"},
	summary:  "KrosAI organization org-a was last read 29m 0s ago",
}, {
	alert: "KrosEndpointDriftCorrections",
	series: map[string]string{
		// honorLabels: the KrosEndpoint's namespace, not the manager's.
		`kros_operator_drift_corrections_total{namespace="team-a",` +
			`job="kros-operator-controller-manager-metrics-service"}`: "0+1x120",
	},
	evalTime: "90m",
	labels:   map[string]string{"namespace": "team-a"},
	summary:  "60 writes in the last hour to endpoints of namespace team-a whose spec had not changed",
}, {
	alert: "KrosAIEventDeliveriesRefused",
	series: map[string]string{
		`kros_operator_event_deliveries_total{outcome="unauthorized",` + scraped + `}`: "0+1x120",
		`kros_operator_event_deliveries_total{outcome="accepted",` + scraped + `}`:     "0+100x120",
	},
	evalTime: "90m",
	summary:  "60 KrosAI event deliveries refused in the last hour (bad signature, malformed or too large)",
}, {
	alert:    "KrosOperatorDown",
	series:   map[string]string{`up{` + scraped + `,pod="manager-0"}`: "1 1 0x20"},
	evalTime: "15m",
	summary:  "No replica of the kros-operator manager in " + helmNamespace + " is up and serving metrics",
}, {
	alert: "KrosOperatorNoLeader",
	series: map[string]string{
		`leader_election_master_status{name="kros-operator.cockpit.krosai.com",` + scraped + `,pod="manager-0"}`: "1 0x20",
	},
	evalTime: "10m",
	summary:  "No kros-operator manager replica in " + helmNamespace + " holds the leader lease",
}}

// promtool test rules: each alert fires on the series it is about, with the
// labels and summary its runbook expects, and stays silent below its
// threshold or before its `for`.
func TestChartPrometheusRuleFires(t *testing.T) {
	promtool := promtoolPath(t)
	g := NewWithT(t)
	spec, rules := alertRules(t, "{monitoring: {prometheusRule: {enabled: true}}}")
	byName := map[string]rule{}
	for _, r := range rules {
		byName[r.Alert] = r
	}
	g.Expect(alertCases).To(HaveLen(len(rules)), "a case for every alert")

	type series struct {
		Series string `json:"series"`
		Values string `json:"values"`
	}
	type expAlert struct {
		ExpLabels      map[string]string `json:"exp_labels"`
		ExpAnnotations map[string]string `json:"exp_annotations"`
	}
	type alertTest struct {
		EvalTime  string     `json:"eval_time"`
		Alertname string     `json:"alertname"`
		ExpAlerts []expAlert `json:"exp_alerts"`
	}
	type testGroup struct {
		Interval       string      `json:"interval"`
		InputSeries    []series    `json:"input_series"`
		AlertRuleTests []alertTest `json:"alert_rule_test"`
	}
	groups := make([]testGroup, 0, len(alertCases)+1)
	for _, c := range alertCases {
		r, ok := byName[c.alert]
		g.Expect(ok).To(BeTrue(), c.alert)
		labels := map[string]string{"severity": r.Labels["severity"]}
		maps.Copy(labels, c.labels)
		annotations := maps.Clone(r.Annotations)
		annotations["summary"] = c.summary
		tg := testGroup{Interval: "1m", AlertRuleTests: []alertTest{
			// Not yet: the expression holds, but not for the rule's `for`.
			{EvalTime: "1m", Alertname: c.alert},
			{EvalTime: c.evalTime, Alertname: c.alert, ExpAlerts: []expAlert{{ExpLabels: labels, ExpAnnotations: annotations}}},
		}}
		for _, s := range slices.Sorted(maps.Keys(c.series)) {
			tg.InputSeries = append(tg.InputSeries, series{Series: s, Values: c.series[s]})
		}
		groups = append(groups, tg)
	}
	// Below the thresholds: 0.5 % 429s, 2 % 5xx, 6 drift corrections an hour.
	groups = append(groups, testGroup{Interval: "1m", InputSeries: []series{
		{Series: `krosai_client_requests_total{operation="getEndpoint",code="200",` + scraped + `}`, Values: "0+1000x120"},
		{Series: `krosai_client_requests_total{operation="getEndpoint",code="429",` + scraped + `}`, Values: "0+5x120"},
		{Series: `krosai_client_requests_total{operation="getEndpoint",code="500",` + scraped + `}`, Values: "0+20x120"},
		{Series: `kros_operator_drift_corrections_total{namespace="team-a"}`, Values: "0+0.1x120"},
		// Replays are KrosAI's own redeliveries: not counted.
		{Series: `kros_operator_event_deliveries_total{outcome="too_large"}`, Values: "0+0.1x120"},
		{Series: `kros_operator_event_deliveries_total{outcome="replayed"}`, Values: "0+100x120"},
		// Listed every minute, within two periods of 10 minutes.
		{Series: `kros_operator_organization_last_read_timestamp_seconds{organization="org-a"}`, Values: "0+60x120"},
		{Series: `kros_operator_effective_sync_period_seconds{organization="org-a"}`, Values: "600x120"},
	}, AlertRuleTests: []alertTest{
		{EvalTime: "110m", Alertname: "KrosAIOrganizationNotRead"},
		{EvalTime: "110m", Alertname: "KrosAIRateLimited"},
		{EvalTime: "110m", Alertname: "KrosAIServerErrors"},
		{EvalTime: "110m", Alertname: "KrosEndpointDriftCorrections"},
		{EvalTime: "110m", Alertname: "KrosAIEventDeliveriesRefused"},
	}})

	dir := t.TempDir()
	rulesYAML, err := yaml.Marshal(spec)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(dir, "rules.yaml"), rulesYAML, 0o600)).To(Succeed())
	testsYAML, err := yaml.Marshal(map[string]any{
		"rule_files": []string{"rules.yaml"}, "evaluation_interval": "1m", "tests": groups,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(dir, "tests.yaml"), testsYAML, 0o600)).To(Succeed())
	out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, "tests.yaml")).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "promtool test rules:\n%s\n%s", out, testsYAML)
}
