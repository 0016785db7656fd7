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

package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/internal/plan"
)

// envAPIKey names the environment variable that replaces the credentials
// Secret.
const envAPIKey = "KROSAI_API_KEY"

// apiCredentials are the API key and organization a command uses, and
// where the key came from, for the error that says it was refused.
type apiCredentials struct {
	krosai.Credentials
	source string
}

// overrideCredentials are the credentials of --api-key-file or
// $KROSAI_API_KEY with --organization, or nil when neither is set and
// Secrets say.
func (g *globals) overrideCredentials() (*apiCredentials, error) {
	var raw, source string
	switch env := g.opts.Getenv(envAPIKey); {
	case g.apiKeyFile != "":
		b, err := os.ReadFile(g.apiKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--api-key-file: %w", err)
		}
		raw, source = string(b), "--api-key-file "+g.apiKeyFile
	case env != "":
		raw, source = env, "$"+envAPIKey
	default:
		return nil, nil
	}
	key, err := keyValue(raw, source)
	if err != nil {
		return nil, err
	}
	org, err := g.organizationFlag()
	if err != nil {
		return nil, err
	}
	g.redact = append(g.redact, key)
	return &apiCredentials{Credentials: krosai.Credentials{APIKey: key, OrganizationID: org}, source: source}, nil
}

// credentials are the override's, else the --credentials-secret Secret's
// (read by the operator's rule), with --organization over its
// organizationID.
func (g *globals) credentials(ctx context.Context) (apiCredentials, error) {
	if o, err := g.overrideCredentials(); o != nil || err != nil {
		if err != nil {
			return apiCredentials{}, err
		}
		return *o, nil
	}
	key, err := g.defaultCredentials()
	if err != nil {
		return apiCredentials{}, err
	}
	org, err := g.organizationFlag()
	if err != nil {
		return apiCredentials{}, err
	}
	r, err := g.clusterReader()
	if err != nil {
		return apiCredentials{}, err
	}
	source := "Secret " + key.String()
	cred, err := plan.ReadCredentials(ctx, r, key)
	if err != nil {
		if s, ok := errors.AsType[*mapping.Stalled](err); ok && s.Reason == cockpitv1alpha1.ReasonSecretNotFound {
			return apiCredentials{}, fmt.Errorf("%s not found: create it, name another with --credentials-secret, "+
				"or set $%s or --api-key-file", source, envAPIKey)
		}
		if apierrors.IsForbidden(err) {
			return apiCredentials{}, fmt.Errorf("read the API key: %w; set $%s or --api-key-file instead", err, envAPIKey)
		}
		return apiCredentials{}, fmt.Errorf("read the API key: %w", err)
	}
	g.redact = append(g.redact, cred.APIKey)
	if org != "" {
		cred.OrganizationID = org
	}
	return apiCredentials{Credentials: cred, source: source}, nil
}

// organizationFlag is --organization, checked.
func (g *globals) organizationFlag() (string, error) {
	if g.organization != "" && !mapping.IsUUID(g.organization) {
		return "", fmt.Errorf("--organization %q is not a UUID", sanitize(g.organization, true))
	}
	return g.organization, nil
}

// keyValue reads an API key from the environment or a file by the rule
// for Secret values (docs/credentials.md): one trailing newline dropped;
// empty, invalid UTF-8 or a control character refused. The error names
// source, never the value.
func keyValue(raw, source string) (string, error) {
	v, err := mapping.SecretValue(map[string][]byte{"key": []byte(raw)}, "key", mapping.SecretRef{Field: source}, true)
	if s, ok := errors.AsType[*mapping.Stalled](err); ok {
		if s.Reason == cockpitv1alpha1.ReasonSecretKeyMissing {
			return "", fmt.Errorf("the API key from %s is empty", source)
		}
		return "", fmt.Errorf("the API key from %s is not valid UTF-8 or holds a control character "+
			"(other than one trailing newline)", source)
	}
	return v, err
}

// explain turns an API error into what the user must know: a refused key
// names where the key came from, never the key.
func (c apiCredentials) explain(err error) error {
	e, ok := errors.AsType[*krosai.Error](err)
	if !ok || (e.Kind != krosai.KindUnauthorized && e.Kind != krosai.KindForbidden) {
		return fmt.Errorf("list the organization's endpoints: %w", err)
	}
	org := ""
	if c.OrganizationID != "" {
		org = " for organization " + c.OrganizationID
	}
	status := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Kind == krosai.KindForbidden && e.Code != "" {
		status += ", " + e.Code
	}
	return fmt.Errorf("KrosAI refused the API key from %s%s (%s)", c.source, org, status)
}
