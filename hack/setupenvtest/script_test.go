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

package setupenvtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const version = "1.37.2"

// stubs are executables that answer --version as the control plane's do.
var stubs = map[string]string{
	"kube-apiserver":          "echo 'Kubernetes v" + version + "'",
	"kube-controller-manager": "echo 'Kubernetes v" + version + "'",
	"kubectl":                 `echo '{"clientVersion": {"gitVersion": "v` + version + `"}}'`,
	"etcd":                    "echo 'etcd Version: 3.6.5'",
}

func writeStubs(t *testing.T, dir string, names ...string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+stubs[name]+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// platformDir is the store's directory of this version: setup-envtest's
// layout, for the platform the test runs on.
var platformDir = version + "-" + runtime.GOOS + "-" + runtime.GOARCH

var all = []string{"kube-apiserver", "kube-controller-manager", "kubectl", "etcd"}

// result is one run of the script.
type result struct {
	stdout, stderr string
	err            error
}

// run runs hack/setup-envtest.sh with env on top of a store, a cache and a
// PATH whose go answers `go env` and builds setup-envtest (with the real
// go), and fails anything else, loudly: a source build is reported, never
// run.
func run(t *testing.T, store string, env ...string) result {
	t.Helper()
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	fake := `#!/bin/sh
case "$1 $2" in
  "env GOOS") echo ` + runtime.GOOS + ` ;;
  "env GOARCH") echo ` + runtime.GOARCH + ` ;;
  "install sigs.k8s.io/controller-runtime/tools/setup-envtest@"*) exec "` + realGo + `" "$@" ;;
  *) echo "fake go: source build reached: go $*" >&2; exit 97 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "../setup-envtest.sh")
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"K8S_VERSION="+version, "ENVTEST_STORE="+store,
		"ENVTEST_BUILD_DIR="+t.TempDir(), "ENVTEST_TOOLS_DIR="+t.TempDir(), "KUBEBUILDER_ASSETS=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), err: err}
	t.Logf("stderr:\n%s", r.stderr)
	return r
}

func TestKubebuilderAssetsWhenComplete(t *testing.T) {
	g := NewWithT(t)
	assets := writeStubs(t, filepath.Join(t.TempDir(), "assets"), all...)
	r := run(t, t.TempDir(), "KUBEBUILDER_ASSETS="+assets)
	g.Expect(r.err).NotTo(HaveOccurred())
	g.Expect(r.stdout).To(Equal(assets+"\n"), "stdout is the path alone")
	g.Expect(r.stderr).To(ContainSubstring("using KUBEBUILDER_ASSETS=" + assets))
}

func TestStoreWhenKubebuilderAssetsIsIncomplete(t *testing.T) {
	g := NewWithT(t)
	assets := writeStubs(t, filepath.Join(t.TempDir(), "assets"), "kube-apiserver", "kubectl", "etcd")
	store := t.TempDir()
	inStore := writeStubs(t, filepath.Join(store, "k8s", platformDir), all...)
	r := run(t, store, "KUBEBUILDER_ASSETS="+assets)
	g.Expect(r.err).NotTo(HaveOccurred())
	g.Expect(r.stdout).To(Equal(inStore + "\n"))
	g.Expect(r.stderr).To(ContainSubstring("lacks: kube-controller-manager; not using it"))
	g.Expect(r.stderr).To(ContainSubstring("using the store"))
}

func TestSourceBuildWhenTheStoreHasAnotherVersionAndDownloadIsOff(t *testing.T) {
	g := NewWithT(t)
	store := t.TempDir()
	old := writeStubs(t, filepath.Join(store, "k8s", platformDir), all...)
	older := []byte("#!/bin/sh\necho 'Kubernetes v1.36.0'\n")
	g.Expect(os.WriteFile(filepath.Join(old, "kube-apiserver"), older, 0o755)).To(Succeed())
	r := run(t, store, "ENVTEST_DOWNLOAD=0")
	g.Expect(r.err).To(HaveOccurred())
	g.Expect(r.stdout).To(BeEmpty())
	g.Expect(r.stderr).To(ContainSubstring("the store has no control plane v" + version))
	g.Expect(r.stderr).To(ContainSubstring("ENVTEST_DOWNLOAD=0: not trying"))
	g.Expect(r.stderr).To(ContainSubstring("fake go: source build reached: go mod download"))
}

// TestDownloadFailsFastThenSourceBuild runs the real setup-envtest against
// an index nobody serves: the script must give up on it at once and go on
// to the source build.
func TestDownloadFailsFastThenSourceBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds setup-envtest")
	}
	g := NewWithT(t)
	r := run(t, t.TempDir(), "ENVTEST_INDEX_URL=http://127.0.0.1:1/envtest-releases.yaml")
	g.Expect(r.err).To(HaveOccurred())
	g.Expect(r.stdout).To(BeEmpty())
	g.Expect(r.stderr).To(ContainSubstring("trying setup-envtest's download (60s at most) from http://127.0.0.1:1/"))
	g.Expect(r.stderr).To(MatchRegexp(`setup-envtest's download failed after \d+s`))
	g.Expect(r.stderr).NotTo(ContainSubstring("could not build setup-envtest"))
	g.Expect(strings.Index(r.stderr, "download failed")).To(
		BeNumerically("<", strings.Index(r.stderr, "source build reached")))
	g.Expect(r.stderr).To(MatchRegexp(`download failed after [0-9]s`),
		"an unreachable index takes seconds, not the timeout")
}

// TestDownloadThenControllerManagerFromSource serves setup-envtest an index
// and an archive of stub binaries: the script puts them in the store and
// goes on to build only kube-controller-manager, which the archives lack.
func TestDownloadThenControllerManagerFromSource(t *testing.T) {
	if testing.Short() {
		t.Skip("builds setup-envtest")
	}
	g := NewWithT(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		body := []byte("#!/bin/sh\n" + stubs[name] + "\n")
		h := &tar.Header{Name: "controller-tools/envtest/" + name, Mode: 0o755, Size: int64(len(body))}
		g.Expect(tw.WriteHeader(h)).To(Succeed())
		_, err := tw.Write(body)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(tw.Close()).To(Succeed())
	g.Expect(zw.Close()).To(Succeed())
	archive := buf.Bytes()
	sum := sha512.Sum512(archive)
	mux := http.NewServeMux()
	server := httptest.NewServer(mux)
	defer server.Close()
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintf(w, "releases:\n  v%s:\n    envtest-v%s-%s-%s.tar.gz:\n",
			version, version, runtime.GOOS, runtime.GOARCH)
		_, _ = fmt.Fprintf(w, "      hash: %s\n      selfLink: %s/envtest.tar.gz\n", hex.EncodeToString(sum[:]), server.URL)
	})
	mux.HandleFunc("/envtest.tar.gz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(archive) })

	store := t.TempDir()
	r := run(t, store, "ENVTEST_INDEX_URL="+server.URL+"/index.yaml")
	g.Expect(r.stderr).To(ContainSubstring("downloaded kube-apiserver, etcd and kubectl v" + version))
	g.Expect(r.stderr).To(ContainSubstring(
		"building from source into " + filepath.Join(store, "k8s", platformDir) + ": kube-controller-manager ("))
	g.Expect(r.stderr).To(ContainSubstring("fake go: source build reached"))
	g.Expect(r.err).To(HaveOccurred(), "the fake go builds nothing")
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		g.Expect(filepath.Join(store, "k8s", platformDir, name)).To(BeAnExistingFile())
	}
}
