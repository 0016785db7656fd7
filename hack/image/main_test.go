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
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestPushSendsSignatures pushes a layout as make release leaves it when it
// signs (the image index, and cosign's signature image beside it) to an
// in-process registry, and finds the signature at the tag cosign reads.
func TestPushSendsSignatures(t *testing.T) {
	g := NewWithT(t)
	server := httptest.NewServer(registry.New())
	defer server.Close()
	u, err := url.Parse(server.URL)
	g.Expect(err).NotTo(HaveOccurred())

	out := t.TempDir()
	idx, err := random.Index(64, 1, 2)
	g.Expect(err).NotTo(HaveOccurred())
	digest, err := idx.Digest()
	g.Expect(err).NotTo(HaveOccurred())
	sig, err := random.Image(64, 1)
	g.Expect(err).NotTo(HaveOccurred())
	lp, err := layout.Write(filepath.Join(out, "image"), empty.Index)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		refNameAnnotation: "1.2.3", cosignKindAnnotation: "dev.cosignproject.cosign/imageIndex",
	}))).To(Succeed())
	g.Expect(lp.AppendImage(sig, layout.WithAnnotations(map[string]string{
		refNameAnnotation: "sha256-" + digest.Hex + ".sig", cosignKindAnnotation: "dev.cosignproject.cosign/sigs",
	}))).To(Succeed())

	g.Expect(push([]string{"-out", out, "-ref", u.Host + "/kros-operator:1.2.3"})).To(Succeed())
	repo, err := name.NewRepository(u.Host + "/kros-operator")
	g.Expect(err).NotTo(HaveOccurred())
	got, err := remote.Head(repo.Tag("1.2.3"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Digest).To(Equal(digest))
	g.Expect(got.MediaType).To(Equal(types.OCIImageIndex))
	sigDigest, err := sig.Digest()
	g.Expect(err).NotTo(HaveOccurred())
	got, err = remote.Head(repo.Tag("sha256-" + digest.Hex + ".sig"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Digest).To(Equal(sigDigest))

	// An entry that is neither the index nor a signature is refused.
	g.Expect(lp.AppendImage(sig)).To(Succeed())
	_, err = layoutIndex(filepath.Join(out, "image"))
	g.Expect(err).To(MatchError(ContainSubstring("neither the image nor its signatures")))
}
