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
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

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

// secretRef is one Secret a KrosEndpoint reads, and the field that names it.
type secretRef struct {
	key   types.NamespacedName
	field string
	// local is true for Secrets in the KrosEndpoint's namespace, which carry
	// our in-use finalizer; the operator's default credentials do not.
	local bool
}

// secretRefs lists the Secrets ep reads, the API key's first.
func secretRefs(ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName) []secretRef {
	local := func(name, field string) secretRef {
		return secretRef{key: types.NamespacedName{Namespace: ep.Namespace, Name: name}, field: field, local: true}
	}
	refs := make([]secretRef, 0, 2)
	if ep.Spec.APIKeySecretRef != nil {
		refs = append(refs, local(ep.Spec.APIKeySecretRef.Name, "spec.apiKeySecretRef"))
	} else {
		refs = append(refs, secretRef{key: defaultCredentials, field: "the operator's default credentials"})
	}
	switch {
	case ep.Spec.Vogent != nil:
		refs = append(refs, local(ep.Spec.Vogent.CredentialsSecretRef.Name, "spec.vogent.credentialsSecretRef"))
	case ep.Spec.CustomSIP != nil && ep.Spec.CustomSIP.CredentialsSecretRef != nil:
		refs = append(refs, local(ep.Spec.CustomSIP.CredentialsSecretRef.Name, "spec.customSIP.credentialsSecretRef"))
	}
	return refs
}

// resolved holds what the reconciler read from Secrets, as plain values: the
// KrosAI client never sees Kubernetes.
type resolved struct {
	credentials krosai.Credentials
	// sip is set for endpoints with SIP credentials.
	sip mapping.SIPCredentials
	// versions are the resourceVersions of the local Secrets read.
	versions []cockpitv1alpha1.SecretResourceVersion
	// pinnedOrganization is set when credentials.OrganizationID came from
	// status (the organization the endpoint lives in), not from the
	// credentials, whose Secret apiKeyField names.
	pinnedOrganization bool
	apiKeyField        secretRef
}

// keepOrganization sends every call about an existing endpoint to the
// organization it lives in (status.organizationID). Credentials that name
// another one are refused: following them would create a second endpoint
// there and leave the first behind. Credentials that name none are pinned
// to it, so that a key that now belongs to another organization is refused
// by the API (403) instead of answering 404 from an organization where the
// endpoint never was.
func (r *resolved) keepOrganization(ep *cockpitv1alpha1.KrosEndpoint, key secretRef) error {
	lives := ep.Status.OrganizationID
	switch org := r.credentials.OrganizationID; {
	case lives == "":
	case org == "":
		r.credentials.OrganizationID, r.pinnedOrganization, r.apiKeyField = lives, true, key
	case !strings.EqualFold(org, lives):
		from := "spec.organizationID"
		if ep.Spec.OrganizationID == "" {
			from = fmt.Sprintf("the %s of Secret %q named by %s", cockpitv1alpha1.SecretKeyOrganizationID, key.key.Name, key.field)
		}
		return &stalledError{reason: cockpitv1alpha1.ReasonOrganizationChanged, message: fmt.Sprintf(
			"endpoint %s lives in KrosAI organization %s, but %s now names organization %s; an endpoint does not "+
				"move between organizations, and no second one is created. Restore the organization, or move the "+
				"endpoint: set deletionPolicy: Orphan, delete this resource, and create one for the new organization "+
				"(or adopt an endpoint there by its id)", ep.Status.ID, lives, from, org)}
	}
	return nil
}

// explain turns the API's refusal of a pinned organization into what it
// means: the credentials no longer reach the organization the endpoint
// lives in.
func (r *resolved) explain(err error) error {
	if err == nil || !r.pinnedOrganization || krosai.KindOf(err) != krosai.KindForbidden {
		return err
	}
	return &stalledError{reason: cockpitv1alpha1.ReasonOrganizationChanged, message: fmt.Sprintf(
		"the API key in Secret %q named by %s cannot reach KrosAI organization %s, where the endpoint lives (%v); "+
			"a key of another organization does not move an endpoint. Restore a key of organization %s, or move the "+
			"endpoint: set deletionPolicy: Orphan, delete this resource, and create one for the new organization",
		r.apiKeyField.key.Name, r.apiKeyField.field, r.credentials.OrganizationID, err, r.credentials.OrganizationID)}
}

// credentialsDigest identifies the SIP credentials, in memory only.
func (r *resolved) credentialsDigest() [sha256.Size]byte {
	return sha256.Sum256([]byte(r.sip.Username + "\x00" + r.sip.Password))
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

// read returns the Secret's data and resourceVersion, or a stalledError when
// it does not exist.
func (s *secretReader) read(ctx context.Context, ref secretRef) (map[string][]byte, string, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := s.metadata.Get(ctx, ref.key, meta); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", &stalledError{reason: cockpitv1alpha1.ReasonSecretNotFound,
				message: fmt.Sprintf("Secret %q named by %s not found in namespace %q", ref.key.Name, ref.field, ref.key.Namespace)}
		}
		return nil, "", err
	}
	s.mu.Lock()
	cached, ok := s.values[ref.key]
	s.mu.Unlock()
	if ok && cached.resourceVersion == meta.ResourceVersion {
		return cached.data, cached.resourceVersion, nil
	}
	var secret corev1.Secret
	if err := s.direct.Get(ctx, ref.key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", &stalledError{reason: cockpitv1alpha1.ReasonSecretNotFound,
				message: fmt.Sprintf("Secret %q named by %s not found in namespace %q", ref.key.Name, ref.field, ref.key.Namespace)}
		}
		return nil, "", err
	}
	s.mu.Lock()
	s.values[ref.key] = cachedSecret{resourceVersion: secret.ResourceVersion, data: secret.Data}
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
	res := &resolved{}
	refs := secretRefs(ep, defaultCredentials)
	if apiKeyOnly {
		refs = refs[:1]
	}
	for i, ref := range refs {
		data, version, err := s.read(ctx, ref)
		if err != nil {
			return nil, err
		}
		if ref.local {
			res.versions = append(res.versions, cockpitv1alpha1.SecretResourceVersion{Name: ref.key.Name, ResourceVersion: version})
		}
		if i == 0 {
			if res.credentials.APIKey, err = secretValue(data, cockpitv1alpha1.SecretKeyAPIKey, ref, true); err != nil {
				return nil, err
			}
			if res.credentials.OrganizationID, err = secretValue(data, cockpitv1alpha1.SecretKeyOrganizationID, ref, false); err != nil {
				return nil, err
			}
			if org := res.credentials.OrganizationID; org != "" && !isUUID(org) {
				return nil, invalidSecretValue(ref, cockpitv1alpha1.SecretKeyOrganizationID, "is not a UUID")
			}
			continue
		}
		if res.sip.Username, err = secretValue(data, cockpitv1alpha1.SecretKeyUsername, ref, true); err != nil {
			return nil, err
		}
		if res.sip.Password, err = secretValue(data, cockpitv1alpha1.SecretKeyPassword, ref, true); err != nil {
			return nil, err
		}
		res.credentials.Redact = append(res.credentials.Redact, res.sip.Password)
	}
	if ep.Spec.OrganizationID != "" {
		res.credentials.OrganizationID = ep.Spec.OrganizationID
	}
	if err := res.keepOrganization(ep, refs[0]); err != nil {
		return nil, err
	}
	slices.SortFunc(res.versions, func(a, b cockpitv1alpha1.SecretResourceVersion) int {
		return strings.Compare(a.Name, b.Name)
	})
	return res, nil
}

// secretValue reads one value of a Secret by the rule docs/credentials.md
// gives for all of them: one trailing newline (what `kubectl create secret
// --from-file` and `echo` leave) is dropped; a value that is not valid UTF-8
// or holds a control character is refused, never sent altered or retried as
// if the network had failed. The error names the Secret and key, never the
// value.
func secretValue(data map[string][]byte, key string, ref secretRef, required bool) (string, error) {
	raw, ok := data[key]
	value := string(raw)
	if line, cut := strings.CutSuffix(value, "\n"); cut {
		value = strings.TrimSuffix(line, "\r")
	}
	switch {
	case value == "" && !required:
		return "", nil
	case value == "":
		what := "has no key"
		if ok {
			what = "has an empty value for key"
		}
		return "", &stalledError{reason: cockpitv1alpha1.ReasonSecretKeyMissing,
			message: fmt.Sprintf("Secret %q named by %s %s %q", ref.key.Name, ref.field, what, key)}
	case !utf8.ValidString(value):
		return "", invalidSecretValue(ref, key, "is not valid UTF-8")
	case strings.ContainsFunc(value, unicode.IsControl):
		return "", invalidSecretValue(ref, key, "contains a control character (other than one trailing newline)")
	}
	return value, nil
}

func invalidSecretValue(ref secretRef, key, what string) error {
	return &stalledError{reason: cockpitv1alpha1.ReasonSecretValueInvalid,
		message: fmt.Sprintf("the value of key %q in Secret %q named by %s %s", key, ref.key.Name, ref.field, what)}
}

const hexDigits = "0123456789abcdefABCDEF"

// isUUID reports the 8-4-4-4-12 hexadecimal form the API's organization
// ids take.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune(hexDigits, c):
			return false
		}
	}
	return true
}

// protectSecrets adds the in-use finalizer to the local Secrets ep reads, so
// that deleting the namespace cannot remove them before ep is finalized.
func protectSecrets(ctx context.Context, c client.Client, ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName) error {
	for _, ref := range secretRefs(ep, defaultCredentials) {
		if !ref.local {
			continue
		}
		meta := &metav1.PartialObjectMetadata{}
		meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		if err := c.Get(ctx, ref.key, meta); err != nil {
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
			return fmt.Errorf("protect Secret %s: %w", ref.key, err)
		}
	}
	return nil
}

func secretRefIndexValues(ep *cockpitv1alpha1.KrosEndpoint, defaultCredentials types.NamespacedName) []string {
	refs := secretRefs(ep, defaultCredentials)
	values := make([]string, 0, len(refs))
	for _, ref := range refs {
		values = append(values, ref.key.String())
	}
	return values
}
