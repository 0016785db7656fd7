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
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/mapping"
)

// writeSigningSecret keeps the webhook's signing secret in a Secret owned by
// the KrosEndpoint, so applications can mount it to verify
// X-Webhook-Signature. It writes only when the value changed.
func (r *KrosEndpointReconciler) writeSigningSecret(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, signingSecret string) error {
	if signingSecret == "" {
		// The API did not return it this time; keep what was written before.
		return nil
	}
	key := types.NamespacedName{Namespace: ep.Namespace, Name: mapping.SigningSecretName(ep)}
	var existing corev1.Secret
	err := r.APIReader.Get(ctx, key, &existing)
	switch {
	case apierrors.IsNotFound(err):
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "kros-operator"}},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{cockpitv1alpha1.SecretKeySigningSecret: []byte(signingSecret)},
		}
		if err := controllerutil.SetControllerReference(ep, secret, r.Scheme()); err != nil {
			return err
		}
		if err := r.Create(ctx, secret); err != nil {
			return fmt.Errorf("create webhook signing Secret %s: %w", key.Name, err)
		}
	case err != nil:
		return err
	case !metav1.IsControlledBy(&existing, ep):
		return mapping.SigningSecretConflict(key.Name)
	case !bytes.Equal(existing.Data[cockpitv1alpha1.SecretKeySigningSecret], []byte(signingSecret)):
		patch := client.MergeFrom(existing.DeepCopy())
		existing.Data = map[string][]byte{cockpitv1alpha1.SecretKeySigningSecret: []byte(signingSecret)}
		if err := r.Patch(ctx, &existing, patch); err != nil {
			return fmt.Errorf("update webhook signing Secret %s: %w", key.Name, err)
		}
	}
	ep.Status.SigningSecretName = key.Name
	return nil
}
