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
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/krosai/kros-operator/test/harness"
)

// cluster is a kube-apiserver and etcd with kube-controller-manager's
// namespace and garbage-collector controllers, like harness.ControlPlane,
// except that the API server can be restarted with etcd kept.
//
// envtest's APIServer removes a certificate directory it made itself when it
// stops and makes a new serving CA when it starts again, which would leave
// every client (the manager's kubeconfig included) distrusting the restarted
// server. Given a directory of our own, it keeps the certificates and the
// restarted server presents the same CA on the same port.
type cluster struct {
	env             *envtest.Environment
	admin           client.Client
	assets          string
	dir             string
	adminKubeconfig string
	kcm             *harness.Process
	apiLog          *os.File
}

func startCluster(root, dir string) (*cluster, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run through make soak, which builds the control plane")
	}
	certs := filepath.Join(dir, "apiserver-certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return nil, err
	}
	apiLog, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	c := &cluster{assets: assets, dir: dir, apiLog: apiLog, env: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		// kube-apiserver does not finish a graceful stop while clients hold
		// watches open; after this long it is SIGKILLed, as a kubelet would
		// at the end of the grace period.
		ControlPlaneStopTimeout: apiServerGracePeriod,
	}}
	c.env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certs, Out: apiLog, Err: apiLog}
	cfg, err := c.env.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 15 * time.Second
	if c.admin, err = client.New(cfg, client.Options{Scheme: harness.Scheme}); err != nil {
		c.stop()
		return nil, err
	}
	if c.adminKubeconfig, err = c.kubeconfig("admin", "system:masters"); err != nil {
		c.stop()
		return nil, err
	}
	if c.kcm, err = harness.StartControllerManager(assets, dir, c.adminKubeconfig); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// kubeconfig writes a kubeconfig for a user authenticated by client certificate.
func (c *cluster) kubeconfig(name string, groups ...string) (string, error) {
	return harness.WriteKubeconfig(c.env, c.dir, name, groups...)
}

// apiServerGracePeriod is how long kube-apiserver may take to stop.
const apiServerGracePeriod = 5 * time.Second

// restartAPIServer stops kube-apiserver (SIGTERM, SIGKILL after
// apiServerGracePeriod), waits down, and starts it again on the same port
// with the same certificates; etcd keeps running. killed reports a stop that
// needed the SIGKILL.
func (c *cluster) restartAPIServer(down time.Duration) (killed bool, err error) {
	api := c.env.ControlPlane.APIServer
	if err := api.Stop(); err != nil {
		// envtest sends the SIGKILL itself and reports the timeout.
		if !strings.Contains(err.Error(), "timeout waiting for process kube-apiserver to stop") {
			return false, fmt.Errorf("stop kube-apiserver: %w", err)
		}
		killed = true
	}
	time.Sleep(down)
	if err := api.Start(); err != nil {
		return killed, fmt.Errorf("start kube-apiserver again: %w", err)
	}
	return killed, nil
}

func (c *cluster) stop() {
	if c.kcm != nil {
		c.kcm.Kill()
	}
	_ = c.env.Stop()
	_ = c.apiLog.Close()
}

// sim is a krosai-sim process. It keeps its address across restarts, so the
// manager's --krosai-api-url stays valid, and its endpoints in a state file.
type sim struct {
	bin, dir  string
	stateFile string
	seed      uint64
	// addr is host:port, fixed by the first start.
	addr     string
	p        *harness.Process
	restarts int
}

// simRateLimit and simBurst are the simulator's per-key limit: a bit above
// the manager's --api-rate-limit and --api-burst, so that an operator keeping
// to its own budget never sees a 429.
const (
	simRateLimit = 10
	simBurst     = 12
)

func (s *sim) url() string { return "http://" + s.addr }

// start runs krosai-sim with keys (KEY=ORG each) and the baseline faults.
func (s *sim) start(keys []string) error {
	listen := s.addr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	args := make([]string, 0, 14+2*len(keys))
	args = append(args, "--listen", listen, "--state-file", s.stateFile,
		"--seed", fmt.Sprint(s.seed+uint64(s.restarts)), // a new id sequence per incarnation
		"--latency", "10ms", "--latency-jitter", "5ms",
		"--rate-limit", fmt.Sprint(simRateLimit), "--burst", fmt.Sprint(simBurst))
	for _, k := range keys {
		args = append(args, "--api-key", k)
	}
	logPath := filepath.Join(s.dir, fmt.Sprintf("krosai-sim-%d.log", s.restarts))
	p, err := harness.Start(logPath, s.bin, args...)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if addr, ok := listeningOn(logPath); ok {
			if s.addr != "" && addr != s.addr {
				p.Stop()
				return fmt.Errorf("krosai-sim came back on %s, not %s", addr, s.addr)
			}
			s.addr, s.p = addr, p
			return nil
		}
		if p.Exited() || time.Now().After(deadline) {
			p.Kill()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("krosai-sim did not say where it listens:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listeningOn reads the simulator's first stdout line from its log.
func listeningOn(logPath string) (string, bool) {
	f, err := os.Open(logPath)
	if err != nil {
		return "", false
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if url, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "listening on http://"); ok {
			return url, true
		}
	}
	return "", false
}

// restart stops the simulator with SIGTERM (it saves its state file) and
// starts it again on the same address.
func (s *sim) restart(keys []string, down time.Duration) error {
	s.p.Stop()
	time.Sleep(down)
	s.restarts++
	return s.start(keys)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// httpDo sends a request to the simulator's admin API or the manager's
// metrics, and returns the body of a 2xx answer.
func httpDo(ctx context.Context, method, url string, body io.Reader) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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
		return data, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return data, nil
}
