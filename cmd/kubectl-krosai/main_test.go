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

package main

import (
	"bytes"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/krosai/kros-operator/internal/cli"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help", []string{"--help"}, 0, "kubectl krosai works with", ""},
		{"a usage error", []string{"import", "--nope"}, 1, "", "error: unknown flag: --nope\n"},
		{"an error from the command", []string{"plan", "-f", "-", "-A"}, 1, "",
			"error: -A plans the cluster's KrosEndpoints; with -f, the files say which\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			var out, errOut bytes.Buffer
			o := cli.Options{IOStreams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}}
			g.Expect(run(t.Context(), tt.args, o)).To(Equal(tt.code))
			g.Expect(out.String()).To(HavePrefix(tt.stdout))
			g.Expect(errOut.String()).To(Equal(tt.stderr))
		})
	}
}
