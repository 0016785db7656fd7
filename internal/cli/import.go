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
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

const importLong = `Print a KrosEndpoint manifest for each endpoint of the KrosAI organization,
to review and apply: the operator then adopts each endpoint (by the
cockpit.krosai.com/endpoint-id annotation) instead of creating another.

Only reads: it lists the organization's endpoints, and with --skip-claimed the
KrosEndpoints of every namespace. The output is a multi-document YAML stream
(-o json: a v1 List), sorted by name. Each manifest has metadata.name (a
DNS-1123 label made of the endpoint's name, with --name-prefix; endpoints that
share a name get -2, -3, ... in the order of their ids), metadata.namespace
(-n, or the kubeconfig's namespace), the endpoint-id annotation and the spec
whose request is the endpoint as KrosAI holds it; an inactive endpoint gets
enabled: false. With --organization, each spec names that organization
(spec.organizationID), which the operator's default credentials may not.

KrosAI never returns SIP passwords. For a vogent endpoint, and a custom_sip
endpoint with a username, the spec references a Secret NAME-sip, and stderr
says how to create it; fill in the password before applying.`

const importExample = `  # Manifests for every endpoint, into the namespace team-a
  kubectl krosai import -n team-a > endpoints.yaml

  # Only the Vapi endpoints, named vapi-..., observed but never changed by the operator
  kubectl krosai import --type vapi --name-prefix vapi- --observe-only

  # Only what no KrosEndpoint in the cluster claims yet, applied at once
  kubectl krosai import --skip-claimed -n team-a | kubectl apply -f -`

// exportFlags are import's flags, and unclaimed's when it prints manifests.
type exportFlags struct {
	typ, namePrefix string
	observeOnly     bool
	skipClaimed     bool
	output          string
}

func (f *exportFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.typ, "type", "", "Only endpoints of this type: "+strings.Join(endpointTypes, ", ")+".")
	cmd.Flags().StringVar(&f.namePrefix, "name-prefix", "", "Prepend this to every metadata.name.")
	cmd.Flags().BoolVar(&f.observeOnly, "observe-only", false,
		"Set spec.managementPolicy: ObserveOnly: the operator reports drift but never changes or deletes the endpoints.")
}

var endpointTypes = []string{krosai.TypeWebhook, krosai.TypeVapi, krosai.TypeRetell, krosai.TypeElevenLabs,
	krosai.TypeLiveKit, krosai.TypeVogent, krosai.TypeCustomSIP}

func newImportCommand(g *globals) *cobra.Command {
	f := &exportFlags{}
	cmd := &cobra.Command{
		Use:     "import [--type TYPE] [--name-prefix PREFIX] [-n NAMESPACE] [--observe-only] [--skip-claimed] [-o yaml|json]",
		Short:   "Print a KrosEndpoint manifest for each endpoint of the organization",
		Long:    importLong,
		Example: importExample,
		Args:    cobra.NoArgs,
		RunE: g.run(func(ctx context.Context) error {
			if err := checkOutput(f.output, "yaml", "json"); err != nil {
				return err
			}
			selected, err := g.selectEndpoints(ctx, f)
			if err != nil {
				return err
			}
			return g.writeManifests(selected, f)
		}),
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&f.skipClaimed, "skip-claimed", false,
		"Leave out endpoints a KrosEndpoint in any namespace claims (reads KrosEndpoints in all namespaces).")
	cmd.Flags().StringVarP(&f.output, "output", "o", "yaml", "Output format: yaml or json.")
	return cmd
}

func checkOutput(got string, allowed ...string) error {
	if !slices.Contains(allowed, got) {
		return fmt.Errorf("--output %q: want one of %s", sanitize(got, true), strings.Join(allowed, ", "))
	}
	return nil
}

// named is an endpoint with the metadata.name import gives it.
type named struct {
	krosai.Endpoint
	name string
}

// selectEndpoints lists the organization's endpoints and keeps those f
// selects, named and sorted by name, then id. Names are given over the whole
// list, so an endpoint's name does not depend on --type or --skip-claimed.
func (g *globals) selectEndpoints(ctx context.Context, f *exportFlags) ([]named, error) {
	if f.typ != "" && !slices.Contains(endpointTypes, f.typ) {
		return nil, fmt.Errorf("--type %q: want one of %s", sanitize(f.typ, true), strings.Join(endpointTypes, ", "))
	}
	if err := checkNamePrefix(f.namePrefix); err != nil {
		return nil, err
	}
	cred, err := g.credentials(ctx)
	if err != nil {
		return nil, err
	}
	var claims []cockpitv1alpha1.KrosEndpoint
	if f.skipClaimed {
		if claims, err = g.allKrosEndpoints(ctx); err != nil {
			return nil, err
		}
	}
	api, err := g.apiClient()
	if err != nil {
		return nil, err
	}
	g.progress("Listing the endpoints of organization %s at %s...", mapping.OrganizationName(cred.Credentials), g.apiURL)
	endpoints, err := api.ListEndpoints(ctx, cred.Credentials)
	if err != nil {
		return nil, cred.explain(err)
	}
	names := endpointNames(endpoints, f.namePrefix)
	var out []named
	for _, e := range endpoints {
		if (f.typ == "" || e.Type == f.typ) && (!f.skipClaimed || !mapping.Claimed(claims, e)) {
			out = append(out, named{Endpoint: e, name: names[e.ID]})
		}
	}
	slices.SortFunc(out, func(a, b named) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// manifest is a KrosEndpoint as import prints it: what a person applies,
// nothing the server fills in.
type manifest struct {
	APIVersion string                           `json:"apiVersion"`
	Kind       string                           `json:"kind"`
	Metadata   manifestMetadata                 `json:"metadata"`
	Spec       cockpitv1alpha1.KrosEndpointSpec `json:"spec"`
}

type manifestMetadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// kindKrosEndpoint is the kind import writes and plan reads.
const kindKrosEndpoint = "KrosEndpoint"

// sipSecretSuffix names the SIP credentials Secret of an imported resource.
const sipSecretSuffix = "-sip"

// manifestOf is the KrosEndpoint that adopts e as it is. An organization
// named on the command line is written to the spec: the operator's default
// credentials may reach another one.
func manifestOf(e named, namespace, organization string, observeOnly bool) manifest {
	spec := mapping.SpecOf(e.Endpoint, e.name+sipSecretSuffix)
	spec.OrganizationID = organization
	if observeOnly {
		spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
	}
	return manifest{
		APIVersion: cockpitv1alpha1.GroupVersion.String(),
		Kind:       kindKrosEndpoint,
		Metadata: manifestMetadata{Name: e.name, Namespace: namespace,
			Annotations: map[string]string{cockpitv1alpha1.AnnotationEndpointID: e.ID}},
		Spec: spec,
	}
}

// writeManifests prints the manifests to stdout and, to stderr, how to
// create the SIP credentials Secrets they reference.
func (g *globals) writeManifests(selected []named, f *exportFlags) error {
	ns, _, err := g.namespace()
	if err != nil {
		return err
	}
	out, errOut := g.opts.IOStreams.Out, g.opts.IOStreams.ErrOut
	manifests := make([]manifest, 0, len(selected))
	var sip []named // the endpoints whose manifests reference a SIP Secret
	for _, e := range selected {
		if !slices.Contains(endpointTypes, e.Type) {
			// A type newer than the CRD: no spec could ask for it.
			_, _ = fmt.Fprintf(errOut, "Warning: endpoint %s is left out: KrosEndpoint has no type %q\n",
				cell(e.ID), sanitize(e.Type, true))
			continue
		}
		m := manifestOf(e, ns, g.organization, f.observeOnly)
		manifests = append(manifests, m)
		if mapping.HasSIPLogin(&cockpitv1alpha1.KrosEndpoint{Spec: m.Spec}) {
			sip = append(sip, e)
		}
	}
	if err := encodeManifests(out, manifests, f.output); err != nil {
		return err
	}
	if len(manifests) == 0 {
		_, _ = fmt.Fprintln(errOut, "No endpoints found.")
	}
	if len(sip) > 0 {
		_, _ = fmt.Fprintln(errOut, "# KrosAI never returns SIP passwords: create these Secrets, with the real password, before applying:")
	}
	for _, e := range sip {
		_, _ = fmt.Fprintf(errOut, "kubectl create secret generic %s -n %s --type=kubernetes.io/basic-auth "+
			"--from-literal=username=%s --from-literal=password=PASSWORD\n",
			e.name+sipSecretSuffix, shellWord(ns), sipUsername(e.Endpoint))
	}
	return nil
}

// encodeManifests writes a multi-document YAML stream, or a v1 List in JSON.
func encodeManifests(w io.Writer, manifests []manifest, format string) error {
	if format == "json" {
		if manifests == nil {
			manifests = []manifest{}
		}
		b, err := json.MarshalIndent(struct {
			APIVersion string     `json:"apiVersion"`
			Kind       string     `json:"kind"`
			Items      []manifest `json:"items"`
		}{"v1", "List", manifests}, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for i, m := range manifests {
		b, err := yaml.Marshal(m)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// sipUsername is the SIP username KrosAI returned for e, as a shell word,
// or the placeholder USERNAME.
func sipUsername(e krosai.Endpoint) string {
	u := e.ProviderConfig.Username
	if e.Type == krosai.TypeVogent {
		u = e.ProviderConfig.VogentSIPUsername
	}
	if u == "" || sanitize(u, false) != u {
		return "USERNAME"
	}
	return shellWord(u)
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
