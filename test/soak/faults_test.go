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

package soak

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// The faults, each begun on its own and ended before the next begins.
const (
	faultFail           = "api-5xx"
	faultHang           = "api-hang"
	faultCommitThenFail = "api-commit-then-fail"
	faultRateLimit      = "api-429-burst"
	faultSimRestart     = "sim-restart"
	faultManagerKill    = "manager-sigkill"
	faultAPIServer      = "apiserver-restart"
	// The list faults: listEndpoints misbehaves while every GET works.
	faultList404        = "api-list-404"
	faultList5xx        = "api-list-5xx"
	faultListGarbage    = "api-list-garbage"
	faultListIncomplete = "api-list-page-missing"
)

var faultKinds = []string{faultFail, faultHang, faultCommitThenFail, faultRateLimit, faultSimRestart,
	faultManagerKill, faultAPIServer, faultList404, faultList5xx, faultListGarbage, faultListIncomplete}

// listFaults are the simulator's listFault for each list fault kind.
var listFaults = map[string]string{
	faultList404:        krosaisim.ListFaultNotFound,
	faultList5xx:        krosaisim.ListFaultServerError,
	faultListGarbage:    krosaisim.ListFaultGarbage,
	faultListIncomplete: krosaisim.ListFaultIncomplete,
}

// baselineFaults are the simulator's settings outside fault windows.
var baselineFaults = krosaisim.Faults{
	Latency: 10 * time.Millisecond, LatencyJitter: 5 * time.Millisecond, RateLimit: simRateLimit, Burst: simBurst,
}

// hundredths rounds a fault rate as the log shows it, so that the rate in
// effect is the one logged.
func hundredths(rate float64) float64 { return math.Round(rate*100) / 100 }

// setFaults sets the baseline faults with change made to them: one window
// is in effect at a time, each starting from the baseline.
func (s *soak) setFaults(ctx context.Context, change func(*krosaisim.Faults)) error {
	f := baselineFaults
	change(&f)
	return s.sim.admin.SetFaults(ctx, f)
}

// window is a fault in effect until a time.
type window struct {
	kind  string
	until time.Time
	// stats429 are the counts when a lowered rate limit began.
	stats429 map[string]map[string]int
}

// drive runs random operations at a bounded rate for the soak's duration,
// with the faults in seeded random order, every kind once per cycle.
func (s *soak) drive() {
	ops := s.operations()
	ctx := s.ctx
	for range liveNamespaces {
		s.must(s.newNamespace(ctx))
	}
	for _, typ := range endpointTypes { // one of each type from the start
		_, err := s.createResource(ctx, s.namespaces[0], typ, "")
		s.ops.add("create", err)
	}
	for _, ns := range tenantNamespaces { // endpoints for the other tenant's attackers to name
		for range 2 {
			_, err := s.createResource(ctx, ns, pick(s.rng, endpointTypes), " (tenant)", shared)
			s.ops.add("tenant-create", err)
		}
	}
	// Every kind fits in the shortest runs; long runs cycle through them.
	interval := min(max(s.duration/time.Duration(len(faultKinds)+2), 4*time.Second), 20*time.Second)
	start := time.Now()
	end := start.Add(s.duration)
	nextFault := start.Add(interval / 2)
	var cycle []string
	var active *window
	for time.Now().Before(end) {
		s.watchProcesses()
		now := time.Now()
		if active != nil && now.After(active.until) {
			s.endWindow(active)
			active = nil
		}
		if active == nil && now.After(nextFault) && now.Add(2*time.Second).Before(end) {
			if len(cycle) == 0 {
				cycle = append(cycle, faultKinds...)
				s.rng.Shuffle(len(cycle), func(i, j int) { cycle[i], cycle[j] = cycle[j], cycle[i] })
			}
			kind := cycle[0]
			cycle = cycle[1:]
			active = s.beginFault(kind, interval)
			nextFault = nextFault.Add(interval) // a slow restart does not push the rest back
			continue
		}
		s.doOp(s.drawOp(ops))
		time.Sleep(time.Duration(150+s.rng.IntN(300)) * time.Millisecond)
	}
	if active != nil {
		s.endWindow(active)
	}
}

// doOp does one operation and counts it.
func (s *soak) doOp(op weighted) {
	ctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	defer cancel()
	err := op.do(ctx)
	switch {
	case errors.Is(err, errNothingToDo):
		s.ops.add(op.name+" (no target)", nil)
	case err != nil:
		s.ops.add(op.name, err)
		s.log.add(op.name+"-failed", "driver", "%v", err)
	default:
		s.ops.add(op.name, nil)
	}
}

func (s *soak) must(err error) {
	if err != nil {
		s.t.Fatal(err)
	}
}

// beginFault starts a fault; a window for the simulator's faults, nil for
// the restarts, which are over when it returns.
func (s *soak) beginFault(kind string, interval time.Duration) *window {
	ctx := s.ctx
	began := time.Now()
	length := time.Duration(float64(interval) * (0.5 + 0.2*s.rng.Float64()))
	w := &window{kind: kind, until: time.Now().Add(length)}
	var err error
	var detail string
	switch kind {
	case faultFail:
		rate := hundredths(0.3 + 0.2*s.rng.Float64())
		detail = fmt.Sprintf("failRate %.2f for %s", rate, length.Round(time.Millisecond))
		err = s.setFaults(ctx, func(f *krosaisim.Faults) { f.FailRate = rate })
	case faultHang:
		rate := hundredths(0.1 + 0.1*s.rng.Float64())
		detail = fmt.Sprintf("hangRate %.2f for %s", rate, length.Round(time.Millisecond))
		err = s.setFaults(ctx, func(f *krosaisim.Faults) { f.HangRate = rate })
	case faultCommitThenFail:
		rate := hundredths(0.5 + 0.3*s.rng.Float64())
		detail = fmt.Sprintf("commitThenFailRate %.2f for %s", rate, length.Round(time.Millisecond))
		err = s.setFaults(ctx, func(f *krosaisim.Faults) { f.CommitThenFailRate = rate })
	case faultRateLimit:
		detail = fmt.Sprintf("rateLimit 1/s burst 1 for %s", length.Round(time.Millisecond))
		if w.stats429, err = s.statsNow(ctx); err == nil {
			// Opened before the limit is lowered: a request the lower limit
			// refuses always falls inside.
			s.lowered = append(s.lowered, span{from: time.Now()})
			err = s.setFaults(ctx, func(f *krosaisim.Faults) { f.RateLimit, f.Burst = 1, 1 })
		}
	case faultList404, faultList5xx, faultListGarbage, faultListIncomplete:
		detail = fmt.Sprintf("listFault %s for %s", listFaults[kind], length.Round(time.Millisecond))
		err = s.setFaults(ctx, func(f *krosaisim.Faults) { f.ListFault = listFaults[kind] })
	case faultSimRestart:
		w = nil
		detail, err = s.restartSim()
	case faultManagerKill:
		w = nil
		detail, err = s.killManager()
	case faultAPIServer:
		w = nil
		detail = s.restartAPIServer()
	}
	s.faults.add(kind, err)
	if err != nil {
		s.log.add(kind+"-failed", "", "%s: %v", detail, err)
		return nil
	}
	s.log.add(kind, "", "%s (took %s)", detail, time.Since(began).Round(time.Millisecond))
	if w != nil {
		// Traffic for the fault to hit: a burst of writes at once. A create
		// whose answer is lost, then edited before the operator recovers it,
		// is what commit-then-fail is for.
		creates := 3
		if kind == faultCommitThenFail {
			creates = 8
		}
		s.burst(3+s.rng.IntN(4), []weighted{{"create", creates, s.opCreate},
			{"create-then-edit", creates, s.opCreateThenEdit}, {"twins", creates / 2, s.opTwins},
			{"edit", 2, s.opEdit}, {"delete", 1, s.opDelete}, {"dashboard-edit", 1, s.opDashboardEdit},
			{"dashboard-delete", 1, s.opDashboardDelete}})
	}
	return w
}

// burst does n of the operations, without pausing.
func (s *soak) burst(n int, ops []weighted) {
	for range n {
		s.doOp(s.drawOp(ops))
	}
}

func (s *soak) endWindow(w *window) {
	ctx := s.ctx
	if w.kind == faultRateLimit {
		if after, err := s.statsNow(ctx); err == nil {
			s.in429Requests += countAll(after) - countAll(w.stats429)
			s.in429TooMany += countOutcome(after, "429") - countOutcome(w.stats429, "429")
		}
	}
	err := s.sim.admin.SetFaults(ctx, baselineFaults)
	if err != nil {
		s.log.add(w.kind+"-end-failed", "", "%v", err)
		return
	}
	s.closeLowered()
	s.log.add(w.kind+"-end", "", "faults back to baseline")
	s.checkOutnumbered(ctx, "after "+w.kind)
}

// restartSim stops the simulator with SIGTERM and starts it on the same
// address with the same state file and keys. Its counts start again from
// zero, so they are added up first.
func (s *soak) restartSim() (string, error) {
	s.collectRequests(s.ctx)
	if st, err := s.sim.admin.Stats(s.ctx); err == nil {
		addStats(s.statsBase, st.Operations)
	}
	down := time.Duration(300+s.rng.IntN(1700)) * time.Millisecond
	return fmt.Sprintf("SIGTERM, down %s, started again on %s with its state file and %d keys", down, s.sim.addr,
		len(s.simKeys)), s.sim.restart(s.simKeys, down)
}

// killManager creates a few resources, SIGKILLs the manager while it works
// on them, and starts another.
func (s *soak) killManager() (string, error) {
	n := 3 + s.rng.IntN(4)
	for range n {
		_, err := s.createResource(s.ctx, pick(s.rng, s.namespaces), pick(s.rng, endpointTypes),
			" (burst before SIGKILL)")
		s.ops.add("create", err)
	}
	time.Sleep(time.Duration(s.rng.IntN(400)) * time.Millisecond)
	if m, err := s.scrapeMetrics(s.ctx); err == nil {
		s.remember(fmt.Sprintf("/metrics of manager-%d", len(s.mgrLogs)), m)
	}
	s.mgr.Kill()
	down := time.Duration(200+s.rng.IntN(1800)) * time.Millisecond
	time.Sleep(down)
	return fmt.Sprintf("SIGKILL after a burst of %d creates, restarted after %s", n, down), s.startManager()
}

// restartAPIServer restarts kube-apiserver with etcd kept. A failed start is
// retried: without the API server the soak cannot go on.
func (s *soak) restartAPIServer() string {
	down := time.Duration(1000+s.rng.IntN(2000)) * time.Millisecond
	killed, err := s.cl.RestartAPIServer(down)
	for attempt := 0; err != nil && attempt < 3; attempt++ {
		s.log.add(faultAPIServer+"-retry", "", "%v", err)
		time.Sleep(2 * time.Second)
		err = s.cl.Env.ControlPlane.APIServer.Start()
	}
	if err != nil {
		s.t.Fatalf("kube-apiserver did not come back: %v", err)
	}
	how := "stopped"
	if killed {
		how = fmt.Sprintf("SIGTERM, SIGKILLed after %s (watches held open)", apiServerGracePeriod)
	}
	return fmt.Sprintf("kube-apiserver %s, down %s, started again, etcd kept", how, down)
}

// settleFaults turns every fault off, retrying while the simulator is away.
func (s *soak) settleFaults(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.sim.admin.SetFaults(ctx, baselineFaults)
		if err == nil {
			s.closeLowered()
		}
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Second)
	}
}

// watchProcesses restarts a manager or simulator that exited on its own;
// that it did is a finding.
func (s *soak) watchProcesses() {
	if s.mgr.Exited() {
		log := s.mgrLogs[len(s.mgrLogs)-1]
		s.duringRun = append(s.duringRun, violation{invUp, "", nil,
			fmt.Sprintf("%s exited on its own; its last lines:\n%s", filepath.Base(log), lastLines(log, 5))})
		s.log.add("manager-exited", "", "%s exited on its own; starting another", filepath.Base(log))
		s.must(s.startManager())
	}
	if s.sim.p.Exited() {
		s.duringRun = append(s.duringRun, violation{invUp, "", nil, "krosai-sim exited on its own"})
		s.log.add("sim-exited", "", "krosai-sim exited on its own; starting it again")
		s.must(s.sim.restart(s.simKeys, 0))
	}
}

func lastLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
