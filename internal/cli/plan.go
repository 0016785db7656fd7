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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/plan"
)

const planLong = `Show what the operator would do next for each KrosEndpoint, without doing it:
create, adopt, update (field by field), recreate, delete or orphan its KrosAI
endpoint, nothing, or stop (blocked) until a person acts, with the reason the
operator's status would give. The prediction follows the rules of the
operator's own code: how a spec maps to a request, which fields differ, which
resource claims which endpoint, how Secrets are read.

The KrosEndpoints come from -f (files; directories, whose .yaml, .yml and
.json files are read, not recursively; - for stdin), as they would be applied,
or from the cluster (-n NAMESPACE, default the kubeconfig's; -A for all). A
file holds only cockpit.krosai.com/v1alpha1 KrosEndpoints (a v1 List of them
too); a resource without a namespace gets -n's or the kubeconfig's.

Only reads: the organization's list of endpoints for each API key, and the
KrosEndpoints and Secrets of the cluster. Each resource's API key comes from
its apiKeySecretRef or the operator's default Secret (--credentials-secret);
--api-key-file or $KROSAI_API_KEY (with --organization) replace them all.
Secret values are never printed: a changed SIP password shows as (secret).

Exit codes: 0 when nothing would change; 2 when something would change or is
blocked; 1 on error (one line on stderr starting with "error: ").`

const planExample = `  # What applying these manifests would do
  kubectl krosai plan -f endpoints.yaml

  # A directory, and manifests rendered by kustomize
  kubectl krosai plan -f ./endpoints/
  kustomize build overlays/prod | kubectl krosai plan -f -

  # What the operator would do now for every KrosEndpoint in the cluster, as JSON
  kubectl krosai plan -A -o json

  # In CI: fail when the cluster is not in sync
  kubectl krosai plan -n team-a || echo "exit $?: changes pending"`

type planFlags struct {
	files         []string
	allNamespaces bool
	output        string
}

func newPlanCommand(g *globals) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:     "plan [-f FILE|DIR|-]... [-n NAMESPACE | -A] [-o table|json]",
		Short:   "Show what the operator would do for KrosEndpoints, without doing it",
		Long:    planLong,
		Example: planExample,
		Args:    cobra.NoArgs,
		RunE: g.run(func(ctx context.Context) error {
			p, err := g.plan(ctx, f)
			if err != nil {
				return err
			}
			if err := writePlan(g.opts.IOStreams.Out, g.opts.IOStreams.ErrOut, p, f.output); err != nil {
				return err
			}
			if !p.InSync() {
				return errChanges
			}
			return nil
		}),
	}
	cmd.Flags().StringArrayVarP(&f.files, "filename", "f", nil,
		"KrosEndpoint manifests: a file, a directory (its .yaml, .yml and .json files) or - for stdin. Repeatable.")
	cmd.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false,
		"Plan the KrosEndpoints of every namespace (without -f).")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "Output format: table or json.")
	return cmd
}

// plan reads the resources and asks the planner.
func (g *globals) plan(ctx context.Context, f *planFlags) (plan.Plan, error) {
	if err := checkOutput(f.output, "table", "json"); err != nil {
		return plan.Plan{}, err
	}
	if f.allNamespaces && len(f.files) > 0 {
		return plan.Plan{}, errors.New("-A plans the cluster's KrosEndpoints; with -f, the files say which")
	}
	override, err := g.overrideCredentials()
	if err != nil {
		return plan.Plan{}, err
	}
	if override == nil && g.organization != "" {
		return plan.Plan{}, errors.New("--organization needs the API key of $" + envAPIKey + " or --api-key-file: " +
			"otherwise each resource's credentials Secret and spec.organizationID say its organization")
	}
	defaultCredentials, err := g.defaultCredentials()
	if err != nil {
		return plan.Plan{}, err
	}
	ns, explicit, err := g.namespace()
	if err != nil {
		return plan.Plan{}, err
	}
	var resources []cockpitv1alpha1.KrosEndpoint
	if len(f.files) > 0 {
		sources, err := readManifests(f.files, g.opts.IOStreams.In)
		if err != nil {
			return plan.Plan{}, err
		}
		if resources, err = placeResources(sources, ns, explicit); err != nil {
			return plan.Plan{}, err
		}
	}
	reader, err := g.clusterReader()
	if err != nil {
		return plan.Plan{}, err
	}
	api, err := g.apiClient()
	if err != nil {
		return plan.Plan{}, err
	}
	var cred *krosai.Credentials
	if override != nil {
		cred = &override.Credentials
	}
	planner := &plan.Planner{Reader: reader, API: api, DefaultCredentials: defaultCredentials, Credentials: cred}
	var p plan.Plan
	switch {
	case len(f.files) > 0:
		g.progress("Planning %d KrosEndpoints...", len(resources))
		p, err = planner.Plan(ctx, resources, true)
	case f.allNamespaces:
		g.progress("Planning the KrosEndpoints of all namespaces...")
		p, err = planner.PlanCluster(ctx, "")
	default:
		g.progress("Planning the KrosEndpoints of namespace %s...", ns)
		p, err = planner.PlanCluster(ctx, ns)
	}
	if err != nil {
		return plan.Plan{}, explainPlanError(err, override)
	}
	return p, nil
}

// explainPlanError says which key was refused when one key serves all.
func explainPlanError(err error, override *apiCredentials) error {
	if override != nil && krosai.KindOf(err) != krosai.KindUnknown {
		return override.explain(err)
	}
	return fmt.Errorf("plan: %w", err)
}

// writePlan prints p as a table or as JSON.
func writePlan(out, errOut io.Writer, p plan.Plan, format string) error {
	if format == "json" {
		b, err := json.MarshalIndent(p, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	if len(p.Items) == 0 {
		_, _ = fmt.Fprintln(errOut, "No KrosEndpoints found.")
		return nil
	}
	// The rows are aligned by themselves; each row's detail lines follow it.
	var rows bytes.Buffer
	tw := printers.GetNewTabWriter(&rows)
	_, _ = fmt.Fprintln(tw, "NAMESPACE\tNAME\tACTION\tENDPOINT\tCHANGES")
	for _, s := range p.Items {
		changes := "-"
		switch {
		case s.Action == plan.ActionBlocked:
			changes = cell(s.Reason)
		case len(s.Changes) > 0:
			changes = strconv.Itoa(len(s.Changes))
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cell(s.Namespace), cell(s.Name), cell(string(s.Action)),
			cell(s.EndpointID), changes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(rows.String(), "\n")
	var b strings.Builder
	b.WriteString(lines[0])
	for i, s := range p.Items {
		b.WriteString(lines[i+1])
		switch s.Action {
		case plan.ActionBlocked:
			fmt.Fprintf(&b, "  ! %s\n", oneLine(s.Message))
		case plan.ActionAdopt, plan.ActionRecreate, plan.ActionDelete, plan.ActionOrphan:
			// Why: the changes alone do not say it.
			fmt.Fprintf(&b, "  # %s\n", oneLine(s.Message))
		}
		for _, c := range s.Changes {
			b.WriteString(changeLine(s.Action, c))
		}
	}
	b.WriteString(summary(p))
	_, err := io.WriteString(out, b.String())
	return err
}

// changeLine is one change: "+ field: new" for what a create sends,
// "~ field: old → new" for what an update corrects; secrets without values.
func changeLine(action plan.Action, c plan.Change) string {
	field := cell(c.Field)
	creating := action == plan.ActionCreate || action == plan.ActionRecreate
	switch {
	case c.Secret && creating:
		return fmt.Sprintf("  + %s: (secret)\n", field)
	case c.Secret:
		return fmt.Sprintf("  ~ %s: (secret; changes)\n", field)
	case creating:
		return fmt.Sprintf("  + %s: %s\n", field, strconv.Quote(c.New))
	}
	return fmt.Sprintf("  ~ %s: %s → %s\n", field, strconv.Quote(c.Old), strconv.Quote(c.New))
}

// summary is the plan's last line, Terraform's: how many of each.
func summary(p plan.Plan) string {
	count := map[plan.Action]int{}
	for _, s := range p.Items {
		count[s.Action]++
	}
	parts := []string{fmt.Sprintf("%d to create", count[plan.ActionCreate]+count[plan.ActionRecreate])}
	if n := count[plan.ActionAdopt]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d to adopt", n))
	}
	parts = append(parts, fmt.Sprintf("%d to update", count[plan.ActionUpdate]),
		fmt.Sprintf("%d to delete", count[plan.ActionDelete]))
	if n := count[plan.ActionOrphan]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d to orphan", n))
	}
	parts = append(parts, fmt.Sprintf("%d blocked", count[plan.ActionBlocked]),
		fmt.Sprintf("%d unchanged", count[plan.ActionNone]))
	return "Plan: " + strings.Join(parts, ", ") + ".\n"
}
