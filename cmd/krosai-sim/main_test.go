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

//nolint:goconst // command lines read better as literals
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// TestMain lets the tests run the command as a process without building it:
// the test binary re-entered with runAsMain set is krosai-sim.
func TestMain(m *testing.M) {
	if os.Getenv(runAsMain) == "1" {
		main()
	}
	os.Exit(m.Run())
}

const (
	runAsMain = "KROSAI_SIM_TEST_RUN_MAIN"
	testKey   = "kros_test_cccccccccccccccccccccccccccccccc"
	testOrg   = "33333333-3333-4333-8333-333333333333"
)

func TestBadFlagsExitWithStatus2(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "at least one --api-key is required"},
		{[]string{"--api-key", testKey, "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--api-key", testKey, "--fail-rate", "2"}, "failRate 2: want a probability between 0 and 1"},
		{[]string{"--api-key", testKey, "--latency", "soon"}, `invalid value "soon" for flag -latency`},
		{[]string{"--api-key", testKey, "--list-shape", "paged"}, `listShape "paged"`},
		{[]string{"--api-key", testKey, "--id-format", "ulid"}, `idFormat "ulid"`},
		{[]string{"--api-key", testKey, "--password-mode", "hide"}, `passwordMode "hide"`},
		{[]string{"--api-key", testKey, "--shared-key-load", "-1"}, `sharedKeyLoad -1`},
		{[]string{"--api-key", testKey + "=acme"}, `organization "acme" is not a UUID`},
		{[]string{"--api-key", "=" + testOrg}, "want KEY or KEY=ORG_UUID"},
		{[]string{"--api-key", testKey, "serve"}, `unexpected arguments ["serve"]`},
		{[]string{"--api-key", testKey, "--event-drop-rate", "2"}, "dropRate 2: want a probability between 0 and 1"},
		{[]string{"--api-key", testKey, "--event-reorder", "-1s"}, "reorder must not be negative"},
		{[]string{"--api-key", testKey, "--event-host", "https://hooks.example.com"}, `event host "https://`},
		{[]string{"--api-key", testKey, "--event-ca-file", notPEM}, "no PEM certificate"},
		{[]string{"--api-key", testKey, "--event-ca-file", notPEM + ".missing"}, "no such file"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if status := run(tc.args, &stdout, &stderr); status != 2 {
				t.Errorf("exit status %d, want 2", status)
			}
			if !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
				t.Errorf("stderr %q, want it to say %q; stdout %q", stderr.String(), tc.want, stdout.String())
			}
		})
	}
}

// process is a running krosai-sim.
type process struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr bytes.Buffer
	base   string // http://HOST:PORT
}

func start(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(os.Args[0], args...)}
	p.cmd.Env = append(os.Environ(), runAsMain+"=1")
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	p.stdout = bufio.NewReader(out)
	line := make(chan string, 1)
	go func() {
		l, _ := p.stdout.ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		m := regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[1-9][0-9]*)\n$`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("first line %q", l)
		}
		p.base = m[1]
	case <-time.After(30 * time.Second):
		t.Fatal("no first line within 30s")
	}
	return p
}

// stop signals the process and checks it exits 0 having written nothing
// more to stdout.
func (p *process) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(p.stdout) // before Wait, which closes the pipe
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, p.stderr.String())
	}
	if len(rest) != 0 {
		t.Errorf("more on stdout after the first line: %q", rest)
	}
}

func (p *process) do(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var decoded map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&decoded)
	return resp.StatusCode, decoded
}

func TestEndpointsSurviveARestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{
		"--listen", "127.0.0.1:0", "--api-key", testKey + "=" + testOrg, "--state-file", state, "--id-format", "prefixed",
	}

	first := start(t, args...)
	const body = `{"name":"kept","type":"retell","provider_config":{"agent_id":"a1"}}`
	status, created := first.do(t, "POST", "/v1/endpoints", body)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, created)
	}
	first.stop(t, syscall.SIGTERM)

	second := start(t, args...)
	id, _ := created["id"].(string)
	status, got := second.do(t, "GET", "/v1/endpoints/"+id, "")
	if status != http.StatusOK || got["name"] != "kept" || got["organization_id"] != testOrg ||
		got["url"] != created["url"] {
		t.Errorf("after restart: %d %v, want %v", status, got, created)
	}
	if status, _ := second.do(t, "GET", "/_sim/stats", ""); status != http.StatusOK {
		t.Errorf("admin API: %d", status)
	}
	second.stop(t, os.Interrupt)
}

func TestPasswordModeFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "mask"},
		{[]string{"--password-mode", "echo"}, "echo"},
	} {
		p := start(t, append([]string{"--listen", "127.0.0.1:0", "--api-key", testKey}, tc.args...)...)
		status, faults := p.do(t, "GET", "/_sim/faults", "")
		if status != http.StatusOK || faults["passwordMode"] != tc.want {
			t.Errorf("%v: faults %d %v, want passwordMode %s", tc.args, status, faults, tc.want)
		}
		p.stop(t, syscall.SIGTERM)
	}
}

func TestSharedKeyLoadFlag(t *testing.T) {
	p := start(t, "--listen", "127.0.0.1:0", "--api-key", testKey, "--rate-limit", "10", "--shared-key-load", "5")
	status, faults := p.do(t, "GET", "/_sim/faults", "")
	if status != http.StatusOK || faults["sharedKeyLoad"] != 5.0 {
		t.Errorf("faults %d %v, want sharedKeyLoad 5", status, faults)
	}
	p.stop(t, syscall.SIGTERM)
}

func TestShutdownDropsHeldRequests(t *testing.T) {
	p := start(t, "--listen", "127.0.0.1:0", "--api-key", testKey, "--hang-rate", "1")
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", p.base+"/v1/endpoints", nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond) // a held request shows nowhere: give it time to arrive
	began := time.Now()
	p.stop(t, syscall.SIGTERM)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("shutdown took %v with a held request", took)
	}
	if err := <-errc; err == nil {
		t.Error("the held request was answered; want its connection dropped")
	}
}

// hook is a webhook endpoint's server over TLS, handing over what it
// receives.
type hook struct {
	*httptest.Server
	got chan delivered
}

type delivered struct {
	signature string
	body      []byte
}

func newHook(t *testing.T) *hook {
	h := &hook{got: make(chan delivered, 10)}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.got <- delivered{signature: r.Header.Get("X-Webhook-Signature"), body: body}
	}))
	t.Cleanup(h.Close)
	return h
}

// caFile writes the hook's certificate to a PEM file, for --event-ca-file.
func (h *hook) caFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// settled waits until the simulator has every delivery's outcome.
func settled(t *testing.T, admin *krosaisim.AdminClient) krosaisim.DeliveryStats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := admin.DeliveryStats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventFlags(t *testing.T) {
	h := newHook(t)
	for _, tc := range []struct {
		name string
		args []string
		want krosaisim.DeliveryStats
	}{
		{"trusted CA, duplicated", []string{"--event-ca-file", h.caFile(t), "--event-duplicate-rate", "1"},
			krosaisim.DeliveryStats{Events: 1, Sent: 2, Answered2xx: 2, Duplicated: 1}},
		{"untrusted certificate", nil, krosaisim.DeliveryStats{Events: 1, Sent: 1, Failed: 1}},
		{"another host only", []string{"--event-host", "hooks.example.com", "--event-ca-file", h.caFile(t)},
			krosaisim.DeliveryStats{Events: 1, Skipped: 1}},
		{"off", []string{"--events=false", "--event-ca-file", h.caFile(t)}, krosaisim.DeliveryStats{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, append([]string{"--listen", "127.0.0.1:0", "--api-key", testKey + "=" + testOrg}, tc.args...)...)
			status, created := p.do(t, "POST", "/v1/endpoints", `{"name":"hook","type":"webhook","url":"`+h.URL+`/hook"}`)
			if status != http.StatusCreated {
				t.Fatalf("create: %d %v", status, created)
			}
			admin := krosaisim.NewAdminClient(p.base, nil)
			if st := settled(t, admin); st != tc.want {
				t.Errorf("delivery stats %+v, want %+v", st, tc.want)
			}
			secret, _ := created["secret"].(string)
			for range tc.want.Answered2xx {
				d := <-h.got
				mac := hmac.New(sha256.New, []byte(secret))
				mac.Write(d.body)
				if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); d.signature != want {
					t.Errorf("signature %q, want %q", d.signature, want)
				}
				if !strings.Contains(string(d.body), `"type":"endpoint.created"`) || strings.Contains(string(d.body), secret) {
					t.Errorf("body %s", d.body)
				}
			}
			recs, err := admin.Deliveries(context.Background(), 0)
			if err != nil || len(recs) != tc.want.Sent+tc.want.Skipped {
				t.Errorf("deliveries %+v %v", recs, err)
			}
			p.stop(t, syscall.SIGTERM)
		})
	}
}
