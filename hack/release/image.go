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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// How cosign stores signatures and attestations: an image whose layers are
// the signed payloads, tagged sha256-<hex>.sig and .att beside the image in a
// registry, and marked with a "kind" annotation in an OCI layout (as
// `cosign save` writes one, which `cosign verify --local-image` reads).
const (
	kindAnnotation      = "kind"
	kindImageIndex      = "dev.cosignproject.cosign/imageIndex"
	kindSignatures      = "dev.cosignproject.cosign/sigs"
	kindAttestations    = "dev.cosignproject.cosign/atts"
	signatureAnnotation = "dev.cosignproject.cosign/signature"
	refNameAnnotation   = "org.opencontainers.image.ref.name"

	simpleSigningType = types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json")
	dsseType          = types.MediaType("application/vnd.dsse.envelope.v1+json")
)

// simpleSigning is cosign's signed payload for an image.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]string `json:"optional"`
}

const simpleSigningKind = "cosign container image signature"

// imageIndex is the one image index of the OCI layout in dir, whatever
// signatures lie beside it.
func imageIndex(dir string) (v1.ImageIndex, error) {
	desc, root, err := indexDescriptor(dir)
	if err != nil {
		return nil, err
	}
	return root.ImageIndex(desc.Digest)
}

func indexDescriptor(dir string) (v1.Descriptor, v1.ImageIndex, error) {
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return v1.Descriptor{}, nil, fmt.Errorf("%s: %w", dir, err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	var found []v1.Descriptor
	for _, d := range m.Manifests {
		if d.MediaType == types.OCIImageIndex {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		return v1.Descriptor{}, nil, fmt.Errorf("%s: want one image index in index.json, found %d", dir, len(found))
	}
	return found[0], root, nil
}

// SignImage signs the image index of the OCI layout in dir as
// `cosign sign --key` would for repo@digest, attaches statements (SBOMs,
// provenance) as `cosign attest` would, and stores both in the layout as
// `cosign save` does. Signing again replaces what an earlier run stored.
func SignImage(dir, repo string, key *ecdsa.PrivateKey, statements []Statement) error {
	desc, root, err := indexDescriptor(dir)
	if err != nil {
		return err
	}
	idx, err := root.ImageIndex(desc.Digest)
	if err != nil {
		return err
	}
	var claim simpleSigning
	claim.Critical.Identity.DockerReference = repo
	claim.Critical.Image.DockerManifestDigest = desc.Digest.String()
	claim.Critical.Type = simpleSigningKind
	payload, err := json.Marshal(claim)
	if err != nil {
		return err
	}
	sig, err := Sign(key, payload)
	if err != nil {
		return err
	}
	sigs, err := payloadImage(mutate.Addendum{
		Layer:       static.NewLayer(payload, simpleSigningType),
		Annotations: map[string]string{signatureAnnotation: sig},
	})
	if err != nil {
		return err
	}
	var atts []mutate.Addendum
	for _, st := range statements {
		if !st.HasSubject(desc.Digest.Hex) {
			return fmt.Errorf("a %s statement does not name the image %s", st.PredicateType, desc.Digest)
		}
		env, err := SignStatement(key, st)
		if err != nil {
			return err
		}
		atts = append(atts, mutate.Addendum{
			Layer:       static.NewLayer(env, dsseType),
			Annotations: map[string]string{signatureAnnotation: "", "predicateType": st.PredicateType},
		})
	}
	attImg, err := payloadImage(atts...)
	if err != nil {
		return err
	}

	lp := layout.Path(dir)
	tag := "sha256-" + desc.Digest.Hex
	if err := lp.RemoveDescriptors(match.Annotation(kindAnnotation, kindSignatures)); err != nil {
		return err
	}
	if err := lp.RemoveDescriptors(match.Annotation(kindAnnotation, kindAttestations)); err != nil {
		return err
	}
	annotations := map[string]string{kindAnnotation: kindImageIndex}
	maps.Copy(annotations, desc.Annotations)
	if err := lp.ReplaceIndex(idx, match.Digests(desc.Digest), layout.WithAnnotations(annotations)); err != nil {
		return err
	}
	if err := lp.AppendImage(sigs, layout.WithAnnotations(map[string]string{
		kindAnnotation: kindSignatures, refNameAnnotation: tag + ".sig",
	})); err != nil {
		return err
	}
	if len(atts) > 0 {
		if err := lp.AppendImage(attImg, layout.WithAnnotations(map[string]string{
			kindAnnotation: kindAttestations, refNameAnnotation: tag + ".att",
		})); err != nil {
			return err
		}
	}
	return nil
}

// payloadImage is cosign's image of signed payloads: an empty OCI image
// with one layer per payload.
func payloadImage(layers ...mutate.Addendum) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return mutate.Append(img, layers...)
}

// VerifyImage checks the OCI layout in dir: every blob of its image index
// hashes to its digest, a signature by pub claims that index's digest, and
// every attestation is signed by pub and names the index. It returns the
// index digest and the attested statements.
func VerifyImage(dir string, pub *ecdsa.PublicKey) (v1.Hash, []Statement, error) {
	desc, root, err := indexDescriptor(dir)
	if err != nil {
		return v1.Hash{}, nil, err
	}
	idx, err := root.ImageIndex(desc.Digest)
	if err != nil {
		return v1.Hash{}, nil, err
	}
	if err := validate.Index(idx); err != nil {
		return v1.Hash{}, nil, fmt.Errorf("image %s: %w", desc.Digest, err)
	}
	sigs, err := payloads(root, kindSignatures)
	if err != nil {
		return v1.Hash{}, nil, err
	}
	signed := false
	var errs []error
	for _, p := range sigs {
		var claim simpleSigning
		err := Verify(pub, p.data, p.annotations[signatureAnnotation])
		if err == nil {
			err = json.Unmarshal(p.data, &claim)
		}
		if err == nil && (claim.Critical.Type != simpleSigningKind ||
			claim.Critical.Image.DockerManifestDigest != desc.Digest.String()) {
			err = fmt.Errorf("the signature claims %s, not the image %s", claim.Critical.Image.DockerManifestDigest, desc.Digest)
		}
		signed = signed || err == nil
		errs = append(errs, err)
	}
	if !signed {
		return v1.Hash{}, nil, fmt.Errorf("image %s: no valid signature: %w", desc.Digest, errors.Join(errs...))
	}
	atts, err := payloads(root, kindAttestations)
	if err != nil {
		return v1.Hash{}, nil, err
	}
	var statements []Statement
	for _, p := range atts {
		st, err := OpenEnvelope(pub, p.data)
		if err != nil {
			return v1.Hash{}, nil, fmt.Errorf("image %s: attestation %s: %w", desc.Digest, p.annotations["predicateType"], err)
		}
		if !st.HasSubject(desc.Digest.Hex) {
			return v1.Hash{}, nil, fmt.Errorf("image %s: a %s attestation names another image", desc.Digest, st.PredicateType)
		}
		statements = append(statements, st)
	}
	return desc.Digest, statements, nil
}

type payload struct {
	data        []byte
	annotations map[string]string
}

// payloads are the layers of the layout's image of this kind, if any.
func payloads(root v1.ImageIndex, kind string) ([]payload, error) {
	m, err := root.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []payload
	for _, d := range m.Manifests {
		if d.Annotations[kindAnnotation] != kind {
			continue
		}
		img, err := root.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		mf, err := img.Manifest()
		if err != nil {
			return nil, err
		}
		for _, l := range mf.Layers {
			layer, err := img.LayerByDigest(l.Digest)
			if err != nil {
				return nil, err
			}
			rc, err := layer.Compressed()
			if err != nil {
				return nil, err
			}
			data, err := io.ReadAll(rc)
			if err := errors.Join(err, rc.Close()); err != nil {
				return nil, err
			}
			if got, _, err := v1.SHA256(bytes.NewReader(data)); err != nil || got != l.Digest {
				return nil, fmt.Errorf("%s payload %s: content does not match its digest", kind, l.Digest)
			}
			out = append(out, payload{data: data, annotations: l.Annotations})
		}
	}
	return out, nil
}
