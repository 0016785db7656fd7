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
	"slices"
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

// moved follows our own metadata write from resourceVersion from to to: the
// data is the same, and need not be read again.
func (s *secretReader) moved(key types.NamespacedName, from, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cached, ok := s.values[key]; ok && cached.resourceVersion == from {
		s.values[key] = cachedSecret{resourceVersion: to, data: cached.data}
	}
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
//
// read are the resourceVersions the operator read of them. Each patch is
// locked on the version read, so that the version it answers (the
// finalizer moves it) holds the very data the operator read; the versions
// returned carry it in place of the one read. Status then records the
// version after the operator's own write, and a restarted operator does not
// take its own finalizer for a rotated SIP login. A Secret with no version
// read is patched without a lock.
func protectSecrets(
	ctx context.Context, c client.Client, ep *cockpitv1alpha1.KrosEndpoint, apiKeyOnly bool,
	read []cockpitv1alpha1.SecretResourceVersion,
) ([]cockpitv1alpha1.SecretResourceVersion, error) {
	versions := slices.Clone(read)
	// Shared credentials, in the operator's namespace, carry no finalizer of
	// ours: the zero ref stands for them.
	refs := mapping.SecretRefs(ep, mapping.SecretRef{})
	if apiKeyOnly {
		refs = refs[:1]
	}
	for _, ref := range refs {
		if !ref.Local {
			continue
		}
		meta := cluster.SecretMetadata()
		if err := c.Get(ctx, ref.Key, meta); err != nil {
			return versions, client.IgnoreNotFound(err)
		}
		if !meta.DeletionTimestamp.IsZero() || controllerutil.ContainsFinalizer(meta, cockpitv1alpha1.SecretInUseFinalizer) {
			continue
		}
		// A strategic merge patch adds to the list the server holds: the
		// cached copy may miss a finalizer another controller just added.
		var opts []client.MergeFromOption
		i := slices.IndexFunc(versions, func(v cockpitv1alpha1.SecretResourceVersion) bool { return v.Name == ref.Key.Name })
		if i >= 0 {
			meta.ResourceVersion = versions[i].ResourceVersion
			opts = append(opts, client.MergeFromWithOptimisticLock{})
		}
		patch := client.StrategicMergeFrom(meta.DeepCopy(), opts...)
		controllerutil.AddFinalizer(meta, cockpitv1alpha1.SecretInUseFinalizer)
		if err := c.Patch(ctx, meta, patch); err != nil {
			return versions, fmt.Errorf("protect Secret %s: %w", ref.Key, err)
		}
		if i >= 0 {
			versions[i].ResourceVersion = meta.ResourceVersion
		}
	}
	return versions, nil
}

func secretRefIndexValues(ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName) []string {
	refs := mapping.SecretRefs(ep, mapping.DefaultCredentialsRef(defaultCredentials))
	values := make([]string, 0, len(refs))
	for _, ref := range refs {
		values = append(values, ref.Key.String())
	}
	return values
}
