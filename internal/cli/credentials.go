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
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
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
	key, problem := secretValue(raw)
	if key == "" && problem == "" {
		problem = "is empty"
	}
	if problem != "" {
		return nil, fmt.Errorf("the API key from %s %s", source, problem)
	}
	org, err := g.organizationFlag()
	if err != nil {
		return nil, err
	}
	g.redact = append(g.redact, key)
	return &apiCredentials{Credentials: krosai.Credentials{APIKey: key, OrganizationID: org}, source: source}, nil
}

// credentials are the override's, else the --credentials-secret Secret's
// with --organization over its organizationID.
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
	var secret corev1.Secret
	if err := r.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return apiCredentials{}, fmt.Errorf("%s not found: create it, name another with --credentials-secret, "+
				"or set $%s or --api-key-file", source, envAPIKey)
		}
		return apiCredentials{}, fmt.Errorf("read %s: %w", source, err)
	}
	cred := apiCredentials{source: source}
	// TODO(cli): mapping.Credentials, once main has it, reads the two keys by the
	// operator's rule; until then secretValue repeats it.
	apiKey, problem := secretValue(string(secret.Data[cockpitv1alpha1.SecretKeyAPIKey]))
	switch {
	case apiKey == "" && problem == "":
		return apiCredentials{}, fmt.Errorf("%s has no %s (or it is empty)", source, cockpitv1alpha1.SecretKeyAPIKey)
	case problem != "":
		return apiCredentials{}, fmt.Errorf("the value of key %s in %s %s", cockpitv1alpha1.SecretKeyAPIKey, source, problem)
	}
	g.redact = append(g.redact, apiKey)
	cred.APIKey = apiKey
	secretOrg, problem := secretValue(string(secret.Data[cockpitv1alpha1.SecretKeyOrganizationID]))
	if problem == "" && secretOrg != "" && !isUUID(secretOrg) {
		problem = "is not a UUID"
	}
	if problem != "" {
		return apiCredentials{}, fmt.Errorf("the value of key %s in %s %s", cockpitv1alpha1.SecretKeyOrganizationID, source, problem)
	}
	cred.OrganizationID = secretOrg
	if org != "" {
		cred.OrganizationID = org
	}
	return cred, nil
}

// organizationFlag is --organization, checked.
func (g *globals) organizationFlag() (string, error) {
	if g.organization != "" && !isUUID(g.organization) {
		return "", fmt.Errorf("--organization %q is not a UUID", sanitize(g.organization, true))
	}
	return g.organization, nil
}

// secretValue reads a secret value by the operator's rule
// (docs/credentials.md): one trailing newline dropped; invalid UTF-8 or a
// control character refused. problem says why, never showing the value; an
// empty value is the caller's to judge.
// TODO(cli): mapping.SecretValue, once main has it.
func secretValue(raw string) (value, problem string) {
	if line, cut := strings.CutSuffix(raw, "\n"); cut {
		raw = strings.TrimSuffix(line, "\r")
	}
	switch {
	case !utf8.ValidString(raw):
		return "", "is not valid UTF-8"
	case strings.ContainsFunc(raw, unicode.IsControl):
		return "", "contains a control character (other than one trailing newline)"
	}
	return raw, ""
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidPattern.MatchString(s) }

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
