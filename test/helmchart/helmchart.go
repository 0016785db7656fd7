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

// Package helmchart renders and lints dist/chart in-process with the Helm
// SDK, as `helm template` and `helm lint` do, for the tests that check the
// chart (test/install) and the metrics its monitoring uses (test/image).
package helmchart

import (
	"fmt"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// Render renders the chart in dir as `helm install NAME DIR -n NAMESPACE -f
// values --dry-run` would, with values a YAML values file: the rendered text
// of every template, by template path. Rendering is strict, as in helm lint:
// a reference to a missing value fails.
func Render(dir, values, name, namespace string) (map[string]string, error) {
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	vals, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		return nil, fmt.Errorf("values %q: %w", values, err)
	}
	top, err := chartutil.ToRenderValues(chrt, vals,
		chartutil.ReleaseOptions{Name: name, Namespace: namespace, IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return nil, err
	}
	return engine.Engine{Strict: true}.Render(chrt, top)
}

// Lint runs `helm lint --strict DIR -n NAMESPACE -f values` and returns its
// messages; helm lint fails on any of severity warning or error.
func Lint(dir, values, namespace string) ([]support.Message, error) {
	vals, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		return nil, fmt.Errorf("values %q: %w", values, err)
	}
	return lint.All(dir, vals, namespace, true).Messages, nil
}
