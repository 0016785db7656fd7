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

// Package harness is the project's own test kit: a local control plane
// built from source (with kube-controller-manager, and an API server that
// can be restarted), the manager in-process or as a process with its flags,
// krosai-sim as a process. The envtest suites, e2e, soak, demo and benchmark
// share it. It imports no controller code, so that internal/controller's
// suite can use it; what users may import is under pkg/.
package harness

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/pkg/crds"
	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// Scheme knows the built-in types and KrosEndpoint.
var Scheme = cluster.NewScheme()

// ControlPlane is a kube-apiserver and etcd with the project's CRDs, and
// optionally kube-controller-manager's namespace and garbage-collector
// controllers.
type ControlPlane struct {
	Env    *envtest.Environment
	Admin  client.Client
	Assets string
	// Dir holds kubeconfig files and logs; Stop removes it unless it was
	// given in ControlPlaneOptions.
	Dir string
	// AdminKubeconfig is a kubeconfig file for a system:masters user.
	AdminKubeconfig string
	// AuditLog is kube-apiserver's audit log (JSON lines), when
	// ControlPlaneOptions.AuditPolicy asked for one; AuditEvents reads it.
	AuditLog string

	controllerManager *Process
	ownDir            bool
	apiLog            *os.File
}

// ControlPlaneOptions say what StartControlPlane starts.
type ControlPlaneOptions struct {
	// ControllerManager runs kube-controller-manager's namespace and
	// garbage-collector controllers: envtest runs none, so without them a
	// namespace never finishes deleting and owned objects are never
	// collected.
	ControllerManager bool
	// Dir is where kubeconfigs and logs go, kept after Stop; empty makes a
	// temporary directory that Stop removes.
	Dir string
	// Restartable lets RestartAPIServer stop kube-apiserver and start it
	// again with etcd kept: its certificates are kept in Dir (envtest's
	// own are removed when the server stops, and a new CA would leave every
	// client distrusting the restarted server) and its log goes to
	// Dir/kube-apiserver.log.
	Restartable bool
	// APIServerStopTimeout is how long kube-apiserver may take to stop
	// before it is SIGKILLed, as a kubelet would at the end of the grace
	// period; zero is envtest's default.
	APIServerStopTimeout time.Duration
	// AdminTimeout bounds each request of Admin; zero is none.
	AdminTimeout time.Duration
	// AuditPolicy, an audit.k8s.io/v1 Policy in YAML, makes kube-apiserver
	// write the events it selects to Dir/audit.log (ControlPlane.AuditLog),
	// synchronously (--audit-log-mode=blocking): what a given user did, which
	// no metric tells apart.
	AuditPolicy string
	// NoCRDs starts the API server without the project's CRDs, for a suite
	// that installs them itself, as a user would (test/install).
	NoCRDs bool
}

// StartControlPlane starts the API server with the project's CRDs
// (pkg/crds) installed, unless NoCRDs.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run through make, which builds the control plane, " +
			"or export KUBEBUILDER_ASSETS=$(hack/setup-envtest.sh 2>/dev/null) first")
	}
	cp := &ControlPlane{Assets: assets, Dir: opts.Dir, Env: &envtest.Environment{
		BinaryAssetsDirectory:   assets,
		ControlPlaneStopTimeout: opts.APIServerStopTimeout,
	}}
	var err error
	if !opts.NoCRDs {
		if cp.Env.CRDs, err = crds.All(); err != nil {
			return nil, err
		}
	}
	if cp.Dir == "" {
		if cp.Dir, err = os.MkdirTemp("", "kros-operator-"); err != nil {
			return nil, err
		}
		cp.ownDir = true
	}
	if opts.Restartable {
		certs := filepath.Join(cp.Dir, "apiserver-certs")
		if err := os.MkdirAll(certs, 0o700); err != nil {
			return nil, err
		}
		if cp.apiLog, err = os.Create(filepath.Join(cp.Dir, "kube-apiserver.log")); err != nil {
			return nil, err
		}
		cp.Env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certs, Out: cp.apiLog, Err: cp.apiLog}
	}
	if opts.AuditPolicy != "" {
		if err := cp.configureAudit(opts.AuditPolicy); err != nil {
			_ = cp.Stop()
			return nil, err
		}
	}
	cfg, err := cp.Env.Start()
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = opts.AdminTimeout
	if cp.Admin, err = client.New(cfg, client.Options{Scheme: Scheme}); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if cp.AdminKubeconfig, err = cp.Kubeconfig("admin", "system:masters"); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if opts.ControllerManager {
		if cp.controllerManager, err = StartControllerManager(assets, cp.Dir, cp.AdminKubeconfig); err != nil {
			_ = cp.Stop()
			return nil, err
		}
	}
	return cp, nil
}

// configureAudit writes the audit policy into Dir and points kube-apiserver
// at it and at Dir/audit.log.
func (cp *ControlPlane) configureAudit(policy string) error {
	path := filepath.Join(cp.Dir, "audit-policy.yaml")
	if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
		return err
	}
	if cp.Env.ControlPlane.APIServer == nil {
		cp.Env.ControlPlane.APIServer = &envtest.APIServer{}
	}
	cp.AuditLog = filepath.Join(cp.Dir, "audit.log")
	cp.Env.ControlPlane.APIServer.Configure().
		Set("audit-policy-file", path).
		Set("audit-log-path", cp.AuditLog).
		Set("audit-log-format", "json").
		Set("audit-log-mode", "blocking")
	return nil
}

// AuditEvent is the part of an audit.k8s.io/v1 Event the suites read.
type AuditEvent struct {
	Stage string `json:"stage"`
	// Verb is the Kubernetes verb: get, list, watch, create, update,
	// patch, delete, deletecollection.
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// IsWrite reports whether the event's verb changes state.
func (e AuditEvent) IsWrite() bool {
	switch e.Verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

// AuditEvents returns the events of the audit log so far, in the order
// they were written.
func (cp *ControlPlane) AuditEvents() ([]AuditEvent, error) {
	if cp.AuditLog == "" {
		return nil, errors.New("the control plane was started without an AuditPolicy")
	}
	data, err := os.ReadFile(cp.AuditLog)
	if err != nil {
		return nil, err
	}
	var events []AuditEvent
	for line := range strings.Lines(string(data)) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var e AuditEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			// The last line may be half written.
			if !strings.HasSuffix(line, "\n") {
				break
			}
			return nil, fmt.Errorf("%s: %w", cp.AuditLog, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// RestartAPIServer stops kube-apiserver (SIGTERM, SIGKILL after
// APIServerStopTimeout), waits down, and starts it again on the same port
// with the same certificates; etcd keeps running. killed reports a stop that
// needed the SIGKILL. The control plane must have been started Restartable.
func (cp *ControlPlane) RestartAPIServer(down time.Duration) (killed bool, err error) {
	if cp.apiLog == nil {
		return false, errors.New("the control plane was not started Restartable")
	}
	api := cp.Env.ControlPlane.APIServer
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

// Kubeconfig writes a kubeconfig for a user authenticated by client
// certificate. A name of the form system:serviceaccount:NS:NAME is matched
// by RBAC bindings to that ServiceAccount.
func (cp *ControlPlane) Kubeconfig(name string, groups ...string) (string, error) {
	return WriteKubeconfig(cp.Env, cp.Dir, name, groups...)
}

// WriteKubeconfig writes into dir a kubeconfig for a user of env
// authenticated by client certificate.
func WriteKubeconfig(env *envtest.Environment, dir, name string, groups ...string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", err
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, strings.NewReplacer(":", "-").Replace(name)+".kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// StartControllerManager runs kube-controller-manager's namespace and
// garbage-collector controllers, logging into dir: envtest runs none, so
// without them a namespace never finishes deleting and owned objects are
// never collected.
func StartControllerManager(assets, dir, adminKubeconfig string) (*Process, error) {
	return Start(filepath.Join(dir, "kube-controller-manager.log"),
		filepath.Join(assets, "kube-controller-manager"), "--kubeconfig="+adminKubeconfig,
		"--controllers=namespace,garbagecollector", "--leader-elect=false",
		"--use-service-account-credentials=false", "--secure-port=0")
}

// Kubectl runs the control plane's kubectl as the admin user.
func (cp *ControlPlane) Kubectl(ctx context.Context, args ...string) (string, error) {
	return cp.KubectlInput(ctx, "", args...)
}

// KubectlInput runs the control plane's kubectl as the admin user with
// stdin, as in `... | kubectl apply -f -`.
func (cp *ControlPlane) KubectlInput(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cp.Assets, "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.AdminKubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Stop ends the control plane and removes its files, unless their Dir was
// given, and returns what failed: a process that would not stop in time, or
// files that could not be removed. kube-controller-manager goes first: the
// API server would otherwise wait for its connections until the stop
// timeout.
func (cp *ControlPlane) Stop() error {
	if cp.controllerManager != nil {
		cp.controllerManager.Kill()
	}
	err := cp.Env.Stop()
	if cp.apiLog != nil {
		_ = cp.apiLog.Close()
	}
	if cp.ownDir {
		err = errors.Join(err, os.RemoveAll(cp.Dir))
	}
	return err
}

// Process is a binary of ours running on its own.
type Process struct {
	Cmd *exec.Cmd
	Log string
	// done is closed when the process has exited.
	done chan struct{}
}

// Start runs a command with its output in a log file.
func Start(logPath, name string, args ...string) (*Process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(p.done)
	}()
	return p, nil
}

// Kill ends the process at once, as a node failure or OOM kill would.
func (p *Process) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to end and waits for it, killing it after 10s.
func (p *Process) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Kill()
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Simulator is a running krosai-sim.
type Simulator struct {
	*Process
	// URL is the simulator's root, http://HOST:PORT; the API is under
	// APIURL, the admin API is Admin.
	URL string
}

// SimulatorOptions say where krosai-sim listens and logs.
type SimulatorOptions struct {
	// Addr is --listen; empty picks a free port on 127.0.0.1.
	Addr string
	// Log receives its output after the first line, and its logs; empty
	// discards them.
	Log string
}

// StartSimulator runs krosai-sim with args (keys, faults) and waits for its
// first line, which says where it listens.
func StartSimulator(bin string, opts SimulatorOptions, args ...string) (*Simulator, error) {
	cmd := exec.Command(bin, append([]string{"--listen", cmp.Or(opts.Addr, "127.0.0.1:0")}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	output := io.Discard
	var log *os.File
	if opts.Log != "" {
		if log, err = os.Create(opts.Log); err != nil {
			return nil, err
		}
		output = log
	}
	cmd.Stderr = output
	if err := cmd.Start(); err != nil {
		if log != nil {
			_ = log.Close()
		}
		return nil, fmt.Errorf("start krosai-sim: %w", err)
	}
	p := &Process{Cmd: cmd, Log: opts.Log, done: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		<-copied
		if log != nil {
			_ = log.Close()
		}
		close(p.done)
	}()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	go func() {
		defer close(copied)
		_, _ = io.Copy(output, out)
	}()
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		p.Kill()
		return nil, fmt.Errorf("krosai-sim did not say where it listens: %q %v", line, err)
	}
	return &Simulator{Process: p, URL: url}, nil
}

// APIURL is the KrosAI API's base URL, the manager's --krosai-api-url.
func (s *Simulator) APIURL() string { return s.URL + "/v1" }

// Admin is a client of the simulator's admin API.
func (s *Simulator) Admin() *krosaisim.AdminClient { return krosaisim.NewAdminClient(s.URL, nil) }

// Installer renders config/default, the bundle make build-installer writes.
func Installer(root string) ([]*unstructured.Unstructured, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).
		Run(filesys.MakeFsOnDisk(), filepath.Join(root, "config", "default"))
	if err != nil {
		return nil, fmt.Errorf("kustomize config/default: %w", err)
	}
	objs := make([]*unstructured.Unstructured, 0, len(resources.Resources()))
	for _, r := range resources.Resources() {
		m, err := r.Map()
		if err != nil {
			return nil, err
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int { return ApplyOrder(a) - ApplyOrder(b) })
	return objs, nil
}

// DecodeYAML splits a multi-document YAML stream into objects, skipping empty
// documents.
func DecodeYAML(data []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("%w in\n%s", err, doc)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

// ApplyOrder ranks an object for applying a bundle: Namespaces (0) and CRDs
// (1) before what lives in them or uses them (2).
func ApplyOrder(o *unstructured.Unstructured) int {
	switch o.GetKind() {
	case "Namespace":
		return 0
	case "CustomResourceDefinition":
		return 1
	}
	return 2
}

// Root finds the repository root from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "PROJECT")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (the folder with PROJECT) not found")
		}
		dir = parent
	}
}
