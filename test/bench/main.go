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

// Command bench measures kros-operator on the real binaries: convergence
// time against the API's rate limit, API calls and Kubernetes writes per
// resource, and the manager's memory and CPU. Run it with `make bench`.
//
// Every figure comes from a counter: the simulator's /_sim/stats, the
// manager's /metrics (client-go's rest_client_requests_total among them),
// and /proc for the manager's memory and CPU.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	// operatorNamespace holds the default credentials Secret.
	operatorNamespace = "kros-system"
	benchKey          = "kros_test_benchbenchbenchbenchbenchben"
	benchOrg          = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
)

type config struct {
	n, namespaces    int
	latency, jitter  time.Duration
	rate, clientRate float64
	syncPeriod       time.Duration
	concurrency      int
	memoryN          int
	containerMemory  int64
	jsonOut          string
	profileDir       string
	phases
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 1000, "KrosEndpoints to create")
	flag.IntVar(&c.namespaces, "namespaces", 10, "namespaces to spread them over")
	flag.DurationVar(&c.latency, "latency", 50*time.Millisecond, "simulator latency")
	flag.DurationVar(&c.jitter, "jitter", 10*time.Millisecond, "simulator latency jitter")
	flag.Float64Var(&c.rate, "rate", 200, "the API's rate limit in requests per second (the plan)")
	flag.Float64Var(&c.clientRate, "client-rate", 190, "the operator's --api-rate-limit, just under the plan")
	flag.DurationVar(&c.syncPeriod, "sync-period", 30*time.Second, "the operator's --sync-period")
	flag.IntVar(&c.concurrency, "concurrency", 64,
		"the operator's --max-concurrent-reconciles: R times the seconds one create takes, a POST and 4 writes")
	flag.IntVar(&c.memoryN, "memory-n", 10000, "N of the memory phase (0 skips it)")
	flag.Int64Var(&c.containerMemory, "container-memory-mib", 0,
		"run the memory phase as under a container memory limit of this many MiB: the manager then "+
			"sets its soft limit to 90% of it, as it does in a pod (GOMEMLIMIT); 0 runs it without one")
	flag.StringVar(&c.jsonOut, "json", "bench.json", "where to write the figures as JSON")
	flag.StringVar(&c.profileDir, "profiles", "bench-profiles",
		"where to keep the manager's pprof profiles, for go tool pprof")
	c.flags()
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
}

// figure is one row of the report.
type figure struct {
	Phase, Name string
	Value       float64
	// NA: the figure could not be had (Value is then 0), e.g. the build
	// measured lacks what it counts.
	NA     bool `json:",omitempty"`
	Unit   string
	Target string `json:",omitempty"`
}

type bench struct {
	c       config
	ctx     context.Context
	root    string
	cp      *harness.ControlPlane
	sim     *harness.Simulator
	manager *harness.Process
	metrics string // the manager's metrics URL
	pprof   string
	figures []figure
	// observed are the remote ids the ObserveOnly resources observe.
	observed []string
	// eventCerts holds the event receiver's tls.crt and tls.key, and
	// eventCA is the certificate that the simulator and the bench trust it by.
	eventCerts string
	eventCA    []byte
}

func (b *bench) add(phase, name string, value float64, unit, target string) {
	b.figures = append(b.figures, figure{Phase: phase, Name: name, Value: value, Unit: unit, Target: target})
	fmt.Printf("    %-10s %-48s %12.3f %-8s %s\n", phase, name, value, unit, target)
}

// na reports a figure that could not be had, and why.
func (b *bench) na(phase, name, unit, target, why string) {
	b.figures = append(b.figures, figure{Phase: phase, Name: name, NA: true, Unit: unit, Target: target})
	fmt.Printf("    %-10s %-48s %12s %-8s %s (%s)\n", phase, name, "n/a", unit, target, why)
}

func run(c config) error {
	ctx := context.Background()
	root, err := harness.Root()
	if err != nil {
		return err
	}
	b := &bench{c: c, ctx: ctx, root: root}
	fmt.Printf("kros-operator bench: N=%d over %d namespaces, API %g req/s with %s±%s latency, "+
		"client %g req/s, %d workers, %d cores\n",
		c.n, c.namespaces, c.rate, c.latency, c.jitter, c.clientRate, c.concurrency, numCPU())

	b.cp, err = harness.StartControlPlane(harness.ControlPlaneOptions{ControllerManager: true})
	if err != nil {
		return err
	}
	defer func() { _ = b.cp.Stop() }()
	defer b.keepManagerLog("manager.log")
	// The events phase's receiver serves HTTPS with a certificate of its
	// own, which the simulator trusts. The simulator delivers its events
	// (on by default) to loopback webhooks only: the other phases' webhooks
	// point at hooks.example.com, and cost it a skip each.
	if b.eventCerts, err = os.MkdirTemp("", "kros-bench-events-"); err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(b.eventCerts) }()
	if b.eventCA, err = harness.WriteServingCert(b.eventCerts); err != nil {
		return err
	}
	caFile := filepath.Join(b.eventCerts, "ca.pem")
	if err := os.WriteFile(caFile, b.eventCA, 0o600); err != nil {
		return err
	}
	b.sim, err = harness.StartSimulator(filepath.Join(root, "bin", "krosai-sim"), harness.SimulatorOptions{},
		"--api-key", benchKey+"="+benchOrg, "--latency", c.latency.String(), "--latency-jitter", c.jitter.String(),
		"--rate-limit", ftoa(c.rate), "--burst", strconv.Itoa(int(c.rate)), "--list-shape", "wrapped",
		"--event-ca-file", caFile)
	if err != nil {
		return err
	}
	defer b.sim.Stop()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}
	if err := b.cp.Admin.Create(ctx, ns); err != nil {
		return err
	}
	if err := b.cp.Admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: "krosai-credentials"},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: benchKey},
	}); err != nil {
		return err
	}
	if err := b.startManager(c.clientRate); err != nil {
		return err
	}
	defer func() { b.manager.Stop() }()

	if err := b.create("create", c.n, "bench", c.rate); err != nil {
		return err
	}
	if err := b.steady(); err != nil {
		return err
	}
	if err := b.update(); err != nil {
		return err
	}
	if err := b.staleEdit(); err != nil {
		return err
	}
	if err := b.restart(); err != nil {
		return err
	}
	if err := b.unobserve(); err != nil {
		return err
	}
	if err := b.quotaShare(); err != nil {
		return err
	}
	if err := b.deleteAll("delete", c.n); err != nil {
		return err
	}
	// The phases of the request budget, each from an empty organization.
	for _, phase := range []func() error{b.outage, b.dailyLimit, b.freePlan, b.sharedKey} {
		if err := phase(); err != nil {
			return err
		}
	}
	if err := b.events(); err != nil {
		return err
	}
	if err := b.unlimited(); err != nil {
		return err
	}
	if c.memoryN > 0 {
		if err := b.memory(); err != nil {
			return err
		}
	}
	return b.write()
}

// startManager starts the manager with --api-rate-limit clientRate (0: the
// manager's default client flags) and extra flags.
func (b *bench) startManager(clientRate float64, extra ...string) error {
	metricsAddr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	pprofAddr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	b.metrics, b.pprof = "http://"+metricsAddr+"/metrics", "http://"+pprofAddr
	burst := 0
	if clientRate > 0 {
		burst = max(1, int(clientRate/10))
	}
	b.manager, err = harness.Start(filepath.Join(b.cp.Dir, "manager.log"), filepath.Join(b.root, "bin", "manager"),
		append(harness.ManagerFlags{
			Kubeconfig:              b.cp.AdminKubeconfig,
			OperatorNamespace:       operatorNamespace,
			APIURL:                  b.sim.APIURL(),
			SyncPeriod:              b.c.syncPeriod,
			APIRateLimit:            clientRate,
			APIBurst:                burst,
			MaxConcurrentReconciles: b.c.concurrency,
			MetricsAddr:             metricsAddr,
			InsecureMetrics:         true,
			PprofAddr:               pprofAddr,
		}.Args(), extra...)...)
	if err != nil {
		return err
	}
	return waitFor(30*time.Second, func() (bool, error) {
		if b.manager.Exited() {
			return false, fmt.Errorf("the manager exited at start (flags %v); see bench-profiles/manager.log", extra)
		}
		_, err := b.scrape()
		return err == nil, nil
	})
}

// create applies n KrosEndpoints, a mix of every type, and waits for all to be Ready.
func (b *bench) create(phase string, n int, prefix string, rate float64) error {
	fmt.Printf("\n%s: %d KrosEndpoints\n", phase, n)
	if err := b.namespacesAndSecrets(prefix); err != nil {
		return err
	}
	cpuBefore := b.readCPU()
	d, elapsed, err := b.measure(func(before counters) error {
		if err := b.spawn(prefix, n, nil); err != nil {
			return err
		}
		return b.waitCreated(before.firstReady+n, before.firstReady+n/2, phase == "memory")
	})
	if err != nil {
		return err
	}
	cpu := b.readCPU().since(cpuBefore)
	fmt.Println("    " + cpu.String())
	fmt.Println("    kube-apiserver writes per resource, all clients:", writesByResource(d.serverWrites, n))
	b.add(phase, "time to all Ready", elapsed.Seconds(), "s", "")
	b.add(phase, "machine CPU busy", cpu.machine, "cores", fmt.Sprintf("of %d", numCPU()))
	b.add(phase, "kube-apiserver and etcd CPU", cpu.processes["kube-apiserver"]+cpu.processes["etcd"], "cores", "")
	b.add(phase, "manager CPU", cpu.processes["manager"], "cores", "")
	if rate > 0 {
		floor := float64(n) / rate
		b.add(phase, "ratio to the floor N/R", elapsed.Seconds()/floor, "x", "<= 1.15")
	} else {
		b.add(phase, "creates per second", float64(n)/elapsed.Seconds(), "1/s", "")
	}
	b.add(phase, "POSTs per resource", float64(d.api["createEndpoint"])/float64(n), "", "1.000")
	b.add(phase, "other API calls per resource", float64(d.apiTotal()-d.api["createEndpoint"])/float64(n), "", "")
	b.add(phase, "429s", float64(d.api429), "", "")
	b.add(phase, "Kubernetes writes per resource, Events included", float64(d.kubeWrites)/float64(n), "", "")
	b.add(phase, "Kubernetes writes per resource, Events excluded", float64(d.kubeWrites-d.events)/float64(n), "", "<= 4")
	b.add(phase, "Kubernetes write conflicts (409) per resource", float64(d.conflicts)/float64(n), "", "")
	return nil
}

// steady counts what the operator does at rest, every type and both
// management policies among the resources.
func (b *bench) steady() error {
	if err := b.observe(); err != nil {
		return err
	}
	return b.rest("steady")
}

// rest waits one sync period, for the syncs the work before asked for,
// then counts the calls and writes of two sync periods in which nothing
// changes.
func (b *bench) rest(phase string) error {
	periods := 2
	fmt.Printf("\n%s: at rest, %d sync periods of %s\n", phase, periods, b.c.syncPeriod)
	time.Sleep(b.c.syncPeriod)
	before, err := b.counters()
	if err != nil {
		return err
	}
	time.Sleep(time.Duration(periods) * b.c.syncPeriod)
	after, err := b.counters()
	if err != nil {
		return err
	}
	d := after.minus(before)
	fmt.Println("    kube-apiserver writes, all clients:", writesByResource(d.serverWrites, 1))
	pages := math.Ceil(float64(b.c.n+len(b.observed)) / 100)
	b.add(phase, "API list requests per period", float64(d.api["listEndpoints"])/float64(periods), "",
		fmt.Sprintf("~%.0f (list pages of 100)", pages))
	b.add(phase, "API GETs per period", float64(d.api["getEndpoint"])/float64(periods), "", "0")
	b.add(phase, "PATCHes", float64(d.api["updateEndpoint"]), "", "0")
	b.add(phase, "KrosAI writes at rest", float64(d.api["createEndpoint"]+d.api["updateEndpoint"]+
		d.api["deleteEndpoint"]), "", "0")
	b.add(phase, "Kubernetes writes at rest", float64(d.kubeWrites), "", "0")
	return nil
}

func (b *bench) update() error {
	fmt.Printf("\nupdate: displayName of all %d\n", b.c.n)
	d, elapsed, err := b.measure(func(counters) error {
		if err := parallel(b.c.n, func(i int) error {
			ep := endpoint("bench", i, b.c.namespaces)
			patch := []byte(fmt.Sprintf(`{"spec":{"displayName":"updated %d"}}`, i))
			return b.cp.Admin.Patch(b.ctx, ep, client.RawPatch("application/merge-patch+json", patch))
		}); err != nil {
			return err
		}
		return b.waitReady(b.c.n, 2)
	})
	if err != nil {
		return err
	}
	b.add("update", "time to converge", elapsed.Seconds(), "s", "")
	b.add("update", "ratio to the floor N/R", elapsed.Seconds()/(float64(b.c.n)/b.c.rate), "x", "")
	b.add("update", "API calls per resource", float64(d.apiTotal())/float64(b.c.n), "", "1.000")
	b.add("update", "PATCHes per resource", float64(d.api["updateEndpoint"])/float64(b.c.n), "", "1.000")
	b.add("update", "other API calls per resource", float64(d.apiTotal()-d.api["updateEndpoint"])/float64(b.c.n), "", "")
	return nil
}

func (b *bench) restart() error {
	fmt.Println("\nrestart: SIGKILL the manager and start it again")
	b.manager.Kill()
	before, err := b.simCounters()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := b.startManager(b.c.clientRate); err != nil {
		return err
	}
	if err := b.waitReobserved(b.c.n + len(b.observed)); err != nil {
		return err
	}
	elapsed := time.Since(start)
	after, err := b.simCounters()
	if err != nil {
		return err
	}
	d := after.minus(before)
	b.add("restart", "time to re-observe everything", elapsed.Seconds(), "s", "")
	b.add("restart", "API calls spent", float64(d.apiTotal()), "", "")
	b.add("restart", "PATCHes and POSTs", float64(d.api["updateEndpoint"]+d.api["createEndpoint"]), "", "0")
	return b.rest("restart")
}

// waitReobserved waits until a newly started manager has reconciled n
// resources: each re-observed once.
func (b *bench) waitReobserved(n int) error {
	return waitFor(5*time.Minute, func() (bool, error) {
		m, err := b.scrape()
		if err != nil {
			return false, nil
		}
		reconciles := sum(m, "controller_runtime_reconcile_total", map[string]string{"controller": "krosendpoint"})
		return reconciles >= float64(n), nil
	})
}

func (b *bench) deleteAll(phase string, n int) error {
	fmt.Printf("\n%s: all %d\n", phase, n)
	d, elapsed, err := b.measure(func(counters) error { return b.clear() })
	if err != nil {
		return err
	}
	b.add(phase, "time to nothing left", elapsed.Seconds(), "s", "")
	b.add(phase, "DELETEs per resource", float64(d.api["deleteEndpoint"])/float64(n), "", "1.000")
	return nil
}

// unlimited measures what bounds creation when the API does not.
// clear deletes every KrosEndpoint and waits until none is left, nor any
// endpoint in the simulator.
func (b *bench) clear() error {
	for i := range b.c.namespaces {
		if err := b.cp.Admin.DeleteAllOf(b.ctx, &cockpitv1alpha1.KrosEndpoint{},
			client.InNamespace(namespace(i))); err != nil {
			return err
		}
	}
	return waitFor(10*time.Minute, func() (bool, error) {
		var list cockpitv1alpha1.KrosEndpointList
		if err := b.cp.Admin.List(b.ctx, &list); err != nil {
			return false, err
		}
		left, err := b.simStored()
		return len(list.Items) == 0 && left == 0, err
	})
}

func (b *bench) unlimited() error {
	fmt.Println("\nunlimited: no API rate limit, the operator's client unthrottled")
	if err := b.unlimitAPI(); err != nil {
		return err
	}
	b.manager.Stop()
	if err := b.startManager(100000); err != nil {
		return err
	}
	profile, apiServerProfile := make(chan string, 1), make(chan string, 1)
	go func() { profile <- b.cpuProfile(10 * time.Second) }()
	go func() { apiServerProfile <- b.apiServerCPUProfile(10 * time.Second) }()
	if err := b.create("unlimited", b.c.n, "fast", 0); err != nil {
		return err
	}
	fmt.Println(<-profile)
	fmt.Println(<-apiServerProfile)
	return b.deleteAll("unlimited", b.c.n)
}

func (b *bench) memory() error {
	n := b.c.memoryN
	fmt.Printf("\nmemory: peak RSS and CPU of the manager at N=%d and N=%d\n", b.c.n, n)
	b.add("memory", fmt.Sprintf("peak RSS after N=%d phases", b.c.n), b.peakRSS(), "MiB", "")
	b.manager.Stop()
	if b.c.containerMemory > 0 {
		// What setMemoryLimit derives from a pod's limit; the process
		// started here has no cgroup limit of its own.
		soft := b.c.containerMemory << 20 / 10 * 9
		if err := os.Setenv("GOMEMLIMIT", strconv.FormatInt(soft, 10)); err != nil {
			return err
		}
		defer func() { _ = os.Unsetenv("GOMEMLIMIT") }()
		fmt.Printf("    as in a container limited to %d MiB: GOMEMLIMIT=%d\n", b.c.containerMemory, soft)
	}
	if err := b.startManager(100000); err != nil {
		return err
	}
	if idle, ok := b.readMemory(); ok {
		fmt.Println("    idle, before the burst:", idle)
	}
	sampler := b.sampleMemory(200 * time.Millisecond)
	if err := b.create("memory", n, "mem", 0); err != nil {
		return err
	}
	peak := sampler.Stop()
	fmt.Println("    at the highest RSS sampled:", peak)
	b.add("memory", fmt.Sprintf("file-backed RSS (the binary) at N=%d", n), peak.file, "MiB", "")
	b.add("memory", fmt.Sprintf("Go heap in use at the peak, N=%d", n), peak.heapInuse, "MiB", "")
	b.add("memory", fmt.Sprintf("peak RSS at N=%d", n), b.peakRSS(), "MiB", "<= 150")
	b.add("memory", fmt.Sprintf("CPU seconds to create N=%d", n), b.cpuSeconds(), "s", "")
	fmt.Println(b.heapProfile())
	return nil
}

// heapProfile summarizes where the manager's live heap is.
func (b *bench) heapProfile() string {
	return b.profile("heap", "/debug/pprof/heap?gc=1", "-sample_index=inuse_space")
}

func (b *bench) write() error {
	out, err := json.MarshalIndent(map[string]any{"config": map[string]any{
		"n": b.c.n, "namespaces": b.c.namespaces, "latency": b.c.latency.String(), "jitter": b.c.jitter.String(),
		"rate": b.c.rate, "clientRate": b.c.clientRate, "syncPeriod": b.c.syncPeriod.String(),
		"concurrency": b.c.concurrency, "cores": numCPU(),
	}, "figures": b.figures}, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "PHASE\tFIGURE\tVALUE\tUNIT\tTARGET")
	for _, f := range b.figures {
		value := fmt.Sprintf("%.3f", f.Value)
		if f.NA {
			value = "n/a"
		}
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", f.Phase, f.Name, value, f.Unit, f.Target)
	}
	_ = w.Flush()
	fmt.Println("\nwrote", b.c.jsonOut)
	return os.WriteFile(b.c.jsonOut, append(out, '\n'), 0o644)
}

// measure runs work between two readings of the counters and returns their
// difference and how long work took; work gets the first reading.
func (b *bench) measure(work func(before counters) error) (counters, time.Duration, error) {
	before, err := b.counters()
	if err != nil {
		return counters{}, 0, err
	}
	start := time.Now()
	if err := work(before); err != nil {
		return counters{}, 0, err
	}
	elapsed := time.Since(start)
	after, err := b.counters()
	if err != nil {
		return counters{}, 0, err
	}
	return after.minus(before), elapsed, nil
}

// namespacesAndSecrets makes the namespaces and the SIP credentials Secrets.
func (b *bench) namespacesAndSecrets(prefix string) error {
	for i := range b.c.namespaces {
		ns := namespace(i)
		err := b.cp.Admin.Create(b.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			return err
		}
		err = b.cp.Admin.Create(b.ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sip"},
			Type:       corev1.SecretTypeBasicAuth,
			StringData: map[string]string{"username": "bench", "password": "bench-" + prefix},
		})
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			return err
		}
	}
	return nil
}

// waitCreated waits until the manager has seen target resources become Ready
// for the first time, reading its own counter rather than listing thousands
// of objects, which would load the API server the create competes for. With
// profile, it takes a heap profile of the manager halfway, mid-burst.
func (b *bench) waitCreated(target, halfway int, profile bool) error {
	return waitFor(30*time.Minute, func() (bool, error) {
		m, err := b.scrape()
		if err != nil {
			return false, nil
		}
		ready := int(histogramCount(m, "kros_operator_endpoint_time_to_ready_seconds"))
		if profile && ready >= halfway {
			profile = false
			fmt.Println(b.profile("heap-midburst", "/debug/pprof/heap", "-sample_index=inuse_space"))
		}
		return ready >= target, nil
	})
}

// waitReady waits until n KrosEndpoints are Ready for the given generation.
func (b *bench) waitReady(n int, generation int64) error {
	return waitFor(20*time.Minute, func() (bool, error) {
		var list cockpitv1alpha1.KrosEndpointList
		if err := b.cp.Admin.List(b.ctx, &list); err != nil {
			return false, err
		}
		ready := 0
		for _, ep := range list.Items {
			if ep.Generation >= generation && ep.Status.ObservedGeneration == ep.Generation &&
				metaReady(ep.Status.Conditions) {
				ready++
			}
		}
		return ready >= n, nil
	})
}

func endpoint(prefix string, i, namespaces int) *cockpitv1alpha1.KrosEndpoint {
	ep := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{
		Namespace: namespace(i % namespaces), Name: fmt.Sprintf("%s-%05d", prefix, i),
		Labels: map[string]string{setLabel: prefix}}}
	id := fmt.Sprintf("agent-%d", i)
	sip := cockpitv1alpha1.LocalSecretReference{Name: "sip"}
	switch i % 7 {
	case 0:
		ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeWebhook,
			Webhook: &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/" + id}}
	case 1:
		ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVapi,
			Vapi: &cockpitv1alpha1.VapiConfig{AssistantID: id}}
	case 2:
		ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeRetell,
			Retell: &cockpitv1alpha1.RetellConfig{AgentID: id}}
	case 3:
		ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs,
			ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: id}}
	case 4:
		ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeLiveKit,
			LiveKit: &cockpitv1alpha1.LiveKitConfig{SIPTrunkID: "ST_" + id, SIPURI: "sip:" + id + ".sip.livekit.cloud"}}
	case 5:
		ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVogent,
			Vogent: &cockpitv1alpha1.VogentConfig{SIPPrefix: id, CredentialsSecretRef: sip}}
	default:
		ep.Spec = cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeCustomSIP,
			CustomSIP: &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:" + id + "@pbx.example.com", CredentialsSecretRef: &sip}}
	}
	return ep
}

func namespace(i int) string { return fmt.Sprintf("bench-%02d", i) }

// counters are the cumulative figures a phase takes the difference of.
type counters struct {
	api        map[string]int // by operation, any status
	api429     int
	kubeWrites int
	events     int // Event objects, each created by one of the writes
	firstReady int // resources the manager has seen become Ready for the first time
	conflicts  int // writes refused with 409, among kubeWrites
	// serverWrites are the writes kube-apiserver served, from every client
	// (the bench's own creates among them), by verb and resource.
	serverWrites map[string]int
}

func (c counters) minus(o counters) counters {
	d := counters{api: map[string]int{}, api429: c.api429 - o.api429, kubeWrites: c.kubeWrites - o.kubeWrites,
		events: c.events - o.events, conflicts: c.conflicts - o.conflicts}
	for k, v := range c.api {
		d.api[k] = v - o.api[k]
	}
	d.serverWrites = map[string]int{}
	for k, v := range c.serverWrites {
		if v > o.serverWrites[k] {
			d.serverWrites[k] = v - o.serverWrites[k]
		}
	}
	return d
}

func (c counters) apiTotal() int {
	total := 0
	for _, v := range c.api {
		total += v
	}
	return total
}

func (b *bench) counters() (counters, error) {
	c, err := b.simCounters()
	if err != nil {
		return c, err
	}
	m, err := b.scrape()
	if err != nil {
		return c, err
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		c.kubeWrites += int(sum(m, "rest_client_requests_total", map[string]string{"method": method}))
		c.conflicts += int(sum(m, "rest_client_requests_total", map[string]string{"method": method, "code": "409"}))
	}
	c.firstReady = int(histogramCount(m, "kros_operator_endpoint_time_to_ready_seconds"))
	var events eventsv1.EventList
	if err := b.cp.Admin.List(b.ctx, &events); err != nil {
		return c, err
	}
	c.events = len(events.Items)
	c.serverWrites, err = b.apiServerWrites()
	return c, err
}

// apiServerWrites reads kube-apiserver's apiserver_request_total: the writes
// it served, by verb, resource and status code.
func (b *bench) apiServerWrites() (map[string]int, error) {
	httpClient, base, err := b.apiServer()
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	writes := map[string]int{}
	for _, metric := range families["apiserver_request_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range metric.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
		default:
			continue
		}
		resource := labels["resource"]
		if labels["subresource"] != "" {
			resource += "/" + labels["subresource"]
		}
		writes[labels["verb"]+" "+resource+" "+labels["code"]] += int(metric.GetCounter().GetValue())
	}
	return writes, nil
}

// writesByResource lists the writes per resource, most first.
func writesByResource(writes map[string]int, n int) string {
	keys := slices.SortedFunc(maps.Keys(writes), func(a, b string) int { return cmp.Compare(writes[b], writes[a]) })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.3f", k, float64(writes[k])/float64(n)))
	}
	return strings.Join(parts, ", ")
}

func (b *bench) simCounters() (counters, error) {
	stats, err := b.sim.Admin().Stats(b.ctx)
	if err != nil {
		return counters{}, err
	}
	c := counters{api: map[string]int{}}
	for op, byStatus := range stats.Operations {
		for status, n := range byStatus {
			c.api[op] += n
			if status == "429" {
				c.api429 += n
			}
		}
	}
	return c, nil
}

func (b *bench) simStored() (int, error) {
	stats, err := b.sim.Admin().Stats(b.ctx)
	return stats.Endpoints, err
}

// unlimitAPI lifts the simulator's rate limit, keeping its other faults.
func (b *bench) unlimitAPI() error {
	return b.setFaults(func(f *krosaisim.Faults) { f.RateLimit, f.Burst = 0, 0 })
}

func (b *bench) scrape() (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(b.metrics)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// sum adds the values of a counter's series whose labels include match.
func sum(m map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	family, ok := m[name]
	if !ok {
		return 0
	}
	total := 0.0
series:
	for _, metric := range family.GetMetric() {
		labels := map[string]string{}
		for _, l := range metric.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range match {
			if labels[k] != v {
				continue series
			}
		}
		total += metric.GetCounter().GetValue()
	}
	return total
}

// histogramCount reads the sample count of a histogram without labels.
func histogramCount(m map[string]*dto.MetricFamily, name string) float64 {
	family, ok := m[name]
	if !ok || len(family.GetMetric()) == 0 {
		return 0
	}
	return float64(family.GetMetric()[0].GetHistogram().GetSampleCount())
}

// cpuProfile takes a CPU profile of the manager and summarizes its top functions.
func (b *bench) cpuProfile(d time.Duration) string {
	return b.profile("cpu", fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(d.Seconds())))
}

// apiServerCPUProfile takes a CPU profile of kube-apiserver, to show what a
// create costs it.
func (b *bench) apiServerCPUProfile(d time.Duration) string {
	httpClient, base, err := b.apiServer()
	if err != nil {
		return "kube-apiserver profile: " + err.Error()
	}
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, int(d.Seconds()))
	return b.summarize("kube-apiserver", "cpu", filepath.Join(b.cp.Assets, "kube-apiserver"), httpClient, url)
}

// apiServer returns an admin's HTTP client for kube-apiserver and its URL.
func (b *bench) apiServer() (*http.Client, string, error) {
	httpClient, err := rest.HTTPClientFor(b.cp.Env.Config)
	return httpClient, strings.TrimSuffix(b.cp.Env.Config.Host, "/"), err
}

// profile fetches one of the manager's pprof profiles and summarizes it.
func (b *bench) profile(kind, path string, args ...string) string {
	return b.summarize("manager", kind, filepath.Join(b.root, "bin", "manager"), http.DefaultClient, b.pprof+path, args...)
}

// summarize fetches a pprof profile, keeps it under -profiles and returns
// its top functions.
func (b *bench) summarize(process, kind, binary string, httpClient *http.Client, url string, args ...string) string {
	name := process + " " + kind + " profile"
	if err := os.MkdirAll(b.c.profileDir, 0o755); err != nil {
		return name + ": " + err.Error()
	}
	file := filepath.Join(b.c.profileDir, process+"."+kind+".pprof")
	resp, err := httpClient.Get(url)
	if err != nil {
		return name + ": " + err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	f, err := os.Create(file)
	if err != nil {
		return name + ": " + err.Error()
	}
	_, _ = f.ReadFrom(resp.Body)
	_ = f.Close()
	args = append([]string{"tool", "pprof", "-top", "-nodecount=15"}, args...)
	out, err := exec.Command("go", append(args, binary, file)...).CombinedOutput()
	if err != nil {
		return name + ": " + err.Error()
	}
	top := strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", "\n    ")
	return "    " + name + " (top 15):\n    " + top
}

// keepManagerLog copies the manager's log beside the profiles, as name,
// before the control plane's directory goes or the next manager's
// replaces it.
func (b *bench) keepManagerLog(name string) {
	data, err := os.ReadFile(filepath.Join(b.cp.Dir, "manager.log"))
	if err == nil && os.MkdirAll(b.c.profileDir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(b.c.profileDir, name), data, 0o644)
	}
}

// cpuSeconds reads the manager's user+system CPU time.
func (b *bench) cpuSeconds() float64 { return processCPUSeconds(b.manager.Cmd.Process.Pid) }

func metaReady(conditions []metav1.Condition) bool {
	for _, c := range conditions {
		if c.Type == cockpitv1alpha1.ConditionReady {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// parallel calls f for 0 to n-1 from 32 goroutines and returns the first error.
func parallel(n int, f func(int) error) error {
	const workers = 32
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func waitFor(timeout time.Duration, done func() (bool, error)) error {
	return poll(250*time.Millisecond, timeout, done)
}

// poll asks done every interval until it holds, up to timeout.
func poll(interval, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		time.Sleep(interval)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func numCPU() int {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "processor\t:")
}
