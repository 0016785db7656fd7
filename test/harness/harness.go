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

// Package harness runs the operator as users do: a local control plane built
// from source, krosai-sim and the manager as separate processes. The demo
// and the e2e suite share it.
package harness

import (
	"bufio"
	"context"
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
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// Scheme knows the built-in types and KrosEndpoint.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = cockpitv1alpha1.AddToScheme(s)
	return s
}()

// ControlPlane is a kube-apiserver and etcd, and optionally
// kube-controller-manager's namespace and garbage-collector controllers.
type ControlPlane struct {
	Env    *envtest.Environment
	Admin  client.Client
	Assets string
	// Dir holds kubeconfig files; it is removed by Stop.
	Dir string
	// AdminKubeconfig is a kubeconfig file for a system:masters user.
	AdminKubeconfig string

	controllerManager *Process
}

// StartControlPlane starts the API server with the project's CRDs installed.
func StartControlPlane(root string, withControllerManager bool) (*ControlPlane, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run through make, which builds the control plane")
	}
	dir, err := os.MkdirTemp("", "kros-operator-")
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{Assets: assets, Dir: dir, Env: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}}
	cfg, err := cp.Env.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	if cp.Admin, err = client.New(cfg, client.Options{Scheme: Scheme}); err != nil {
		cp.Stop()
		return nil, err
	}
	if cp.AdminKubeconfig, err = cp.Kubeconfig("admin", "system:masters"); err != nil {
		cp.Stop()
		return nil, err
	}
	if withControllerManager {
		if cp.controllerManager, err = StartControllerManager(assets, dir, cp.AdminKubeconfig); err != nil {
			cp.Stop()
			return nil, err
		}
	}
	return cp, nil
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
	cmd := exec.CommandContext(ctx, filepath.Join(cp.Assets, "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.AdminKubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Stop ends the control plane and removes its files.
func (cp *ControlPlane) Stop() {
	if cp.controllerManager != nil {
		cp.controllerManager.Kill()
	}
	_ = cp.Env.Stop()
	_ = os.RemoveAll(cp.Dir)
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
	// URL is the simulator's root; the API is under URL + "/v1".
	URL string
}

// StartSimulator runs krosai-sim on a free port and waits for its first line.
func StartSimulator(bin string, args ...string) (*Simulator, error) {
	cmd := exec.Command(bin, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start krosai-sim: %w", err)
	}
	p := &Process{Cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		p.Kill()
		return nil, fmt.Errorf("krosai-sim did not say where it listens: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return &Simulator{Process: p, URL: url}, nil
}

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
	// In the order they can be applied: namespaces and CRDs before what
	// lives in them or uses them.
	rank := func(o *unstructured.Unstructured) int {
		switch o.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	return objs, nil
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
