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
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

// apiServerGracePeriod is how long kube-apiserver may take to stop:
// kube-apiserver does not finish a graceful stop while clients hold watches
// open; after this long it is SIGKILLed, as a kubelet would at the end of
// the grace period.
const apiServerGracePeriod = 5 * time.Second

// sim is a krosai-sim process. It keeps its address across restarts, so the
// manager's --krosai-api-url stays valid, and its endpoints in a state file.
type sim struct {
	bin, dir  string
	stateFile string
	seed      uint64
	// addr is host:port, fixed by the first start.
	addr     string
	p        *harness.Simulator
	admin    *krosaisim.AdminClient
	restarts int
}

// simRateLimit and simBurst are the simulator's per-key limit: a bit above
// the manager's --api-rate-limit and --api-burst, so that an operator keeping
// to its own budget never sees a 429.
const (
	simRateLimit = 10
	simBurst     = 12
)

// start runs krosai-sim with keys (KEY=ORG each) and the baseline faults.
func (s *sim) start(keys []string) error {
	args := make([]string, 0, 12+2*len(keys))
	args = append(args, "--state-file", s.stateFile,
		"--seed", fmt.Sprint(s.seed+uint64(s.restarts)), // a new id sequence per incarnation
		"--latency", "10ms", "--latency-jitter", "5ms",
		"--rate-limit", fmt.Sprint(simRateLimit), "--burst", fmt.Sprint(simBurst))
	for _, k := range keys {
		args = append(args, "--api-key", k)
	}
	p, err := harness.StartSimulator(s.bin, harness.SimulatorOptions{
		Addr: s.addr, Log: filepath.Join(s.dir, fmt.Sprintf("krosai-sim-%d.log", s.restarts)),
	}, args...)
	if err != nil {
		return err
	}
	addr := strings.TrimPrefix(p.URL, "http://")
	if s.addr != "" && addr != s.addr {
		p.Stop()
		return fmt.Errorf("krosai-sim came back on %s, not %s", addr, s.addr)
	}
	s.addr, s.p, s.admin = addr, p, p.Admin()
	return nil
}

// restart stops the simulator with SIGTERM (it saves its state file) and
// starts it again on the same address.
func (s *sim) restart(keys []string, down time.Duration) error {
	s.p.Stop()
	time.Sleep(down)
	s.restarts++
	return s.start(keys)
}

// httpGet returns the body of a 2xx answer to a GET, such as the
// manager's /metrics.
func httpGet(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return data, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return data, nil
}
