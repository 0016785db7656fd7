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

// Command demo shows kros-operator at work on a laptop: a local control
// plane, the KrosAI simulator and the manager as separate processes, one
// KrosEndpoint of every type applied, Ready, listed beside the simulator's
// view, and deleted. Run it with `make demo` (KEEP=1 leaves it running).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	demoKey          = "kros_test_demodemodemodemodemodemodemo00"
	demoOrg          = "0d3e5f7a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	demoNamespace    = "demo"
	operatorNS       = "kros-system"
	credentialsName  = "krosai-credentials"
	readyTimeout     = "120s"
	deleteTimeoutArg = "--timeout=120s"
)

func main() {
	keep := flag.Bool("keep", false, "leave everything running until Ctrl-C")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

var started = time.Now()

func step(format string, args ...any) {
	fmt.Printf("\n==> [%5.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

func run(keep bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := harness.Root()
	if err != nil {
		return err
	}

	step("starting a local control plane (kube-apiserver, etcd, kube-controller-manager) with the KrosEndpoint CRD")
	cp, err := harness.StartControlPlane(harness.ControlPlaneOptions{ControllerManager: true})
	if err != nil {
		return err
	}
	defer func() { _ = cp.Stop() }()

	step("starting the KrosAI simulator (bin/krosai-sim)")
	sim, err := harness.StartSimulator(filepath.Join(root, "bin", "krosai-sim"), harness.SimulatorOptions{},
		"--api-key", demoKey+"="+demoOrg, "--latency", "30ms", "--latency-jitter", "10ms")
	if err != nil {
		return err
	}
	defer sim.Stop()
	fmt.Println("    simulator API:", sim.URL+"/v1")

	step("creating namespace %s with the default credentials Secret %s", operatorNS, credentialsName)
	for _, obj := range []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}},
		{ObjectMeta: metav1.ObjectMeta{Name: demoNamespace}}} {
		if err := cp.Admin.Create(ctx, obj); err != nil {
			return err
		}
	}
	if err := cp.Admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: credentialsName},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: demoKey},
	}); err != nil {
		return err
	}

	step("starting the manager (bin/manager) as its own process")
	managerLog := filepath.Join(cp.Dir, "manager.log")
	manager, err := harness.Start(managerLog, filepath.Join(root, "bin", "manager"), harness.ManagerFlags{
		Kubeconfig:        cp.AdminKubeconfig,
		OperatorNamespace: operatorNS,
		APIURL:            sim.APIURL(),
		SyncPeriod:        30 * time.Second,
	}.Args()...)
	if err != nil {
		return err
	}
	defer manager.Stop()

	step("applying config/samples: one KrosEndpoint of every type, with the Secrets they reference")
	if err := kubectl(ctx, cp, "apply", "-n", demoNamespace, "-k", filepath.Join(root, "config", "samples")); err != nil {
		return err
	}

	step("waiting for every KrosEndpoint to be Ready")
	if err := kubectl(ctx, cp, "wait", "-n", demoNamespace, "--for=condition=Ready", "krosendpoints", "--all",
		"--timeout="+readyTimeout); err != nil {
		return fmt.Errorf("%w (manager log: %s)", err, managerLog)
	}

	step("kubectl get krosendpoints -o wide")
	if err := kubectl(ctx, cp, "get", "krosendpoints", "-n", demoNamespace, "-o", "wide"); err != nil {
		return err
	}
	step("the same endpoints as the KrosAI simulator stores them (GET %s/_sim/endpoints)", sim.URL)
	if err := printSimulator(ctx, sim.Admin()); err != nil {
		return err
	}

	if keep {
		fmt.Printf(`
Everything keeps running until Ctrl-C. Try:

  export KUBECONFIG=%s
  alias kubectl=%s
  kubectl get kep -A -o wide
  kubectl -n %s patch kep sales-vapi --type=merge -p '{"spec":{"displayName":"Renamed"}}'
  kubectl -n %s annotate kep sales-vapi cockpit.krosai.com/paused=true
  curl -s %s/_sim/endpoints | head
  curl -s %s/_sim/stats

The kubectl plugin (docs/cli.md) is bin/kubectl-krosai; on PATH, kubectl runs it
as kubectl krosai. Point it at the demo's credentials Secret and the simulator:

  export PATH=%s:$PATH
  kubectl krosai plan -A --credentials-secret %s/%s --krosai-api-url %s
  kubectl krosai unclaimed --credentials-secret %s/%s --krosai-api-url %s

The manager's log is %s.
`, cp.AdminKubeconfig, filepath.Join(cp.Assets, "kubectl"), demoNamespace, demoNamespace, sim.URL, sim.URL,
			filepath.Join(root, "bin"), operatorNS, credentialsName, sim.APIURL(),
			operatorNS, credentialsName, sim.APIURL(), managerLog)
		<-ctx.Done()
		fmt.Println("\nstopping")
		return nil
	}

	step("deleting the samples")
	if err := kubectl(ctx, cp, "delete", "-n", demoNamespace, "-k", filepath.Join(root, "config", "samples"),
		"--wait", deleteTimeoutArg); err != nil {
		return err
	}
	step("what is left in the simulator")
	left, err := simulatorEndpoints(ctx, sim.Admin())
	if err != nil {
		return err
	}
	if err := printSimulator(ctx, sim.Admin()); err != nil {
		return err
	}
	// The custom SIP sample sets deletionPolicy: Orphan, to show the policy.
	if len(left) != 1 || left[0].Name != "Office PBX" {
		return fmt.Errorf("expected only the Orphan sample left in KrosAI, found %d endpoints", len(left))
	}
	fmt.Println("    6 endpoints were deleted with their resources; " +
		"\"Office PBX\" stays in KrosAI because its deletionPolicy is Orphan.")
	step("done: stopping the manager, the simulator and the control plane")
	return nil
}

func kubectl(ctx context.Context, cp *harness.ControlPlane, args ...string) error {
	out, err := cp.Kubectl(ctx, args...)
	fmt.Print(indent(out))
	return err
}

// simulatorEndpoints returns the demo organization's endpoints, by name.
func simulatorEndpoints(ctx context.Context, admin krosaisim.Admin) ([]krosaisim.Endpoint, error) {
	byOrg, err := admin.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	all := byOrg[demoOrg]
	slices.SortFunc(all, func(a, b krosaisim.Endpoint) int { return strings.Compare(a.Name, b.Name) })
	return all, nil
}

func printSimulator(ctx context.Context, admin krosaisim.Admin) error {
	all, err := simulatorEndpoints(ctx, admin)
	if err != nil {
		return err
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	_, _ = fmt.Fprintln(w, "ID\tNAME\tTYPE\tSTATUS\tURL")
	for _, e := range all {
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Name, e.Type, e.Status, e.URL)
	}
	_ = w.Flush()
	fmt.Print(indent(b.String()))
	return nil
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}
