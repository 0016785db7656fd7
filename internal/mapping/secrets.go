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

package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

// Which Secrets a KrosEndpoint reads and how their values become the API
// key, the organization and the SIP credentials: the controller resolves
// them before every reconcile, and the CLI the same way to predict one.

// SecretRef is one Secret a KrosEndpoint reads, and the field that names it.
type SecretRef struct {
	Key   types.NamespacedName
	Field string
	// Local is true for Secrets in the KrosEndpoint's namespace, which carry
	// the operator's in-use finalizer; the operator's default credentials
	// do not.
	Local bool
}

// DefaultCredentialsRef is the operator's default credentials Secret, key.
func DefaultCredentialsRef(key types.NamespacedName) SecretRef {
	return SecretRef{Key: key, Field: "the operator's default credentials"}
}

// SecretRefs lists the Secrets ep reads, the API key's first: its own, or
// shared, the shared credentials of its namespace.
func SecretRefs(ep *cockpitv1alpha1.KrosEndpoint, shared SecretRef) []SecretRef {
	local := func(name, field string) SecretRef {
		return SecretRef{Key: types.NamespacedName{Namespace: ep.Namespace, Name: name}, Field: field, Local: true}
	}
	refs := make([]SecretRef, 0, 2)
	if ep.Spec.APIKeySecretRef != nil {
		refs = append(refs, local(ep.Spec.APIKeySecretRef.Name, "spec.apiKeySecretRef"))
	} else {
		refs = append(refs, shared)
	}
	switch {
	case ep.Spec.Vogent != nil:
		refs = append(refs, local(ep.Spec.Vogent.CredentialsSecretRef.Name, "spec.vogent.credentialsSecretRef"))
	case ep.Spec.CustomSIP != nil && ep.Spec.CustomSIP.CredentialsSecretRef != nil:
		refs = append(refs, local(ep.Spec.CustomSIP.CredentialsSecretRef.Name, "spec.customSIP.credentialsSecretRef"))
	}
	return refs
}

// SecretNotFound stalls on a referenced Secret that does not exist.
func SecretNotFound(ref SecretRef) *Stalled {
	return &Stalled{Reason: cockpitv1alpha1.ReasonSecretNotFound,
		Message: fmt.Sprintf("Secret %q named by %s not found in namespace %q", ref.Key.Name, ref.Field, ref.Key.Namespace)}
}

// SecretReadFailed is what a failed read of the Secret ref names means: it
// stalls on SecretNotFound when the Secret does not exist; any other failure
// is the cluster's, and retried.
func SecretReadFailed(ref SecretRef, err error) error {
	if apierrors.IsNotFound(err) {
		return SecretNotFound(ref)
	}
	return fmt.Errorf("read Secret %s: %w", ref.Key, err)
}

// SecretValue reads one value of a Secret by the rule docs/credentials.md
// gives for all of them: one trailing newline (what `kubectl create secret
// --from-file` and `echo` leave) is dropped; a value that is not valid UTF-8
// or holds a control character is refused, never sent altered or retried as
// if the network had failed. The error is a *Stalled naming the Secret,
// the field that references it and the key, never the value.
func SecretValue(data map[string][]byte, key string, ref SecretRef, required bool) (string, error) {
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
		return "", &Stalled{Reason: cockpitv1alpha1.ReasonSecretKeyMissing,
			Message: fmt.Sprintf("Secret %q named by %s %s %q", ref.Key.Name, ref.Field, what, key)}
	case !utf8.ValidString(value):
		return "", invalidSecretValue(ref, key, "is not valid UTF-8")
	case strings.ContainsFunc(value, unicode.IsControl):
		return "", invalidSecretValue(ref, key, "contains a control character (other than one trailing newline)")
	}
	return value, nil
}

func invalidSecretValue(ref SecretRef, key, what string) error {
	return &Stalled{Reason: cockpitv1alpha1.ReasonSecretValueInvalid,
		Message: fmt.Sprintf("the value of key %q in Secret %q named by %s %s", key, ref.Key.Name, ref.Field, what)}
}

// Credentials reads the API key and organization of a credentials Secret.
func Credentials(data map[string][]byte, ref SecretRef) (krosai.Credentials, error) {
	var cred krosai.Credentials
	var err error
	if cred.APIKey, err = SecretValue(data, cockpitv1alpha1.SecretKeyAPIKey, ref, true); err != nil {
		return krosai.Credentials{}, err
	}
	if cred.OrganizationID, err = SecretValue(data, cockpitv1alpha1.SecretKeyOrganizationID, ref, false); err != nil {
		return krosai.Credentials{}, err
	}
	if cred.OrganizationID != "" && !IsUUID(cred.OrganizationID) {
		return krosai.Credentials{}, invalidSecretValue(ref, cockpitv1alpha1.SecretKeyOrganizationID, "is not a UUID")
	}
	quota, err := SecretValue(data, cockpitv1alpha1.SecretKeyDailyQuota, ref, false)
	if err != nil {
		return krosai.Credentials{}, err
	}
	if quota != "" {
		if cred.DailyQuota, err = strconv.Atoi(quota); err != nil || cred.DailyQuota < 1 {
			return krosai.Credentials{}, invalidSecretValue(ref, cockpitv1alpha1.SecretKeyDailyQuota, "is not a positive whole number")
		}
	}
	return cred, nil
}

// Resolved is what a KrosEndpoint's Secrets resolve to, as plain values: the
// KrosAI client never sees Kubernetes.
type Resolved struct {
	Credentials krosai.Credentials
	// SIP is set for endpoints with SIP credentials.
	SIP SIPLogin
	// Versions are the resourceVersions of the local Secrets read, sorted
	// by name.
	Versions []cockpitv1alpha1.SecretResourceVersion
	// PinnedOrganization is set when Credentials.OrganizationID came from
	// status (the organization the endpoint lives in), not from the
	// credentials.
	PinnedOrganization bool
	// APIKeyRef is the Secret the API key was read from, and
	// KeyOrganizationID the organization that Secret names (empty: the
	// key's default), whatever spec.organizationID says.
	APIKeyRef         SecretRef
	KeyOrganizationID string
}

// ReadSecret returns a Secret's data and resourceVersion, or SecretNotFound.
type ReadSecret func(SecretRef) (data map[string][]byte, resourceVersion string, err error)

// Resolve reads the API key and, unless apiKeyOnly, the SIP credentials ep
// needs, and keeps the organization the endpoint lives in.
func Resolve(ep *cockpitv1alpha1.KrosEndpoint, shared SecretRef, apiKeyOnly bool, read ReadSecret) (Resolved, error) {
	refs := SecretRefs(ep, shared)
	res := Resolved{APIKeyRef: refs[0]}
	if apiKeyOnly {
		refs = refs[:1]
	}
	for i, ref := range refs {
		data, version, err := read(ref)
		if err != nil {
			return Resolved{}, err
		}
		if ref.Local {
			res.Versions = append(res.Versions, cockpitv1alpha1.SecretResourceVersion{Name: ref.Key.Name, ResourceVersion: version})
		}
		if i == 0 {
			if res.Credentials, err = Credentials(data, ref); err != nil {
				return Resolved{}, err
			}
			res.KeyOrganizationID = res.Credentials.OrganizationID
			continue
		}
		if res.SIP.Username, err = SecretValue(data, cockpitv1alpha1.SecretKeyUsername, ref, true); err != nil {
			return Resolved{}, err
		}
		if res.SIP.Password, err = SecretValue(data, cockpitv1alpha1.SecretKeyPassword, ref, true); err != nil {
			return Resolved{}, err
		}
		res.Credentials.Redact = append(res.Credentials.Redact, res.SIP.Password)
	}
	if ep.Spec.OrganizationID != "" {
		res.Credentials.OrganizationID = ep.Spec.OrganizationID
	}
	if err := res.keepOrganization(ep); err != nil {
		return Resolved{}, err
	}
	slices.SortFunc(res.Versions, func(a, b cockpitv1alpha1.SecretResourceVersion) int {
		return strings.Compare(a.Name, b.Name)
	})
	return res, nil
}

// keepOrganization sends every call about an existing endpoint to the
// organization it lives in (status.organizationID). Credentials that name
// another one are refused: following them would create a second endpoint
// there and leave the first behind. Credentials that name none are pinned
// to it, so that a key that now belongs to another organization is refused
// by the API (403) instead of answering 404 from an organization where the
// endpoint never was.
func (r *Resolved) keepOrganization(ep *cockpitv1alpha1.KrosEndpoint) error {
	lives, key := ep.Status.OrganizationID, r.APIKeyRef
	switch org := r.Credentials.OrganizationID; {
	case lives == "":
	case org == "":
		r.Credentials.OrganizationID, r.PinnedOrganization = lives, true
	case !strings.EqualFold(org, lives):
		from := "spec.organizationID"
		if ep.Spec.OrganizationID == "" {
			from = fmt.Sprintf("the %s of Secret %q named by %s", cockpitv1alpha1.SecretKeyOrganizationID, key.Key.Name, key.Field)
		}
		return &Stalled{Reason: cockpitv1alpha1.ReasonOrganizationChanged, Message: fmt.Sprintf(
			"endpoint %s lives in KrosAI organization %s, but %s now names organization %s; an endpoint does not "+
				"move between organizations, and no second one is created. Restore the organization, or move the "+
				"endpoint: set deletionPolicy: Orphan, delete this resource, and create one for the new organization "+
				"(or adopt an endpoint there by its id)", ep.Status.ID, lives, from, org)}
	}
	return nil
}

// SIPLoginSecretChanged reports whether the Secret holding ep's SIP login has
// changed since the operator last pushed it, by the resourceVersions status
// recorded: the operator cannot read the login back, so it sends it again
// then. (The controller also remembers, in memory, the login its own writes
// carried: decide.Memory.)
func SIPLoginSecretChanged(ep *cockpitv1alpha1.KrosEndpoint, versions []cockpitv1alpha1.SecretResourceVersion) bool {
	var name string
	switch {
	case ep.Spec.Vogent != nil:
		name = ep.Spec.Vogent.CredentialsSecretRef.Name
	case ep.Spec.CustomSIP != nil && ep.Spec.CustomSIP.CredentialsSecretRef != nil:
		name = ep.Spec.CustomSIP.CredentialsSecretRef.Name
	default:
		return false
	}
	return resourceVersionOf(ep.Status.SecretResourceVersions, name) != resourceVersionOf(versions, name)
}

func resourceVersionOf(versions []cockpitv1alpha1.SecretResourceVersion, name string) string {
	for _, v := range versions {
		if v.Name == name {
			return v.ResourceVersion
		}
	}
	return ""
}

const hexDigits = "0123456789abcdefABCDEF"

// IsUUID reports the 8-4-4-4-12 hexadecimal form the API's organization
// ids take.
func IsUUID(s string) bool {
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
