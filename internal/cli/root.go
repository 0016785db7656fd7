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

// Package cli is the kubectl plugin `kubectl krosai`: import and unclaimed
// turn the KrosAI endpoints of an organization into KrosEndpoint manifests,
// plan says what the operator would do next. The commands only read: the
// organization's list of endpoints, and KrosEndpoints and Secrets from the
// cluster. What an endpoint's spec is, which resource claims which endpoint
// and what the operator would do come from internal/mapping and
// internal/plan, the rules the controller itself follows; this package is
// flags and output. cmd/kubectl-krosai runs NewRootCommand.
package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Exit codes of every command.
const (
	// ExitOK: done; for plan, nothing would change.
	ExitOK = 0
	// ExitError: the command failed; stderr has one line "error: ...".
	ExitError = 1
	// ExitChanges: plan found something the operator would change, or that
	// is blocked until a person acts.
	ExitChanges = 2
)

// Options are the commands' outside world: main passes DefaultOptions,
// tests their fakes.
type Options struct {
	IOStreams genericiooptions.IOStreams
	// Getenv reads KROSAI_API_KEY.
	Getenv func(string) string
	// Progress sends progress messages to IOStreams.ErrOut; main sets it
	// when stderr is a terminal, so that scripts' stderr holds only errors
	// and instructions.
	Progress bool
	// NewReader reads the cluster; nil means a controller-runtime client
	// built from the kubeconfig's REST config.
	NewReader func(*rest.Config) (client.Reader, error)
	// HTTPClient, if set, carries the KrosAI API requests.
	HTTPClient *http.Client
	// Version is the plugin's version, for --version and the User-Agent of
	// its requests to KrosAI and to the cluster.
	Version string
}

// DefaultOptions are the process's streams and environment.
func DefaultOptions() Options {
	return Options{
		IOStreams: genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		Getenv:    os.Getenv,
		Progress:  term.IsTerminal(int(os.Stderr.Fd())),
	}
}

const rootLong = `kubectl krosai works with the KrosAI Cockpit endpoints that the kros-operator
manages as KrosEndpoint resources. Every command only reads: the organization's
list of endpoints from the KrosAI API, and KrosEndpoints and Secrets from the
cluster.

  import      print a KrosEndpoint manifest for each endpoint of the organization
  unclaimed   list the endpoints no KrosEndpoint in the cluster claims
  plan        show what the operator would do for KrosEndpoints, before applying them

The KrosAI API key comes from the operator's default credentials Secret
(--credentials-secret, keys apiKey and optional organizationID), or, replacing
it, from the file --api-key-file names or the environment variable
KROSAI_API_KEY. The key is never accepted as a flag value, and never printed.

Exit codes: 0 success (plan: nothing would change); 1 error, reported on stderr
as one line starting with "error: "; 2 (plan only) something would change or
is blocked.`

const rootExample = `  # Write manifests for every endpoint of the organization, then review and apply them
  kubectl krosai import -n team-a > endpoints.yaml

  # Which endpoints does no KrosEndpoint in the cluster manage?
  kubectl krosai unclaimed

  # What would the operator do with these manifests?
  kubectl krosai plan -f endpoints.yaml

  # Use an API key from the environment instead of the cluster's Secret
  KROSAI_API_KEY=$(cat key.txt) kubectl krosai unclaimed --organization 5b3c8d3e-1f0a-4c2b-9d7e-2a6f4e1b0c9d`

// NewRootCommand is `kubectl krosai` with its subcommands.
func NewRootCommand(o Options) *cobra.Command {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	g := newGlobals(o)
	root := &cobra.Command{
		Use:     "kubectl-krosai",
		Short:   "Import, find and plan KrosAI endpoints managed by the kros-operator",
		Long:    rootLong,
		Example: rootExample,
		Version: o.Version,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl krosai",
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(o.IOStreams.In)
	root.SetOut(o.IOStreams.Out)
	root.SetErr(o.IOStreams.ErrOut)
	g.addFlags(root)
	root.AddCommand(newImportCommand(g), newUnclaimedCommand(g), newPlanCommand(g))
	return root
}

// ExitCode is the exit status for what a command returned.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if e, ok := errors.AsType[*exitError](err); ok {
		return e.code
	}
	return ExitError
}

// ErrorLine is err as the one line kubectl prints: "error: ...". It is empty
// for an exit status that is not an error (plan's 2).
func ErrorLine(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*exitError](err); ok && e.err == nil {
		return ""
	}
	return "error: " + oneLine(err.Error())
}

// exitError is a status other than 1, with or without an error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// errChanges is plan's "something would change": exit 2, nothing printed.
var errChanges = &exitError{code: ExitChanges}

// oneLine makes s one printable line: whitespace runs (newlines included)
// become one space, other control characters are dropped.
func oneLine(s string) string {
	return strings.Join(strings.Fields(sanitize(s, true)), " ")
}
