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
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/krosai"
)

// DefaultCredentialsSecret is the operator's default credentials Secret as
// config/default and the Helm chart install it: krosai-credentials
// (cmd/main.go's --krosai-credentials-secret) in the operator's namespace,
// kros-operator-system.
const DefaultCredentialsSecret = "kros-operator-system/krosai-credentials"

// globals are the flags every command shares and what they lead to: the
// cluster reader and the API client, made when first needed, so that a
// command that needs no cluster (import with KROSAI_API_KEY) reads no
// kubeconfig.
type globals struct {
	opts Options
	kube *genericclioptions.ConfigFlags

	credentialsSecret string
	apiKeyFile        string
	organization      string
	apiURL            string

	reader client.Reader
	// redact holds the secret values read, kept out of every error line.
	redact []string
}

func newGlobals(o Options) *globals {
	kube := genericclioptions.NewConfigFlags(true)
	// Basic authentication puts a password on the command line; a
	// kubeconfig or its exec plugins carry credentials instead.
	kube.Username, kube.Password = nil, nil
	return &globals{opts: o, kube: kube}
}

func (g *globals) addFlags(root *cobra.Command) {
	flags := root.PersistentFlags()
	g.kube.AddFlags(flags)
	flags.StringVar(&g.credentialsSecret, "credentials-secret", DefaultCredentialsSecret,
		"The operator's default credentials Secret, NAMESPACE/NAME, with the KrosAI apiKey and optional organizationID. "+
			"--api-key-file or $KROSAI_API_KEY replace it.")
	flags.StringVar(&g.apiKeyFile, "api-key-file", "",
		"Read the KrosAI API key from this file instead of the credentials Secret (one trailing newline is dropped). "+
			"$KROSAI_API_KEY does the same; the file wins.")
	flags.StringVar(&g.organization, "organization", "",
		"The KrosAI organization (UUID). Default: the credentials Secret's organizationID, else the API key's first organization.")
	flags.StringVar(&g.apiURL, "krosai-api-url", krosai.DefaultBaseURL, "The KrosAI Cockpit API base URL.")
}

// run wraps a command's work: the error it returns never holds a secret
// value read on the way.
func (g *globals) run(fn func(ctx context.Context) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		err := fn(cmd.Context())
		if err == nil {
			return nil
		}
		msg := err.Error()
		redacted := false
		for _, s := range g.redact {
			if s != "" && strings.Contains(msg, s) {
				msg, redacted = strings.ReplaceAll(msg, s, "[REDACTED]"), true
			}
		}
		if redacted {
			return &exitError{code: ExitCode(err), err: fmt.Errorf("%s", msg)}
		}
		return err
	}
}

// progress tells a person at a terminal what the command is waiting for.
func (g *globals) progress(format string, a ...any) {
	if g.opts.Progress {
		_, _ = fmt.Fprintf(g.opts.IOStreams.ErrOut, format+"\n", a...)
	}
}

// namespace is -n's namespace or the kubeconfig context's; explicit when
// -n set it.
func (g *globals) namespace() (ns string, explicit bool, err error) {
	if g.kube.Namespace != nil && *g.kube.Namespace != "" {
		return *g.kube.Namespace, true, nil // no kubeconfig needed
	}
	ns, explicit, err = g.kube.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", false, fmt.Errorf("read the kubeconfig's namespace: %w", err)
	}
	return ns, explicit, nil
}

// clusterReader reads KrosEndpoints and Secrets: a plain client, no cache,
// no manager.
func (g *globals) clusterReader() (client.Reader, error) {
	if g.reader != nil {
		return g.reader, nil
	}
	cfg, err := g.kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("read the kubeconfig: %w", err)
	}
	// The API server's warnings as kubectl prints them, not through
	// controller-runtime's logger, which the plugin does not set up.
	cfg.WarningHandler = rest.NewWarningWriter(g.opts.IOStreams.ErrOut, rest.WarningWriterOptions{Deduplicate: true})
	cfg.UserAgent = g.userAgent()
	// client-go's default of 5 requests a second would make plan -A over a
	// few hundred resources wait on itself; kubectl allows as many.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 300
	}
	if g.opts.NewReader != nil {
		g.reader, err = g.opts.NewReader(cfg)
	} else {
		g.reader, err = client.New(cfg, client.Options{Scheme: cluster.NewScheme()})
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	return g.reader, nil
}

// userAgent names the plugin and its version in every request.
func (g *globals) userAgent() string { return "kubectl-krosai/" + g.opts.Version }

// allKrosEndpoints lists the KrosEndpoints of every namespace: claims are
// cluster-wide, as the controller's are.
func (g *globals) allKrosEndpoints(ctx context.Context) ([]cockpitv1alpha1.KrosEndpoint, error) {
	r, err := g.clusterReader()
	if err != nil {
		return nil, err
	}
	g.progress("Listing KrosEndpoints in all namespaces...")
	return cluster.KrosEndpoints(ctx, r)
}

// defaultCredentials is --credentials-secret as a key.
func (g *globals) defaultCredentials() (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(g.credentialsSecret, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("--credentials-secret %q: want NAMESPACE/NAME", g.credentialsSecret)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// apiClient is a KrosAI client for --krosai-api-url.
func (g *globals) apiClient() (*krosai.Client, error) {
	c, err := krosai.New(krosai.Config{BaseURL: g.apiURL, UserAgent: g.userAgent(), HTTPClient: g.opts.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("--krosai-api-url: %w", err)
	}
	return c, nil
}
