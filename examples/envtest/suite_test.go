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

// Package example is a platform team's envtest suite using kros-operator's
// public packages, and nothing else of it: the CRDs from pkg/crds, the
// simulator from pkg/krosaisim, the operator in-process through
// pkg/operator, and the waits and leak checker of pkg/operatortest.
// docs/testing-with-envtest.md explains it.
package example

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/krosai/kros-operator/pkg/crds"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operator"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

// The keys and organizations the GitOps tree uses (testdata/gitops): the
// platform's default credentials, and team B's own.
const (
	platformKey = "kros_test_platformplatformplatform00000"
	platformOrg = "11111111-1111-4111-8111-111111111111"
	teamBKey    = "kros_test_teambteambteambteambteamb0000"
	teamBOrg    = "22222222-2222-4222-8222-222222222222"

	operatorNamespace = "kros-system"
	timeout           = 60 * time.Second
	interval          = 100 * time.Millisecond
)

var (
	ctx       context.Context
	k8sClient client.Client
	sim       *krosaisim.Server
	// logs is everything the operator logged, for the leak check.
	logs operatortest.LogBuffer
	// secrets are the values that must never appear where the operator
	// writes; the tests add what they learn (signing secrets).
	secrets operatortest.Secrets
)

// TestMain starts one control plane, one simulator and one operator for
// every test, and checks for leaked secrets once they have all run.
func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	logf.SetLogger(zap.New(zap.WriteTo(&logs), zap.UseDevMode(true)))

	crdList, err := crds.All()
	if err != nil {
		return 0, err
	}
	// envtest finds kube-apiserver and etcd in KUBEBUILDER_ASSETS, as
	// setup-envtest installs them.
	env := &envtest.Environment{CRDs: crdList}
	cfg, err := env.Start()
	if err != nil {
		return 0, fmt.Errorf("start envtest (is KUBEBUILDER_ASSETS set?): %w", err)
	}
	defer func() { _ = env.Stop() }()

	sim, err = krosaisim.New(krosaisim.Options{Keys: []krosaisim.APIKey{
		{Key: platformKey, Org: platformOrg}, {Key: teamBKey, Org: teamBOrg},
	}})
	if err != nil {
		return 0, err
	}
	defer func() { _ = sim.Close() }()

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  operator.NewScheme(),
		Cache:   operator.CacheOptions(operatorNamespace, nil),
		Metrics: metricsserver.Options{BindAddress: "0"}, // the registry is read directly
	})
	if err != nil {
		return 0, err
	}
	if err := operator.Setup(mgr, operator.Options{
		APIURL:             sim.APIURL(),
		DefaultCredentials: types.NamespacedName{Namespace: operatorNamespace, Name: "krosai-credentials"},
		// Retries after a 5xx start at 10ms rather than 200ms: the suite
		// injects them.
		RetryBackoffBase: 10 * time.Millisecond,
		RetryBackoffCap:  time.Second,
		RegisterMetrics:  true,
	}); err != nil {
		return 0, err
	}
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel() // stops the manager before the control plane
	managerDone := make(chan error, 1)
	go func() { managerDone <- mgr.Start(ctx) }()

	// A client of our own, not the manager's: it reads the API server, not
	// the operator's cache.
	if k8sClient, err = client.New(cfg, client.Options{Scheme: operator.NewScheme()}); err != nil {
		return 0, err
	}

	code := m.Run()
	select {
	case err := <-managerDone:
		return code, fmt.Errorf("the manager stopped: %w", err)
	default:
	}
	if code == 0 {
		return code, checkNothingLeaked()
	}
	return code, nil
}

// checkNothingLeaked scans the operator's logs and metrics, every Event and
// every KrosEndpoint for the suite's secret values.
func checkNothingLeaked() error {
	for _, key := range []string{platformKey, teamBKey, pbxPassword} {
		secrets.Add(key, "a secret of the GitOps tree")
	}
	report, err := secrets.Scan(ctx, k8sClient, operatortest.Sources{Logs: logs.Bytes(), Metrics: ctrlmetrics.Registry})
	switch {
	case err != nil:
		return err
	case report.Events == 0 || report.KrosEndpoints == 0 || report.LogBytes == 0:
		return fmt.Errorf("the leak check read too little to mean anything: %+v", report)
	case len(report.Leaks) > 0:
		return fmt.Errorf("secret values leaked: %v", report.Leaks)
	}
	return nil
}

// apply applies every manifest under dir, file by file in lexical order,
// with server-side apply as a GitOps controller would.
func apply(dir string) ([]*unstructured.Unstructured, error) {
	var applied []*unstructured.Unstructured
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			if err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
				client.FieldOwner("gitops"), client.ForceOwnership); err != nil {
				return fmt.Errorf("%s: apply %s %s: %w", path, obj.GetKind(), obj.GetName(), err)
			}
			applied = append(applied, obj)
		}
	})
	return applied, err
}
