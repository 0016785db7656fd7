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

package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/krosai/kros-operator/hack/reproducible"
)

const (
	testVersion = "9.8.7"
	testRepo    = "registry.example/kros-operator"
)

// tinyBinary is a small Go program built for this test: a real binary with
// build information, much faster to build than the manager.
func tinyBinary(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), []byte("module example.com/tiny\n\ngo 1.26\n"))
	write(t, filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"))
	cmd := exec.Command("go", "build", "-trimpath", "-o", "tiny", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeBundle is dist/ as make release leaves it before signing, with a tiny
// binary standing in for the manager and the plugin: an OCI layout of two
// platforms, a chart, install.yaml, a plugin archive, their SBOMs and the
// provenance.
func fakeBundle(t *testing.T) string {
	t.Helper()
	g := NewWithT(t)
	dir := t.TempDir()
	bin := tinyBinary(t)
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		data, err := reproducible.GzipTar([]reproducible.Entry{{Name: "manager", Mode: 0o755, Data: bin}}, date)
		g.Expect(err).NotTo(HaveOccurred())
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}, tarball.WithMediaType(types.OCILayer))
		g.Expect(err).NotTo(HaveOccurred())
		img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{Layer: layer})
		g.Expect(err).NotTo(HaveOccurred())
		cf, err := img.ConfigFile()
		g.Expect(err).NotTo(HaveOccurred())
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, err = mutate.ConfigFile(img, cf)
		g.Expect(err).NotTo(HaveOccurred())
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: arch},
		}})
	}
	lp, err := layout.Write(filepath.Join(dir, "image"), empty.Index)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: testVersion}))).To(Succeed())

	archive, err := reproducible.GzipTar([]reproducible.Entry{
		{Name: "LICENSE", Mode: 0o644, Data: []byte("license")},
		{Name: pluginBin, Mode: 0o755, Data: bin},
	}, date)
	g.Expect(err).NotTo(HaveOccurred())
	write(t, filepath.Join(dir, pluginBin+"_"+testVersion+"_linux_amd64.tar.gz"), archive)
	write(t, filepath.Join(dir, "install.yaml"), []byte("kind: Deployment\n"))
	write(t, filepath.Join(dir, "kros-operator-"+testVersion+".tgz"), []byte("chart"))

	g.Expect(WriteSBOMs(dir, testVersion, date)).To(Succeed())
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	g.Expect(err).NotTo(HaveOccurred())
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "image" })
	st, err := Provenance(ProvenanceOptions{
		Version: testVersion, Commit: "0123abcd", Source: "https://example.com/src", ImageRepo: testRepo,
		BuilderID: "test", ImageDir: filepath.Join(dir, "image"), Files: files,
	})
	g.Expect(err).NotTo(HaveOccurred())
	data, err := jsonIndent(st)
	g.Expect(err).NotTo(HaveOccurred())
	write(t, filepath.Join(dir, provenanceName(testVersion)), data)
	return dir
}

// signBundle signs dir as make release does: the image and the provenance,
// then sha256sums.txt over every file, then each file.
func signBundle(t *testing.T, dir string, key *ecdsa.PrivateKey) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(SignRelease(dir, testVersion, testRepo, key)).To(Succeed())
	entries, err := os.ReadDir(dir)
	g.Expect(err).NotTo(HaveOccurred())
	var sums strings.Builder
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		g.Expect(err).NotTo(HaveOccurred())
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), e.Name())
	}
	write(t, filepath.Join(dir, sumsName), []byte(sums.String()))
	g.Expect(SignFiles(dir, key)).To(Succeed())
}

// throwAwayKey is a new cosign key pair, written as cosign writes it and
// read back through the password.
func throwAwayKey(t *testing.T) (*ecdsa.PrivateKey, *ecdsa.PublicKey) {
	t.Helper()
	g := NewWithT(t)
	prefix := filepath.Join(t.TempDir(), "cosign")
	password := []byte("throw-away password")
	g.Expect(GenerateKeyPair(prefix, password)).To(Succeed())
	_, err := LoadPrivateKey(prefix+".key", []byte("wrong"))
	g.Expect(err).To(MatchError(ContainSubstring("cannot decrypt")))
	g.Expect(err.Error()).NotTo(ContainSubstring("wrong"))
	key, err := LoadPrivateKey(prefix+".key", password)
	g.Expect(err).NotTo(HaveOccurred())
	pub, err := LoadPublicKey(prefix + ".pub")
	g.Expect(err).NotTo(HaveOccurred())
	return key, pub
}

func copyBundle(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "dist")
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// flipByte changes one byte in the middle of path.
func flipByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, path, data)
}

// largestBlob is the image's biggest blob: a layer.
func largestBlob(t *testing.T, dir string) string {
	t.Helper()
	blobs, err := filepath.Glob(filepath.Join(dir, "image", "blobs", "sha256", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var best string
	var size int64
	for _, b := range blobs {
		if fi, err := os.Stat(b); err == nil && fi.Size() > size {
			best, size = b, fi.Size()
		}
	}
	return best
}

func TestSignedReleaseVerifiesAndTamperingFails(t *testing.T) {
	g := NewWithT(t)
	key, pub := throwAwayKey(t)
	dir := fakeBundle(t)
	signBundle(t, dir, key)

	report, err := VerifyRelease(dir, pub)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(report).To(HaveLen(3))
	_, statements, err := VerifyImage(filepath.Join(dir, "image"), pub)
	g.Expect(err).NotTo(HaveOccurred())
	predicates := make([]string, 0, len(statements))
	for _, st := range statements {
		predicates = append(predicates, st.PredicateType)
	}
	g.Expect(predicates).To(ConsistOf(cycloneDXType, cycloneDXType, slsaProvenance))

	t.Run("a changed plugin archive", func(t *testing.T) {
		d := copyBundle(t, dir)
		flipByte(t, filepath.Join(d, pluginBin+"_"+testVersion+"_linux_amd64.tar.gz"))
		_, err := VerifyRelease(d, pub)
		name := pluginBin + "_" + testVersion + "_linux_amd64.tar.gz"
		NewWithT(t).Expect(err).To(MatchError(ContainSubstring(name + ": sha256")))
	})
	t.Run("a changed archive with sha256sums.txt rewritten to match", func(t *testing.T) {
		d := copyBundle(t, dir)
		name := pluginBin + "_" + testVersion + "_linux_amd64.tar.gz"
		flipByte(t, filepath.Join(d, name))
		sums, err := os.ReadFile(filepath.Join(d, sumsName))
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		data, err := os.ReadFile(filepath.Join(d, name))
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		old, _ := readSums(dir)
		write(t, filepath.Join(d, sumsName), bytes.ReplaceAll(sums, []byte(old[name]), []byte(sha256Hex(data))))
		_, err = VerifyRelease(d, pub)
		NewWithT(t).Expect(err).To(MatchError(ContainSubstring(sumsName + ": signature does not verify")))
	})
	t.Run("a changed image layer", func(t *testing.T) {
		d := copyBundle(t, dir)
		// sha256sums.txt covers the layout's tar, not dist/image: this is
		// the image check alone.
		flipByte(t, largestBlob(t, d))
		_, _, err := VerifyImage(filepath.Join(d, "image"), pub)
		NewWithT(t).Expect(err).To(HaveOccurred())
		_, err = VerifyRelease(d, pub)
		NewWithT(t).Expect(err).To(MatchError(ContainSubstring("image sha256:")))
	})
	t.Run("an image signed with another key", func(t *testing.T) {
		d := copyBundle(t, dir)
		other, _ := throwAwayKey(t)
		NewWithT(t).Expect(SignImage(filepath.Join(d, "image"), testRepo, other, nil)).To(Succeed())
		_, _, err := VerifyImage(filepath.Join(d, "image"), pub)
		NewWithT(t).Expect(err).To(MatchError(ContainSubstring("no valid signature")))
	})
	t.Run("another key", func(t *testing.T) {
		_, otherPub := throwAwayKey(t)
		_, err := VerifyRelease(dir, otherPub)
		NewWithT(t).Expect(err).To(MatchError(ContainSubstring("signature does not verify")))
	})
	t.Run("an unsigned file", func(t *testing.T) {
		d := copyBundle(t, dir)
		NewWithT(t).Expect(os.Remove(filepath.Join(d, "install.yaml.sig"))).To(Succeed())
		_, err := VerifyRelease(d, pub)
		NewWithT(t).Expect(err).To(MatchError(ContainSubstring("install.yaml: unsigned")))
	})
}
