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
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/mapping"
)

// indexSecretRefs indexes KrosEndpoints by the "namespace/name" of every
// Secret they read, so a Secret event finds its referrers without a scan.
const indexSecretRefs = ".spec.secretRefs"

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
	meta := cluster.SecretMetadata()
	if err := s.metadata.Get(ctx, ref.Key, meta); err != nil {
		return nil, "", mapping.SecretReadFailed(ref, err)
	}
	s.mu.Lock()
	cached, ok := s.values[ref.Key]
	s.mu.Unlock()
	if ok && cached.resourceVersion == meta.ResourceVersion {
		return cached.data, cached.resourceVersion, nil
	}
	var secret corev1.Secret
	if err := s.direct.Get(ctx, ref.Key, &secret); err != nil {
		return nil, "", mapping.SecretReadFailed(ref, err)
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

// protectSecrets adds the in-use finalizer to the local Secrets ep reads
// (only the API key's with apiKeyOnly: an ObserveOnly resource never pushes
// its SIP login), so that deleting the namespace cannot remove them before
// ep is finalized.
func protectSecrets(
	ctx context.Context, c client.Client, ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName, apiKeyOnly bool,
) error {
	refs := mapping.SecretRefs(ep, defaultCredentials)
	if apiKeyOnly {
		refs = refs[:1]
	}
	for _, ref := range refs {
		if !ref.Local {
			continue
		}
		meta := cluster.SecretMetadata()
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
