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

package image

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/krosai/kros-operator/test/helmchart"
)

// targetLabels are added by Prometheus to every scraped series; a selector
// may match on them although the manager does not export them.
var targetLabels = []string{"job", "namespace", "instance", "pod", "service", "endpoint", "container"}

// monitoringQueries renders the chart with its alerts and dashboard and
// returns every PromQL expression in them, by where it is used.
func monitoringQueries(t *testing.T, root string) map[string]string {
	t.Helper()
	out, err := helmchart.Render(filepath.Join(root, "dist", "chart"),
		"monitoring: {prometheusRule: {enabled: true}, dashboard: {enabled: true}}", "kros-operator", operatorNamespace)
	if err != nil {
		t.Fatalf("render the chart: %v", err)
	}
	queries := map[string]string{}

	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct{ Alert, Expr string }
			}
		}
	}
	if err := yaml.Unmarshal([]byte(out["kros-operator/templates/prometheusrule.yaml"]), &rule); err != nil {
		t.Fatal(err)
	}
	for _, group := range rule.Spec.Groups {
		for _, r := range group.Rules {
			queries["alert "+r.Alert] = r.Expr
		}
	}

	var cm corev1.ConfigMap
	if err := yaml.Unmarshal([]byte(out["kros-operator/templates/grafana-dashboard.yaml"]), &cm); err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string
			Targets []struct{ RefID, Expr string }
		}
	}
	if err := json.Unmarshal([]byte(cm.Data["kros-operator.json"]), &dashboard); err != nil {
		t.Fatal(err)
	}
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			// Grafana's variables, as Grafana substitutes them.
			queries[fmt.Sprintf("panel %q %s", p.Title, target.RefID)] =
				strings.ReplaceAll(target.Expr, "$__rate_interval", "5m")
		}
	}
	if len(queries) < 10 {
		t.Fatalf("found only %d queries in the chart's alerts and dashboard", len(queries))
	}
	return queries
}

// selector is a metric a query selects and the labels it matches on.
type selector struct {
	metric string
	labels []string
}

func selectors(query string) ([]selector, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return nil, err
	}
	var out []selector
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		s := selector{metric: vs.Name}
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				s.metric = m.Value
			} else {
				s.labels = append(s.labels, m.Name)
			}
		}
		out = append(out, s)
		return nil
	})
	return out, nil
}

// family finds the scraped family a series name belongs to: itself, or a
// histogram's or summary's _bucket, _sum and _count.
func family(families map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if f, ok := families[name]; ok {
		return f
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if f := families[base]; ok && f != nil &&
			(f.GetType() == dto.MetricType_HISTOGRAM || suffix != "_bucket" && f.GetType() == dto.MetricType_SUMMARY) {
			return f
		}
	}
	return nil
}

func hasLabel(f *dto.MetricFamily, name string) bool {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return true
			}
		}
	}
	return false
}

// checkMonitoringMetrics fails the test unless every metric the chart's
// alerts and dashboard select is in families (a scrape of the manager), with
// every label they match on. Only `up`, the series Prometheus itself writes
// for each target, is exempt, and only in alerts.
func checkMonitoringMetrics(t *testing.T, root string, families map[string]*dto.MetricFamily) {
	t.Helper()
	queries := monitoringQueries(t, root)
	seen := map[string]bool{}
	for _, where := range slices.Sorted(maps.Keys(queries)) {
		sels, err := selectors(queries[where])
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", where, queries[where], err)
			continue
		}
		if len(sels) == 0 {
			t.Errorf("%s: %q selects no metric", where, queries[where])
		}
		for _, s := range sels {
			seen[s.metric] = true
			if s.metric == "up" && strings.HasPrefix(where, "alert ") {
				continue
			}
			f := family(families, s.metric)
			if f == nil {
				t.Errorf("%s uses %s, which the manager does not export", where, s.metric)
				continue
			}
			for _, l := range s.labels {
				if !slices.Contains(targetLabels, l) && !hasLabel(f, l) {
					t.Errorf("%s matches %s on label %q, which it does not have", where, s.metric, l)
				}
			}
		}
	}
	t.Logf("the chart's alerts and dashboard use %d metrics, all exported: %s",
		len(seen), strings.Join(slices.Sorted(maps.Keys(seen)), ", "))
}
