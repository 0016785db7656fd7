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

// Command image builds the manager's image without a container engine and
// without a registry: it cross-compiles the manager (hack/build-manager.sh)
// for each platform, puts each binary on an empty base with
// go-containerregistry, and writes
//
//	OUT/image/                       an OCI layout holding one image index (all platforms)
//	OUT/image.digest                 that index's digest, for pinning
//	OUT/kros-operator-OS-ARCH.tar    one `docker load`-able tarball per platform
//
// `image push` pushes the layout's index to a registry, and the signature and
// attestation images make release may have added (hack/release) to the tags
// cosign reads them from.
//
//	go run ./hack/image build -out dist -name ghcr.io/krosai/kros-operator -version 0.1.0 -commit SHA -date RFC3339
//	go run ./hack/image push -out dist -ref ghcr.io/krosai/kros-operator:0.1.0
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/krosai/kros-operator/hack/reproducible"
)

const (
	// UID and GID of the manager's process: distroless' "nonroot".
	nonroot = 65532
	// refNameAnnotation names the image in an OCI layout's index.json.
	refNameAnnotation = "org.opencontainers.image.ref.name"
	// cosignKindAnnotation marks, in an OCI layout, the signature and
	// attestation images make release adds beside the image when it signs
	// (as `cosign save` does).
	cosignKindAnnotation = "kind"
)

// cosignKinds are the values of cosignKindAnnotation that push sends.
var cosignKinds = map[string]bool{"dev.cosignproject.cosign/sigs": true, "dev.cosignproject.cosign/atts": true}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: image build|push [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want build or push", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// buildOptions are build's flags.
type buildOptions struct {
	out, name, version, commit, date, source, platforms string
}

func build(args []string) error {
	var o buildOptions
	fs := flag.NewFlagSet("image build", flag.ExitOnError)
	fs.StringVar(&o.out, "out", "dist", "output directory")
	fs.StringVar(&o.name, "name", "ghcr.io/krosai/kros-operator", "image repository, for the tarballs' tag")
	fs.StringVar(&o.version, "version", "dev", "version: the image tag, main.version and the version label")
	fs.StringVar(&o.commit, "commit", "unknown", "source commit: main.commit and the revision label")
	fs.StringVar(&o.date, "date", "", "build date (RFC 3339; the commit's date keeps rebuilds identical)")
	fs.StringVar(&o.source, "source", "https://github.com/krosai/kros-operator", "the source label")
	fs.StringVar(&o.platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated OS/ARCH")
	_ = fs.Parse(args)

	created := time.Unix(0, 0).UTC()
	if o.date != "" {
		t, err := time.Parse(time.RFC3339, o.date)
		if err != nil {
			return fmt.Errorf("-date: %w", err)
		}
		created = t.UTC()
	}
	tag, err := name.NewTag(o.name + ":" + o.version)
	if err != nil {
		return fmt.Errorf("image name: %w", err)
	}
	tmp, err := os.MkdirTemp("", "kros-operator-image-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	labels := map[string]string{
		"org.opencontainers.image.title":       "kros-operator",
		"org.opencontainers.image.description": "Kubernetes operator for the KrosAI Cockpit API",
		"org.opencontainers.image.source":      o.source,
		"org.opencontainers.image.url":         o.source,
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.revision":    o.commit,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}

	var adds []mutate.IndexAddendum
	for p := range strings.SplitSeq(o.platforms, ",") {
		osName, arch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || osName != "linux" {
			return fmt.Errorf("platform %q: want linux/ARCH", p)
		}
		bin := filepath.Join(tmp, "manager-"+arch)
		start := time.Now()
		if err := buildManager(bin, arch, o); err != nil {
			return err
		}
		img, err := platformImage(bin, osName, arch, created, labels)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		size, err := imageSize(img)
		if err != nil {
			return err
		}
		fmt.Printf("%s/%s: built in %s, %d bytes compressed\n", osName, arch, time.Since(start).Round(time.Millisecond), size)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: osName, Architecture: arch},
		}})

		tarPath := filepath.Join(o.out, fmt.Sprintf("kros-operator-%s-%s.tar", osName, arch))
		if err := tarball.WriteToFile(tarPath, tag, img); err != nil {
			return fmt.Errorf("write %s: %w", tarPath, err)
		}
	}

	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx, adds...)
	idx = mutate.Annotations(idx, labels).(v1.ImageIndex)
	digest, err := idx.Digest()
	if err != nil {
		return err
	}

	dir := filepath.Join(o.out, "image")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: o.version})); err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(o.out, "image.digest"), []byte(digest.String()+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: OCI layout of %s@%s\n", dir, tag.Context(), digest)
	return nil
}

// buildManager cross-compiles the manager with the script the Dockerfile runs.
func buildManager(out, arch string, o buildOptions) error {
	cmd := exec.Command("hack/build-manager.sh", out)
	cmd.Env = append(os.Environ(), "GOARCH="+arch, "VERSION="+o.version, "COMMIT="+o.commit, "DATE="+o.date)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the manager for linux/%s: %w", arch, err)
	}
	return nil
}

// platformImage is the manager on an empty base: /manager, the nonroot user
// in /etc/passwd and /etc/group (for tools that resolve the uid), and /tmp.
func platformImage(bin, osName, arch string, created time.Time, labels map[string]string) (v1.Image, error) {
	manager, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	files := []reproducible.Entry{
		{Name: "etc/", Mode: 0o755, Dir: true},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{Name: "home/", Mode: 0o755, Dir: true},
		{Name: "home/nonroot/", Mode: 0o700, Dir: true, Owner: nonroot},
		{Name: "tmp/", Mode: 0o1777, Dir: true},
		{Name: "manager", Mode: 0o755, Data: manager},
	}
	compressed, err := reproducible.GzipTar(files, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(compressed)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "hack/image: the manager on an empty base",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = osName, arch, v1.Time{Time: created}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Entrypoint: []string{"/manager"},
		WorkingDir: "/",
		Labels:     labels,
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return img, nil
}

// imageSize is the compressed size of the image's layers.
func imageSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// push sends the image index in OUT/image to a registry, with the
// credentials of ~/.docker/config.json (docker login, crane auth login).
func push(args []string) error {
	fs := flag.NewFlagSet("image push", flag.ExitOnError)
	out := fs.String("out", "dist", "the directory image build wrote")
	ref := fs.String("ref", "", "where to push, e.g. ghcr.io/krosai/kros-operator:0.1.0")
	_ = fs.Parse(args)
	if *ref == "" {
		return errors.New("-ref is required")
	}
	dst, err := name.ParseReference(*ref)
	if err != nil {
		return err
	}
	idx, err := layoutIndex(filepath.Join(*out, "image"))
	if err != nil {
		return err
	}
	auth := remote.WithAuthFromKeychain(authn.DefaultKeychain)
	if err := remote.WriteIndex(dst, idx, auth); err != nil {
		return fmt.Errorf("push %s: %w", dst, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("pushed %s@%s\n", dst.Context(), digest)
	return pushSignatures(filepath.Join(*out, "image"), dst.Context(), auth)
}

// pushSignatures pushes what make release signed into the layout (hack/release
// sign): the signature and attestation images, to the tags cosign looks them
// up by (sha256-<index hex>.sig and .att) in the image's repository.
func pushSignatures(dir string, repo name.Repository, opts ...remote.Option) error {
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return err
	}
	m, err := root.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		if !cosignKinds[d.Annotations[cosignKindAnnotation]] {
			continue
		}
		img, err := root.Image(d.Digest)
		if err != nil {
			return err
		}
		tag := repo.Tag(d.Annotations[refNameAnnotation])
		if err := remote.Write(tag, img, opts...); err != nil {
			return fmt.Errorf("push %s: %w", tag, err)
		}
		fmt.Printf("pushed %s\n", tag)
	}
	return nil
}

// layoutIndex is the one image index an OCI layout written by build holds.
func layoutIndex(dir string) (v1.ImageIndex, error) {
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run make image)", dir, err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		return nil, err
	}
	var found []v1.Descriptor
	for _, d := range m.Manifests {
		switch {
		case d.MediaType == types.OCIImageIndex:
			found = append(found, d)
		case !cosignKinds[d.Annotations[cosignKindAnnotation]]:
			return nil, fmt.Errorf("%s: index.json names %s, neither the image nor its signatures", dir, d.Digest)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%s: want one image index in index.json, found %d", dir, len(found))
	}
	return root.ImageIndex(found[0].Digest)
}
