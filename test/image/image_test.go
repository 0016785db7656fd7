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

// Package image checks the image `make image` writes to dist/: the OCI
// layout's index and configs, the files of each platform's root filesystem,
// the binaries in them, and the manager run from the extracted linux root
// filesystem against a local control plane and the KrosAI simulator. The
// same run checks that every metric the chart's alerts and dashboard query
// is one the manager exports.
package image

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

var dist = filepath.Join(repoRoot, "dist")

// platforms are the image's platforms, each with the ELF machine of its manager.
var platforms = map[string]elf.Machine{
	"linux/amd64": elf.EM_X86_64,
	"linux/arm64": elf.EM_AARCH64,
}

// built is what make image wrote: the index, its version (the layout's
// ref.name) and each platform's image.
type built struct {
	index   v1.ImageIndex
	version string
	images  map[string]v1.Image
}

func openLayout(t *testing.T) built {
	t.Helper()
	g := NewWithT(t)
	dir := filepath.Join(dist, "image")
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("open the OCI layout %s (run make image, which make test runs first): %v", dir, err)
	}
	rm, err := root.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	// A signed release (make release COSIGN_KEY=...) keeps cosign's signature
	// and attestation images beside the index, marked as cosign save marks them.
	entries := slices.DeleteFunc(rm.Manifests, func(d v1.Descriptor) bool {
		return strings.HasPrefix(d.Annotations["kind"], "dev.cosignproject.cosign/") &&
			d.Annotations["kind"] != "dev.cosignproject.cosign/imageIndex"
	})
	g.Expect(entries).To(HaveLen(1), "index.json holds the one multi-platform index")
	desc := entries[0]
	g.Expect(desc.MediaType).To(Equal(types.OCIImageIndex))
	b := built{version: desc.Annotations["org.opencontainers.image.ref.name"], images: map[string]v1.Image{}}
	g.Expect(b.version).NotTo(BeEmpty(), "index.json names the image's version")
	b.index, err = root.ImageIndex(desc.Digest)
	g.Expect(err).NotTo(HaveOccurred())

	im, err := b.index.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	for _, m := range im.Manifests {
		g.Expect(m.MediaType).To(Equal(types.OCIManifestSchema1))
		g.Expect(m.Platform).NotTo(BeNil())
		img, err := b.index.Image(m.Digest)
		g.Expect(err).NotTo(HaveOccurred())
		b.images[m.Platform.OS+"/"+m.Platform.Architecture] = img
	}
	return b
}

// extract writes img's root filesystem into dir and returns its entries by path.
func extract(t *testing.T, img v1.Image, dir string) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatalf("read the root filesystem: %v", err)
		}
		entry := strings.TrimSuffix(filepath.Clean(h.Name), "/")
		entries[entry] = h
		path := filepath.Join(dir, entry)
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(filepath.Separator)) {
			t.Fatalf("entry %q leaves the root", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			// Owner-writable here whatever the image says, so that the
			// test can write into it and remove it.
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, h.FileInfo().Mode().Perm())
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(f, tr)
			if err = errors.Join(err, f.Close()); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("entry %q: unexpected type %q", h.Name, h.Typeflag)
		}
	}
}

func TestImage(t *testing.T) {
	b := openLayout(t)
	g := NewWithT(t)
	g.Expect(b.images).To(HaveLen(len(platforms)))

	ann, err := b.index.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	for p, machine := range platforms {
		t.Run(p, func(t *testing.T) {
			g := NewWithT(t)
			img, ok := b.images[p]
			g.Expect(ok).To(BeTrue(), "no %s image in the index", p)

			cf, err := img.ConfigFile()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cf.OS + "/" + cf.Architecture).To(Equal(p))
			g.Expect(cf.Config.User).To(Equal("65532:65532"), "non-root")
			g.Expect(cf.Config.Entrypoint).To(Equal([]string{"/manager"}))
			g.Expect(cf.Config.Cmd).To(BeEmpty())
			labels := cf.Config.Labels
			g.Expect(labels).To(HaveKeyWithValue("org.opencontainers.image.source", "https://github.com/krosai/kros-operator"))
			g.Expect(labels).To(HaveKeyWithValue("org.opencontainers.image.version", b.version))
			g.Expect(labels).To(HaveKeyWithValue("org.opencontainers.image.licenses", "Apache-2.0"))
			g.Expect(labels).To(HaveKeyWithValue("org.opencontainers.image.revision", MatchRegexp(`^[0-9a-f]{40}$`)))
			g.Expect(ann.Annotations).To(Equal(labels), "the index carries the same annotations")

			layers, err := img.Layers()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(layers).To(HaveLen(1), "one layer on an empty base")

			dir := t.TempDir()
			entries := extract(t, img, dir)
			g.Expect(slices.Sorted(maps.Keys(entries))).To(Equal([]string{
				"etc", "etc/group", "etc/passwd", "home", "home/nonroot", "manager", "tmp",
			}),
				"the manager, the nonroot user and /tmp; no shell, no package manager")
			g.Expect(entries["manager"].Mode).To(BeEquivalentTo(0o755))
			g.Expect(entries["home/nonroot"].Uid).To(Equal(65532))
			passwd, err := os.ReadFile(filepath.Join(dir, "etc", "passwd"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(passwd)).To(ContainSubstring("nonroot:x:65532:65532:"))

			manager := filepath.Join(dir, "manager")
			f, err := elf.Open(manager)
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = f.Close() }()
			g.Expect(f.Machine).To(Equal(machine))
			g.Expect(f.Progs).NotTo(ContainElement(HaveField("Type", elf.PT_INTERP)), "statically linked")

			bi, err := buildinfo.ReadFile(manager)
			g.Expect(err).NotTo(HaveOccurred())
			settings := map[string]string{}
			for _, s := range bi.Settings {
				settings[s.Key] = s.Value
			}
			g.Expect(settings).To(HaveKeyWithValue("CGO_ENABLED", "0"))
			g.Expect(settings).To(HaveKeyWithValue("-trimpath", "true"))
			g.Expect(settings).NotTo(HaveKey("vcs.revision"), "no VCS stamp: the Dockerfile's build has no .git")
			// -trimpath keeps -ldflags out of the build info; the values
			// stamped with -X are in the binary's data.
			data, err := os.ReadFile(manager)
			g.Expect(err).NotTo(HaveOccurred())
			for _, stamp := range []string{b.version, labels["org.opencontainers.image.revision"],
				labels["org.opencontainers.image.created"]} {
				g.Expect(bytes.Contains(data, []byte(stamp))).To(BeTrue(), "%q stamped into the binary", stamp)
			}
			g.Expect(bi.Deps).To(ContainElement(HaveField("Path", "golang.org/x/crypto/x509roots/fallback")),
				"CA roots compiled in: the image has no /etc/ssl")
			// The Dockerfile builds with the same script; with the same Go
			// it gives the same binary.
			dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(dockerfile)).To(And(
				ContainSubstring("\nARG BASE_IMAGE=golang:"+strings.TrimPrefix(bi.GoVersion, "go")+"\n"),
				ContainSubstring("sh hack/build-manager.sh manager")),
				"the Dockerfile's Go is the one that built this image")

			// The docker load tarball holds the same config and layer (its
			// manifest is docker's, so the manifest digest differs).
			tarPath := filepath.Join(dist, "kros-operator-"+strings.ReplaceAll(p, "/", "-")+".tar")
			tb, err := tarball.ImageFromPath(tarPath, nil)
			g.Expect(err).NotTo(HaveOccurred())
			configName, err := img.ConfigName()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(tb.ConfigName()).To(Equal(configName))
			tbLayers, err := tb.Layers()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(tbLayers).To(HaveLen(1))
			layerDigest, err := layers[0].Digest()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(tbLayers[0].Digest()).To(Equal(layerDigest))
		})
	}

	digest, err := b.index.Digest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.ReadFile(filepath.Join(dist, "image.digest"))).To(BeEquivalentTo(digest.String() + "\n"))
}

// hostImage is the image of the platform the test runs on, extracted.
func hostImage(t *testing.T) (b built, rootfs string) {
	t.Helper()
	b = openLayout(t)
	img, ok := b.images["linux/"+runtime.GOARCH]
	if runtime.GOOS != "linux" || !ok {
		t.Skipf("the image has no %s/%s root filesystem to run here", runtime.GOOS, runtime.GOARCH)
	}
	rootfs = t.TempDir()
	extract(t, img, rootfs)
	return b, rootfs
}

// make image-push sends the layout's index, unchanged, to a registry: here
// go-containerregistry's in-memory one.
func TestImagePush(t *testing.T) {
	b := openLayout(t)
	g := NewWithT(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	ref := strings.TrimPrefix(reg.URL, "http://") + "/krosai/kros-operator:" + b.version

	push := exec.Command("go", "run", "./hack/image", "push", "-out", "dist", "-ref", ref)
	push.Dir = repoRoot
	out, err := push.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s", out)

	want, err := b.index.Digest()
	g.Expect(err).NotTo(HaveOccurred())
	dst, err := name.ParseReference(ref)
	g.Expect(err).NotTo(HaveOccurred())
	pushed, err := remote.Index(dst)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pushed.Digest()).To(Equal(want), "the registry serves the index make image built")
	for p, img := range b.images {
		osName, arch, _ := strings.Cut(p, "/")
		got, err := remote.Image(dst, remote.WithPlatform(v1.Platform{OS: osName, Architecture: arch}))
		g.Expect(err).NotTo(HaveOccurred(), p)
		wantImg, err := img.Digest()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got.Digest()).To(Equal(wantImg), p)
	}
}
