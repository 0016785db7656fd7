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

package controller

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// indexSecretRefs indexes KrosEndpoints by the "namespace/name" of every
// Secret they read, so a Secret event finds its referrers without a scan.
const indexSecretRefs = ".spec.secretRefs"

// resolved is what the reconciler read from Secrets (mapping.Resolve).
type resolved struct {
	mapping.Resolved
}

// explain turns the API's refusal of a pinned organization into what it
// means: the credentials no longer reach the organization the endpoint
// lives in.
func (r *resolved) explain(err error) error {
	if err == nil || !r.PinnedOrganization || krosai.KindOf(err) != krosai.KindForbidden {
		return err
	}
	return &mapping.Stalled{Reason: cockpitv1alpha1.ReasonOrganizationChanged, Message: fmt.Sprintf(
		"the API key in Secret %q named by %s cannot reach KrosAI organization %s, where the endpoint lives (%v); "+
			"a key of another organization does not move an endpoint. Restore a key of organization %s, or move the "+
			"endpoint: set deletionPolicy: Orphan, delete this resource, and create one for the new organization",
		r.APIKeyRef.Key.Name, r.APIKeyRef.Field, r.Credentials.OrganizationID, err, r.Credentials.OrganizationID)}
}

// credentialsDigest identifies the SIP credentials, in memory only.
func (r *resolved) credentialsDigest() [sha256.Size]byte {
	return sha256.Sum256([]byte(r.SIP.Username + "\x00" + r.SIP.Password))
}

// secretReader reads the few Secrets KrosEndpoints reference. The manager
// caches only Secret metadata (caching every Secret's data would grow the
// operator's memory with the cluster's Secrets); values are read from the API
// server and kept here only while their resourceVersion is current.
type secretReader struct {
	metadata client.Reader // cached metadata informer
	direct   client.Reader // uncached

	mu     sync.Mutex
	values map[types.NamespacedName]cachedSecret
}

type cachedSecret struct {
	resourceVersion string
	data            map[string][]byte
}

func newSecretReader(metadata, direct client.Reader) *secretReader {
	return &secretReader{metadata: metadata, direct: direct, values: map[types.NamespacedName]cachedSecret{}}
}

// read returns the Secret's data and resourceVersion, or a *mapping.Stalled when
// it does not exist.
func (s *secretReader) read(ctx context.Context, ref mapping.SecretRef) (map[string][]byte, string, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := s.metadata.Get(ctx, ref.Key, meta); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", mapping.SecretNotFound(ref)
		}
		return nil, "", err
	}
	s.mu.Lock()
	cached, ok := s.values[ref.Key]
	s.mu.Unlock()
	if ok && cached.resourceVersion == meta.ResourceVersion {
		return cached.data, cached.resourceVersion, nil
	}
	var secret corev1.Secret
	if err := s.direct.Get(ctx, ref.Key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", mapping.SecretNotFound(ref)
		}
		return nil, "", err
	}
	s.mu.Lock()
	s.values[ref.Key] = cachedSecret{resourceVersion: secret.ResourceVersion, data: secret.Data}
	s.mu.Unlock()
	return secret.Data, secret.ResourceVersion, nil
}

// forget drops a Secret's values, once nothing references it any more.
func (s *secretReader) forget(key types.NamespacedName) {
	s.mu.Lock()
	delete(s.values, key)
	s.mu.Unlock()
}

// resolve reads the API key and, unless apiKeyOnly, the SIP credentials ep needs.
func (s *secretReader) resolve(
	ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName, apiKeyOnly bool,
) (*resolved, error) {
	res, err := mapping.Resolve(ep, defaultCredentials, apiKeyOnly, func(ref mapping.SecretRef) (map[string][]byte, string, error) {
		return s.read(ctx, ref)
	})
	if err != nil {
		return nil, err
	}
	return &resolved{res}, nil
}

// protectSecrets adds the in-use finalizer to the local Secrets ep reads, so
// that deleting the namespace cannot remove them before ep is finalized.
func protectSecrets(ctx context.Context, c client.Client, ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName) error {
	for _, ref := range mapping.SecretRefs(ep, defaultCredentials) {
		if !ref.Local {
			continue
		}
		meta := &metav1.PartialObjectMetadata{}
		meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		if err := c.Get(ctx, ref.Key, meta); err != nil {
			return client.IgnoreNotFound(err)
		}
		if !meta.DeletionTimestamp.IsZero() || controllerutil.ContainsFinalizer(meta, cockpitv1alpha1.SecretInUseFinalizer) {
			continue
		}
		// A strategic merge patch adds to the list the server holds: the
		// cached copy may miss a finalizer another controller just added.
		patch := client.StrategicMergeFrom(meta.DeepCopy())
		controllerutil.AddFinalizer(meta, cockpitv1alpha1.SecretInUseFinalizer)
		if err := c.Patch(ctx, meta, patch); err != nil {
			return fmt.Errorf("protect Secret %s: %w", ref.Key, err)
		}
	}
	return nil
}

func secretRefIndexValues(ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName) []string {
	refs := mapping.SecretRefs(ep, defaultCredentials)
	values := make([]string, 0, len(refs))
	for _, ref := range refs {
		values = append(values, ref.Key.String())
	}
	return values
}
