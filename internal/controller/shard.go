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
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// A shard is one of several managers in a cluster, each caching, and so
// reconciling, only the KrosEndpoints its label selector selects
// (--watch-label-selector; docs/reliability.md#shards). Its cache is then a
// partial view of the cluster's KrosEndpoints. Two questions are about every
// KrosEndpoint, whichever shard reconciles it, and a shard asks the API
// server for them:
//   - the claims: which remote endpoint each resource claims, read to adopt,
//     to recover an interrupted create, or to delete an endpoint never
//     adopted; a partial view would let two shards take one endpoint;
//   - whether a Secret with the in-use finalizer is still referenced; a
//     partial view would release a Secret another shard's resource reads.

// sharded reports whether selector narrows the KrosEndpoints cached.
func sharded(selector labels.Selector) bool {
	return selector != nil && !selector.Empty()
}

// ShardCacheOptions are CacheOptions for one shard: of the KrosEndpoints,
// only those selector selects are cached. Secrets are cached whatever their
// labels: a shard's resources read Secrets no one labels for it. A nil or
// empty selector gives CacheOptions.
func ShardCacheOptions(operatorNamespace string, watchNamespaces []string, selector labels.Selector) cache.Options {
	opts := CacheOptions(operatorNamespace, watchNamespaces)
	if !sharded(selector) {
		return opts
	}
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	opts.ByObject[&cockpitv1alpha1.KrosEndpoint{}] = cache.ByObject{Label: selector}
	return opts
}

// claimsReader reads every shard's KrosEndpoints: the cache when it holds
// them all, else the API server. An uncached list of every KrosEndpoint
// costs the API server a full list, but claims are read only to adopt,
// recover an interrupted create or delete an endpoint never adopted: rarely.
// Status (the id) is needed, so it is not a metadata list.
func (r *KrosEndpointReconciler) claimsReader() client.Reader {
	if r.everyShard != nil {
		return r.everyShard
	}
	return r.Client
}

// referencedInAnyShard reports whether a KrosEndpoint of any shard in the
// Secret's namespace references it, read from the API server: the field
// index exists in the cache only. It is asked only when this shard's own
// resources reference the Secret no more.
func (r *SecretReleaseReconciler) referencedInAnyShard(ctx context.Context, secret types.NamespacedName) (bool, error) {
	var all cockpitv1alpha1.KrosEndpointList
	if err := r.everyShard.List(ctx, &all, client.InNamespace(secret.Namespace)); err != nil {
		return false, err
	}
	for i := range all.Items {
		if slices.Contains(secretRefIndexValues(&all.Items[i], r.defaultCredentials), secret.String()) {
			return true, nil
		}
	}
	return false, nil
}
