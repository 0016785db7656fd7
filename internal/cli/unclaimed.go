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
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"
)

const unclaimedLong = `List the endpoints of the KrosAI organization that no KrosEndpoint in the
cluster claims: none names it in its cockpit.krosai.com/endpoint-id annotation
or its status, and no interrupted create could have made it. These are the
endpoints the operator does not manage, by the rules its controller follows.

Only reads: it lists the organization's endpoints and the KrosEndpoints of
every namespace. -o yaml and -o json print what import prints for just these
endpoints, and take import's -n, --name-prefix, --observe-only and --type.`

const unclaimedExample = `  # The endpoints nobody manages
  kubectl krosai unclaimed

  # The same as manifests, to adopt them into the namespace team-a
  kubectl krosai unclaimed -o yaml -n team-a > adopt.yaml

  # Another organization, with a key from a file
  kubectl krosai unclaimed --api-key-file ./key --organization 5b3c8d3e-1f0a-4c2b-9d7e-2a6f4e1b0c9d`

func newUnclaimedCommand(g *globals) *cobra.Command {
	f := &exportFlags{skipClaimed: true}
	cmd := &cobra.Command{
		Use:     "unclaimed [-o table|yaml|json]",
		Short:   "List the organization's endpoints that no KrosEndpoint claims",
		Long:    unclaimedLong,
		Example: unclaimedExample,
		Args:    cobra.NoArgs,
		RunE: g.run(func(ctx context.Context) error {
			if err := checkOutput(f.output, "table", "yaml", "json"); err != nil {
				return err
			}
			selected, err := g.selectEndpoints(ctx, f)
			if err != nil {
				return err
			}
			if f.output != "table" {
				return g.writeManifests(selected, f)
			}
			return g.writeEndpointTable(selected)
		}),
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "Output format: table, yaml or json.")
	return cmd
}

// writeEndpointTable prints ID, TYPE, STATUS, NAME and URL, one endpoint a
// row, with what the API said made safe for a terminal.
func (g *globals) writeEndpointTable(selected []named) error {
	if len(selected) == 0 {
		_, _ = fmt.Fprintln(g.opts.IOStreams.ErrOut, "No unclaimed endpoints found.")
		return nil
	}
	// By the name the table shows; selected is in manifest name order.
	rows := slices.Clone(selected)
	slices.SortFunc(rows, func(a, b named) int {
		return cmp.Or(cmp.Compare(strings.ToLower(cell(a.Name)), strings.ToLower(cell(b.Name))), cmp.Compare(a.ID, b.ID))
	})
	w := printers.GetNewTabWriter(g.opts.IOStreams.Out)
	_, _ = fmt.Fprintln(w, "ID\tTYPE\tSTATUS\tNAME\tURL")
	for _, e := range rows {
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cell(e.ID), cell(e.Type), cell(e.Status), cell(e.Name), cell(e.URL))
	}
	return w.Flush()
}
