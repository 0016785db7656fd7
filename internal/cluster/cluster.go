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

// Package cluster holds the reads of the cluster that the operator and the
// kubectl plugin make alike, so that both see the same things: the scheme,
// the cluster-wide list of KrosEndpoints that says who claims which
// endpoint, what the KrosGrants give a namespace, and who holds a webhook's
// signing Secret name.
package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/decide"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/internal/tenancy"
)

// NewScheme knows the built-in kinds and KrosEndpoint.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	// Both only fail on a type registered twice under different names,
	// which a new scheme cannot hold.
	_ = clientgoscheme.AddToScheme(s)
	_ = cockpitv1alpha1.AddToScheme(s)
	return s
}

// KrosEndpoints lists the KrosEndpoints of every namespace: an endpoint is
// claimed cluster-wide, whatever namespace claims it.
func KrosEndpoints(ctx context.Context, r client.Reader, opts ...client.ListOption) ([]cockpitv1alpha1.KrosEndpoint, error) {
	var list cockpitv1alpha1.KrosEndpointList
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("list KrosEndpoints in all namespaces: %w", err)
	}
	return list.Items, nil
}

// ReadSigningSecret reads whether the name of ep's webhook signing Secret
// is taken by a Secret ep does not control. It reads the Secret's metadata
// only: never its value.
func ReadSigningSecret(ctx context.Context, r client.Reader, ep *cockpitv1alpha1.KrosEndpoint) (decide.SigningSecret, error) {
	key := types.NamespacedName{Namespace: ep.Namespace, Name: mapping.SigningSecretName(ep)}
	meta := SecretMetadata()
	switch err := r.Get(ctx, key, meta); {
	case apierrors.IsNotFound(err):
		return decide.SigningSecret{Read: true}, nil
	case err != nil:
		return decide.SigningSecret{}, fmt.Errorf("read Secret %s: %w", key, err)
	}
	return decide.SigningSecret{Read: true, HeldByAnother: !metav1.IsControlledBy(meta, ep)}, nil
}

// ReadAccess reads what the KrosGrants give namespace: every grant, and the
// namespace's labels. It runs on every reconcile, from the cache, and only
// reads what it lists: the grants are not copied.
func ReadAccess(ctx context.Context, r client.Reader, namespace string, defaultCredentials types.NamespacedName) (decide.Access, error) {
	grants, err := KrosGrants(ctx, r, client.UnsafeDisableDeepCopy)
	if err != nil {
		return decide.Access{}, err
	}
	return AccessUnder(ctx, r, grants, namespace, defaultCredentials)
}

// KrosGrants lists the cluster's KrosGrants.
func KrosGrants(ctx context.Context, r client.Reader, opts ...client.ListOption) ([]cockpitv1alpha1.KrosGrant, error) {
	var grants cockpitv1alpha1.KrosGrantList
	if err := r.List(ctx, &grants, opts...); err != nil {
		return nil, fmt.Errorf("list KrosGrants: %w", err)
	}
	return grants.Items, nil
}

// AccessUnder reads the labels of namespace (its metadata only) and
// resolves what grants give it. A namespace that is gone has no labels but
// its name.
func AccessUnder(ctx context.Context, r client.Reader, grants []cockpitv1alpha1.KrosGrant, namespace string,
	defaultCredentials types.NamespacedName,
) (decide.Access, error) {
	meta := NamespaceMetadata()
	if err := r.Get(ctx, types.NamespacedName{Name: namespace}, meta); client.IgnoreNotFound(err) != nil {
		return decide.Access{}, fmt.Errorf("read namespace %s: %w", namespace, err)
	}
	return decide.Access{Read: true, Access: tenancy.Resolve(namespace, meta.Labels, grants, defaultCredentials)}, nil
}

// NamespaceMetadata is an empty Namespace's metadata, to read into.
func NamespaceMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return m
}

// SecretMetadata is an empty Secret's metadata, to read into.
func SecretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}
