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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestBadInput: every failure is exactly one line on stderr starting with
// "error: ", exit status 1, nothing on stdout, and no secret anywhere.
func TestBadInput(t *testing.T) {
	configMap := `apiVersion: cockpit.krosai.com/v1alpha1
kind: KrosEndpoint
metadata: {name: a}
spec: {type: elevenlabs, elevenLabs: {agentID: x}}
---
# a comment-only document is not counted
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b}
`
	tests := []struct {
		name  string
		setup func(t *testing.T, h *harness) []string
		// want is the whole line, or its start when it ends in "...".
		want string
	}{
		{"a file that does not exist", func(t *testing.T, _ *harness) []string {
			return []string{"plan", "-f", filepath.Join(t.TempDir(), "missing.yaml")}
		}, "error: stat FILE: no such file or directory"},
		{"a file that cannot be read", func(t *testing.T, _ *harness) []string {
			dir := t.TempDir()
			if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling.yaml")); err != nil {
				t.Fatal(err)
			}
			return []string{"plan", "-f", dir}
		}, "error: open FILE/dangling.yaml: no such file or directory"},
		{"a directory without manifests", func(t *testing.T, _ *harness) []string {
			return []string{"plan", "-f", t.TempDir()}
		}, "error: FILE: no .yaml, .yml or .json files"},
		{"another kind in a file", func(t *testing.T, _ *harness) []string {
			path := writeFile(t, "mixed.yaml", configMap)
			return []string{"plan", "-f", path}
		}, "error: FILE: document 2 is a ConfigMap, not a cockpit.krosai.com/v1alpha1 KrosEndpoint"},
		{"another version of KrosEndpoint on stdin", func(_ *testing.T, h *harness) []string {
			h.stdin = "apiVersion: cockpit.krosai.com/v1beta1\nkind: KrosEndpoint\nmetadata: {name: a}\n"
			return []string{"plan", "-f", "-"}
		}, "error: stdin: document 1 is a cockpit.krosai.com/v1beta1 KrosEndpoint, not a cockpit.krosai.com/v1alpha1 KrosEndpoint"},
		{"an object without a kind", func(_ *testing.T, h *harness) []string {
			h.stdin = "metadata: {name: a}\n"
			return []string{"plan", "-f", "-"}
		}, "error: stdin: document 1 is an object without a kind, not a cockpit.krosai.com/v1alpha1 KrosEndpoint"},
		{"a misspelt field", func(_ *testing.T, h *harness) []string {
			h.stdin = "apiVersion: cockpit.krosai.com/v1alpha1\nkind: KrosEndpoint\nmetadata: {name: a}\nspec: {tpye: vapi}\n"
			return []string{"plan", "-f", "-"}
		}, `error: stdin: document 1 is not a valid KrosEndpoint: error unmarshaling JSON: while decoding JSON: json: unknown field "tpye"`},
		{"broken YAML", func(_ *testing.T, h *harness) []string {
			h.stdin = "apiVersion: [\n"
			return []string{"plan", "-f", "-"}
		}, "error: stdin: document 1: ..."},
		{"the same resource twice", func(_ *testing.T, h *harness) []string {
			h.stdin = "apiVersion: cockpit.krosai.com/v1alpha1\nkind: KrosEndpoint\nmetadata: {name: a}\n---\n" +
				"apiVersion: cockpit.krosai.com/v1alpha1\nkind: KrosEndpoint\nmetadata: {name: a, namespace: team-a}\n"
			return []string{"plan", "-f", "-"}
		}, "error: stdin: document 2: KrosEndpoint team-a/a is also in stdin: document 1"},
		{"a namespace -n contradicts", func(_ *testing.T, h *harness) []string {
			h.stdin = "apiVersion: cockpit.krosai.com/v1alpha1\nkind: KrosEndpoint\nmetadata: {name: a, namespace: x}\n"
			return []string{"plan", "-f", "-", "-n", "y"}
		}, `error: stdin: document 1: the namespace "x" of KrosEndpoint "a" does not match -n "y"`},
		{"-A with -f", func(*testing.T, *harness) []string {
			return []string{"plan", "-A", "-f", "-"}
		}, "error: -A plans the cluster's KrosEndpoints; with -f, the files say which"},
		{"--organization for plan without a key of its own", func(*testing.T, *harness) []string {
			return []string{"plan", "--organization", testOrg}
		}, "error: --organization needs the API key of $KROSAI_API_KEY or --api-key-file: ..."},
		{"no credentials Secret and no key", func(_ *testing.T, h *harness) []string {
			h.objects = nil
			return []string{"import"}
		}, "error: Secret kros-operator-system/krosai-credentials not found: create it, name another with " +
			"--credentials-secret, or set $KROSAI_API_KEY or --api-key-file"},
		{"a Secret the user may not read", func(_ *testing.T, h *harness) []string {
			h.forbidSecrets = true
			return []string{"import"}
		}, `error: read the API key: read Secret kros-operator-system/krosai-credentials: secrets "krosai-credentials" ` +
			"is forbidden: RBAC says no; set $KROSAI_API_KEY or --api-key-file instead"},
		{"a Secret without apiKey", func(_ *testing.T, h *harness) []string {
			h.objects = []client.Object{credentialsSecret(map[string][]byte{"organizationID": []byte(testOrg)})}
			return []string{"unclaimed"}
		}, `error: read the API key: Secret "krosai-credentials" named by --credentials-secret has no key "apiKey"`},
		{"a control character in the Secret's key", func(_ *testing.T, h *harness) []string {
			h.objects = []client.Object{credentialsSecret(map[string][]byte{"apiKey": []byte(testKey + "\x00")})}
			return []string{"import"}
		}, `error: read the API key: the value of key "apiKey" in Secret "krosai-credentials" named by --credentials-secret ` +
			"contains a control character (other than one trailing newline)"},
		{"an organizationID that is not a UUID", func(_ *testing.T, h *harness) []string {
			h.objects = []client.Object{credentialsSecret(map[string][]byte{"apiKey": []byte(testKey), "organizationID": []byte("acme")})}
			return []string{"import"}
		}, `error: read the API key: the value of key "organizationID" in Secret "krosai-credentials" named by --credentials-secret is not a UUID`},
		{"an empty --api-key-file", func(t *testing.T, _ *harness) []string {
			return []string{"import", "--api-key-file", writeFile(t, "key", "\n")}
		}, "error: the API key from --api-key-file FILE is empty"},
		{"two lines in $KROSAI_API_KEY", func(_ *testing.T, h *harness) []string {
			h.env[envAPIKey] = testKey + "\n\n"
			return []string{"import"}
		}, "error: the API key from $KROSAI_API_KEY is not valid UTF-8 or holds a control character (other than one trailing newline)"},
		{"a refused key", func(_ *testing.T, h *harness) []string {
			h.env[envAPIKey] = testKey + "x"
			return []string{"import"}
		}, "error: KrosAI refused the API key from $KROSAI_API_KEY (401 Unauthorized)"},
		{"--organization not a UUID", func(*testing.T, *harness) []string {
			return []string{"import", "--organization", "acme\x1b"}
		}, `error: --organization "acme" is not a UUID`},
		{"--credentials-secret without a namespace", func(*testing.T, *harness) []string {
			return []string{"unclaimed", "--credentials-secret", "krosai-credentials"}
		}, `error: --credentials-secret "krosai-credentials": want NAMESPACE/NAME`},
		{"an unknown type", func(*testing.T, *harness) []string {
			return []string{"import", "--type", "sip"}
		}, `error: --type "sip": want one of webhook, vapi, retell, elevenlabs, livekit, vogent, custom_sip`},
		{"a prefix that cannot start a name", func(*testing.T, *harness) []string {
			return []string{"import", "--name-prefix", "Team_"}
		}, `error: --name-prefix "Team_": want lowercase letters, digits and '-', starting with a letter or digit, at most 55 characters`},
		{"an output format import lacks", func(*testing.T, *harness) []string {
			return []string{"import", "-o", "table"}
		}, `error: --output "table": want one of yaml, json`},
		{"an output format plan lacks", func(*testing.T, *harness) []string {
			return []string{"plan", "-o", "yaml"}
		}, `error: --output "yaml": want one of table, json`},
		{"an API URL in clear text to another host", func(*testing.T, *harness) []string {
			return []string{"import", "--krosai-api-url", "http://api.example.com/v1"}
		}, "error: --krosai-api-url: krosai: BaseURL http://api.example.com: plain http is allowed only to a loopback host ..."},
		{"an unknown flag", func(*testing.T, *harness) []string {
			return []string{"import", "--api-key", testKey}
		}, "error: unknown flag: --api-key"},
		{"an argument", func(*testing.T, *harness) []string {
			return []string{"unclaimed", "extra"}
		}, `error: unknown command "extra" for "kubectl krosai unclaimed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, everyType()...)
			args := tt.setup(t, h)
			stdout, stderr, code := h.run(args...)
			g.Expect(code).To(Equal(ExitError))
			g.Expect(stdout).To(BeEmpty())
			g.Expect(stderr).To(HaveSuffix("\n"))
			g.Expect(strings.Count(stderr, "\n")).To(Equal(1), "one line: %q", stderr)
			line := strings.TrimSuffix(stderr, "\n")
			for _, a := range args {
				if filepath.IsAbs(a) {
					line = strings.ReplaceAll(line, a, "FILE")
				}
			}
			if want, prefix := strings.CutSuffix(tt.want, "..."); prefix {
				g.Expect(line).To(HavePrefix(want))
			} else {
				g.Expect(line).To(Equal(tt.want))
			}
			expectNoSecrets(g, stdout, stderr)
		})
	}
}

// TestHelp: every command explains itself with examples, and the exit
// codes are where a script writer looks.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{}, {"import"}, {"unclaimed"}, {"plan"}} {
		t.Run(strings.Join(append([]string{"kubectl krosai"}, args...), " "), func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t)
			stdout, stderr, code := h.run(append(args, "--help")...)
			g.Expect(code).To(Equal(ExitOK))
			g.Expect(stderr).To(BeEmpty())
			g.Expect(stdout).To(ContainSubstring("Examples:\n  # "))
			g.Expect(stdout).To(ContainSubstring("Usage:\n  kubectl krosai"))
			if len(args) == 0 || args[0] == "plan" {
				g.Expect(stdout).To(ContainSubstring("Exit codes:"))
			}
		})
	}
}

func TestVersion(t *testing.T) {
	g := NewWithT(t)
	var out bytes.Buffer
	cmd := NewRootCommand(Options{IOStreams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out},
		Version: "1.2.3 (commit abc, built today)"})
	cmd.SetArgs([]string{"--version"})
	g.Expect(cmd.Execute()).To(Succeed())
	g.Expect(out.String()).To(Equal("kubectl krosai version 1.2.3 (commit abc, built today)\n"))
}

// TestRunRedacts: whatever a command's error says, the secret values it
// read are not in it, even if a layer below failed to leave them out.
func TestRunRedacts(t *testing.T) {
	g := NewWithT(t)
	gl := newGlobals(Options{})
	gl.redact = []string{testKey}
	err := gl.run(func(context.Context) error {
		return &exitError{code: ExitChanges, err: fmt.Errorf("upstream said %q", "Bearer "+testKey)}
	})(&cobra.Command{}, nil)
	g.Expect(ErrorLine(err)).To(Equal(`error: upstream said "Bearer [REDACTED]"`))
	g.Expect(ExitCode(err)).To(Equal(ExitChanges), "the exit status survives")
}
