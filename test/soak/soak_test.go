//go:build soak

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

// Package soak is a seeded, bounded chaos run of the real binaries: a local
// control plane with kube-controller-manager, krosai-sim and bin/manager as
// separate processes, a random mix of user operations, dashboard edits and
// faults for SOAK_DURATION, then a settle and a check of the operator's
// guarantees. See docs/reliability.md. Run it with make soak.
package soak

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/harness"
)

const (
	serviceAccount = "system:serviceaccount:" + operatorNamespace + ":kros-operator-controller-manager"
	// The manager's client budget per API key, under the simulator's.
	managerRateLimit = 8
	managerBurst     = 10
	// syncPeriod is the manager's --sync-period: short, so that a run of a
	// minute sees several periodic reads.
	syncPeriod = 10 * time.Second
	// settleTimeout bounds the wait for everything to converge after the run.
	settleTimeout = 3 * time.Minute
)

// soak is one run: the processes, the driver's model and what it recorded.
type soak struct {
	t        *testing.T
	ctx      context.Context
	seed     uint64
	rng      *rand.Rand
	duration time.Duration
	root     string
	dir      string

	cl           *harness.ControlPlane
	sim          *sim
	mgr          *harness.Process
	mgrLogs      []string
	saKubeconfig string
	metricsAddr  string

	// simKeys are KEY=ORG for every key the simulator accepts, given again
	// as flags when it restarts.
	simKeys                []string
	orgBKeys               []string
	driverKeyA, driverKeyB string
	// tenantKey is the key of the tenants' shared credentials, and
	// driverKeyT the driver's own key of their organization, for the
	// endpoints it makes "in the dashboard".
	tenantKey, driverKeyT string

	log          eventLog
	ops, faults  *counter
	namespaces   []string
	nsCounter    int
	res          map[string]*resModel
	gone         map[string]*resModel
	resCounter   int
	adoptCounter int
	twinCounter  int
	displayNames map[string]string
	leftovers    []*leftover

	// attackers are the tenants' KrosEndpoints that name an endpoint their
	// namespace may not reach, by key; victims the endpoints made in the
	// dashboard for them to name, by id, and dashboardNames their names.
	attackers      map[string]*attacker
	victims        map[string]*dashboardVictim
	dashboardNames map[string]bool
	victimCounter  int
	// tenantIDs are the status.ids seen on the tenants' resources, by key
	// (under seenMu).
	tenantIDs map[string]map[string]bool

	// statsBase sums the simulator's counts of its earlier incarnations.
	statsBase map[string]map[string]int
	// in429Requests and in429TooMany count the requests and the 429s
	// while the rate limit was lowered on purpose.
	in429Requests, in429TooMany int
	// lowered are the spans in which the rate limit was lowered on purpose,
	// from just before it was lowered to just after it was restored; the
	// last one's end is zero while it lasts.
	lowered []span

	// apiRequests is every API request the simulator recorded, gathered
	// before its ring buffer wraps and before each restart.
	reqMu       sync.Mutex
	apiRequests []krosaisim.RequestRecord
	reqSeen     map[string]bool

	// duringRun are violations found while the driver ran, not at the end:
	// processes that exited on their own, endpoints outnumbering owners.
	duringRun []violation

	// secrets are the values that must never appear outside Secrets and
	// the API: API keys, SIP passwords, webhook signing secrets.
	secrets *operatortest.Secrets
	// seen holds Event notes and KrosEndpoint statuses collected during the
	// run, and the manager's /metrics scraped before each kill, by digest.
	seenMu sync.Mutex
	seen   map[[32]byte]seenText
}

type seenText struct{ source, text string }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func TestSoak(t *testing.T) {
	seed := uint64(time.Now().UnixNano()) % 1_000_000_000
	if v := os.Getenv("SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: %v", v, err)
		}
		seed = n
	}
	duration, err := time.ParseDuration(envOr("SOAK_DURATION", "5m"))
	if err != nil {
		t.Fatalf("SOAK_DURATION: %v", err)
	}
	fmt.Printf("soak: SOAK_SEED=%d SOAK_DURATION=%s\n", seed, duration)
	t.Cleanup(func() {
		if t.Failed() {
			fmt.Printf("soak: FAILED with SOAK_SEED=%d SOAK_DURATION=%s\n", seed, duration)
		}
	})

	ctx := t.Context()
	s := &soak{t: t, ctx: ctx, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), duration: duration,
		ops: newCounter(), faults: newCounter(), res: map[string]*resModel{}, gone: map[string]*resModel{},
		displayNames: map[string]string{}, statsBase: map[string]map[string]int{},
		secrets: &operatortest.Secrets{}, seen: map[[32]byte]seenText{},
		reqSeen: map[string]bool{}, attackers: map[string]*attacker{}, victims: map[string]*dashboardVictim{},
		dashboardNames: map[string]bool{}, tenantIDs: map[string]map[string]bool{}}
	s.setUp()

	collectorDone := make(chan struct{})
	collectCtx, stopCollector := context.WithCancel(ctx)
	go func() {
		defer close(collectorDone)
		s.collect(collectCtx)
	}()

	s.log.start = time.Now()
	s.drive()
	driven := time.Since(s.log.start)

	settled, violations := s.settle()
	s.checkOutnumbered(ctx, "after settling")
	if allSettled(violations) {
		violations = append(violations, s.checkQuiet(ctx)...)
	} else {
		// Resources still being worked on are written to on purpose.
		fmt.Printf("soak: not settled, so no quiet window: %s is not judged\n", invQuiet)
	}
	stopCollector()
	<-collectorDone
	s.collectRequests(ctx)
	violations = append(violations, s.checkBudget()...)
	violations = append(violations, s.checkLeaks()...)
	violations = append(violations, s.duringRun...)
	share := s.report(driven, settled, violations)
	s.judge(violations, share)
}

func (s *soak) setUp() {
	t := s.t
	var err error
	if s.root, err = harness.Root(); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"manager", "krosai-sim"} {
		if _, err := os.Stat(filepath.Join(s.root, "bin", bin)); err != nil {
			t.Fatalf("bin/%s: %v (run through make soak, which builds it)", bin, err)
		}
	}
	if s.dir, err = os.MkdirTemp("", "kros-soak-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("SOAK_KEEP") != "" {
			fmt.Printf("soak: logs kept in %s\n", s.dir)
			return
		}
		_ = os.RemoveAll(s.dir)
	})
	t.Cleanup(s.writeEventLog)
	t.Cleanup(s.writeRequestLog)

	// The API server can be restarted with etcd kept, for the faults.
	if s.cl, err = harness.StartControlPlane(harness.ControlPlaneOptions{
		ControllerManager: true, Dir: s.dir, Restartable: true,
		APIServerStopTimeout: apiServerGracePeriod, AdminTimeout: 15 * time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cl.Stop() })

	// Three organizations: A through the operator's default credentials, B
	// through a Secret in each namespace, T through the credentials the
	// tenants' KrosGrants grant. The driver has keys of its own, so its
	// direct API calls do not spend the operator's budget.
	keyA, keyB := "kros_test_"+s.token(30), "kros_test_"+s.token(30)
	s.driverKeyA, s.driverKeyB = "kros_test_"+s.token(30), "kros_test_"+s.token(30)
	s.tenantKey, s.driverKeyT = "kros_test_"+s.token(30), "kros_test_"+s.token(30)
	s.orgBKeys = []string{keyB}
	s.simKeys = []string{keyA + "=" + orgA, s.driverKeyA + "=" + orgA, keyB + "=" + orgB, s.driverKeyB + "=" + orgB,
		s.tenantKey + "=" + orgT, s.driverKeyT + "=" + orgT}
	for _, k := range []string{keyA, keyB, s.driverKeyA, s.driverKeyB, s.tenantKey, s.driverKeyT} {
		s.secrets.Add(k, "API key")
	}
	s.sim = &sim{bin: filepath.Join(s.root, "bin", "krosai-sim"), dir: s.dir,
		stateFile: filepath.Join(s.dir, "sim-state.json"), seed: s.seed}
	if err := s.sim.start(s.simKeys); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.sim.p.Stop() })

	objs, err := harness.Installer(s.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if obj.GetKind() == "Deployment" {
			continue
		}
		if err := s.cl.Admin.Create(s.ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	if err := s.cl.Admin.Create(s.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: credentialsSecret},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: keyA},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.setUpTenants(s.ctx); err != nil {
		t.Fatalf("tenants: %v", err)
	}
	if s.saKubeconfig, err = s.cl.Kubeconfig(serviceAccount, "system:serviceaccounts",
		"system:serviceaccounts:"+operatorNamespace, "system:authenticated"); err != nil {
		t.Fatal(err)
	}
	if s.metricsAddr, err = harness.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	if err := s.startManager(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.mgr.Stop() })
	fmt.Printf("soak: control plane, krosai-sim (%s) and manager up; logs in %s\n", s.sim.p.URL, s.dir)
}

func (s *soak) startManager() error {
	logPath := filepath.Join(s.dir, fmt.Sprintf("manager-%d.log", len(s.mgrLogs)+1))
	p, err := harness.Start(logPath, filepath.Join(s.root, "bin", "manager"), harness.ManagerFlags{
		Kubeconfig:        s.saKubeconfig,
		OperatorNamespace: operatorNamespace,
		APIURL:            s.sim.p.APIURL(),
		SyncPeriod:        syncPeriod,
		APIRateLimit:      managerRateLimit,
		APIBurst:          managerBurst,
		APITimeout:        5 * time.Second,
		MetricsAddr:       s.metricsAddr,
		InsecureMetrics:   true,
		LogLevel:          "debug",
	}.Args()...)
	if err != nil {
		return err
	}
	s.mgr = p
	s.mgrLogs = append(s.mgrLogs, logPath)
	return nil
}

// scrapeMetrics reads the manager's /metrics.
func (s *soak) scrapeMetrics(ctx context.Context) (string, error) {
	data, err := httpGet(ctx, "http://"+s.metricsAddr+"/metrics")
	return string(data), err
}

// remember keeps a text to search for secrets at the end.
func (s *soak) remember(source, text string) {
	sum := sha256.Sum256([]byte(text))
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	if _, ok := s.seen[sum]; !ok {
		s.seen[sum] = seenText{source: source, text: text}
	}
}

// collect gathers, every few seconds until ctx ends, what the secret check
// needs but may not exist at the end: Events and statuses of resources and
// namespaces deleted since, and the webhook signing secrets of endpoints
// deleted since.
func (s *soak) collect(ctx context.Context) {
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for {
		s.collectEvents(ctx, "")
		s.collectStatuses(ctx)
		s.collectSimSecrets(ctx)
		s.collectRequests(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *soak) collectEvents(ctx context.Context, ns string) {
	var events eventsv1.EventList
	if err := s.cl.Admin.List(ctx, &events, client.InNamespace(ns)); err != nil {
		return
	}
	for _, e := range events.Items {
		s.remember(fmt.Sprintf("Event %s/%s (%s on %s)", e.Namespace, e.Name, e.Reason, e.Regarding.Name),
			e.Note+"\n"+e.Reason+"\n"+e.Action)
	}
}

func (s *soak) collectStatuses(ctx context.Context) {
	var list cockpitv1alpha1.KrosEndpointList
	if err := s.cl.Admin.List(ctx, &list); err != nil {
		return
	}
	for _, ep := range list.Items {
		data, _ := json.Marshal(ep.Status)
		s.remember(fmt.Sprintf("status of KrosEndpoint %s/%s", ep.Namespace, ep.Name), string(data))
	}
	s.collectTenantStatuses(list.Items)
}

func (s *soak) collectSimSecrets(ctx context.Context) {
	byOrg, err := s.sim.admin.Endpoints(ctx)
	if err != nil {
		return
	}
	for _, group := range byOrg {
		for _, e := range group {
			s.secrets.Add(e.Secret, "webhook signing secret")
			for _, k := range []string{"password", "vogent_sip_password"} {
				if v, ok := e.ProviderConfig[k].(string); ok {
					s.secrets.Add(v, "SIP password")
				}
			}
		}
	}
}

// collectRequests appends the simulator's requests not gathered yet.
func (s *soak) collectRequests(ctx context.Context) {
	recs, err := s.sim.admin.Requests(ctx, 1000)
	if err != nil {
		return
	}
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	// Records are kept in the order requests finished, stamped with when
	// they arrived: a held request lands behind later ones, so a record is
	// told apart by its content, not by its time.
	for _, r := range recs {
		id := fmt.Sprintf("%s %s %s %d %s %s", r.Time.Format(time.RFC3339Nano), r.Method, r.Path, r.Status, r.Fault, r.Body)
		if !s.reqSeen[id] {
			s.reqSeen[id] = true
			s.apiRequests = append(s.apiRequests, r)
		}
	}
}

// statsNow is the simulator's counts since the soak began, across restarts.
func (s *soak) statsNow(ctx context.Context) (map[string]map[string]int, error) {
	st, err := s.sim.admin.Stats(ctx)
	if err != nil {
		return nil, err
	}
	total := map[string]map[string]int{}
	addStats(total, s.statsBase)
	addStats(total, st.Operations)
	return total, nil
}

// writeRequestLog writes every API request the soak gathered from the
// simulator, one JSON object a line, to requests.jsonl beside the other
// logs: a violation prints only the requests that name the resource, and a
// list that decided a recovery names none. Bodies are the simulator's,
// passwords redacted; no record holds an API key.
func (s *soak) writeRequestLog() {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range s.apiRequests {
		if err := enc.Encode(r); err != nil {
			s.t.Errorf("writing the request log: %v", err)
			return
		}
	}
	if err := os.WriteFile(filepath.Join(s.dir, "requests.jsonl"), b.Bytes(), 0o600); err != nil {
		s.t.Errorf("writing the request log: %v", err)
	}
}

// writeEventLog writes the event log to events.log beside the other logs.
func (s *soak) writeEventLog() {
	var b strings.Builder
	for _, e := range s.log.all() {
		b.WriteString(e.String() + "\n")
	}
	if err := os.WriteFile(filepath.Join(s.dir, "events.log"), []byte(b.String()), 0o600); err != nil {
		s.t.Errorf("writing the event log: %v", err)
	}
}
