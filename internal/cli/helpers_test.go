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
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/pkg/krosaisim"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with what the commands print now")

const (
	// testKey is distinctive, so that a test can tell it never leaks.
	testKey = "kros_test_NEVER-PRINT-ME-7f3a91c2"
	testOrg = "0b7c2f4e-5d6a-4b8c-9e1f-2a3b4c5d6e7f"
	// sipPassword and webhookSecret are what the simulator holds and, in
	// echo mode, returns: neither may ever be printed.
	sipPassword   = "sip-PASSWORD-never-printed-41d9"
	webhookSecret = "whsec_NEVER-PRINTED-8c0e55"
	// kubeNamespace is the kubeconfig context's namespace.
	kubeNamespace = "team-a"
)

// secrets are the values no output may contain.
var secrets = []string{testKey, sipPassword, webhookSecret}

// harness is a simulated KrosAI organization, a fake cluster and a
// kubeconfig, to run command lines against.
type harness struct {
	t       *testing.T
	sim     *krosaisim.Server
	objects []client.Object
	env     map[string]string
	stdin   string
	// progress is Options.Progress, as if stderr were a terminal.
	progress bool
	// forbidSecrets makes reading Secrets fail as RBAC would.
	forbidSecrets bool
	// writes counts the write calls the commands made to the cluster.
	writes     atomic.Int32
	kubeconfig string
}

// newHarness serves endpoints (in the test organization, testKey's) and a
// cluster holding the operator's default credentials Secret with testKey.
func newHarness(t *testing.T, endpoints ...krosaisim.Endpoint) *harness {
	t.Helper()
	h := &harness{t: t, env: map[string]string{}, kubeconfig: writeKubeconfig(t)}
	h.sim = serveEndpoints(t, endpoints)
	h.objects = []client.Object{credentialsSecret(map[string][]byte{"apiKey": []byte(testKey + "\n")})}
	return h
}

func credentialsSecret(data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kros-operator-system", Name: "krosai-credentials"}, Data: data}
}

// serveEndpoints starts a simulator holding endpoints, loaded from a state
// file so that ids and times are the test's.
func serveEndpoints(t *testing.T, endpoints []krosaisim.Endpoint) *krosaisim.Server {
	t.Helper()
	for i := range endpoints {
		e := &endpoints[i]
		e.OrganizationID = testOrg
		if e.CreatedAt.IsZero() {
			e.CreatedAt = time.Date(2026, 11, 1, 12, 0, i, 0, time.UTC)
		}
		e.UpdatedAt = e.CreatedAt
		if e.Status == "" {
			e.Status = "active"
		}
	}
	state, err := json.Marshal(map[string]any{"version": 1,
		"organizations": map[string][]krosaisim.Endpoint{testOrg: endpoints}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(file, state, 0o600); err != nil {
		t.Fatal(err)
	}
	sim, err := krosaisim.New(krosaisim.Options{
		Keys: []krosaisim.APIKey{{Key: testKey, Org: testOrg}}, StateFile: file, Seed: 1,
		Faults: krosaisim.Faults{PasswordMode: krosaisim.PasswordModeEcho},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// writeKubeconfig is a kubeconfig whose context's namespace is
// kubeNamespace; its server is never contacted (the cluster is fake).
func writeKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	config := `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: test
  user: {token: not-used}
contexts:
- name: test
  context: {cluster: test, user: test, namespace: ` + kubeNamespace + `}
current-context: test
`
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs a command line as cmd/kubectl-krosai does, against the
// harness's simulator and cluster; a write to the cluster fails and is
// counted.
func (h *harness) run(args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	inCluster := fake.NewClientBuilder().WithScheme(cluster.NewScheme()).WithObjects(h.objects...).Build()
	refuse := func() error {
		h.writes.Add(1)
		return errors.New("the CLI must not write to the cluster")
	}
	readOnly := interceptor.NewClient(inCluster, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, secret := obj.(*corev1.Secret); secret && h.forbidSecrets {
				return apierrors.NewForbidden(corev1.Resource("secrets"), key.Name, errors.New("RBAC says no"))
			}
			return c.Get(ctx, key, obj, opts...)
		},
		Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error { return refuse() },
		Update: func(context.Context, client.WithWatch, client.Object, ...client.UpdateOption) error { return refuse() },
		Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return refuse()
		},
		Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error { return refuse() },
		DeleteAllOf: func(context.Context, client.WithWatch, client.Object, ...client.DeleteAllOfOption) error {
			return refuse()
		},
		SubResourceCreate: func(context.Context, client.Client, string, client.Object, client.Object,
			...client.SubResourceCreateOption) error {
			return refuse()
		},
		SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			return refuse()
		},
		SubResourcePatch: func(context.Context, client.Client, string, client.Object, client.Patch,
			...client.SubResourcePatchOption) error {
			return refuse()
		},
	})
	var out, errOut bytes.Buffer
	o := Options{
		IOStreams: genericiooptions.IOStreams{In: strings.NewReader(h.stdin), Out: &out, ErrOut: &errOut},
		Getenv:    func(k string) string { return h.env[k] },
		Progress:  h.progress,
		NewReader: func(*rest.Config) (client.Reader, error) { return readOnly, nil },
	}
	cmd := NewRootCommand(o)
	cmd.SetArgs(append([]string{"--kubeconfig", h.kubeconfig, "--krosai-api-url", h.sim.APIURL()}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	if line := ErrorLine(err); line != "" {
		_, _ = fmt.Fprintln(&errOut, line)
	}
	return out.String(), errOut.String(), ExitCode(err)
}

// expectNoSecrets fails if any secret value shows in the outputs.
func expectNoSecrets(g Gomega, outputs ...string) {
	for _, o := range outputs {
		for _, s := range secrets {
			g.ExpectWithOffset(1, o).NotTo(ContainSubstring(s))
		}
	}
}

// golden compares got with testdata/NAME.golden; -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/cli -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./internal/cli -update rewrites it after a review):\n--- got\n%s\n--- want\n%s",
			path, got, want)
	}
}

// id is the test endpoint id n.
func id(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// everyType is one endpoint of each type, and both kinds of custom SIP.
func everyType() []krosaisim.Endpoint {
	return []krosaisim.Endpoint{
		{ID: id(1), Name: "Order Events", Type: "webhook", URL: "https://hooks.example.com/krosai/orders",
			Secret: webhookSecret},
		{ID: id(2), Name: "Sales Line", Type: "vapi", URL: "sip:" + id(2) + "@sip.krosai.com",
			ProviderConfig: map[string]any{"assistant_id": "asst_sales", "credential_id": "cred_byo",
				"vapi_phone_number_id": "pn_vapi_1"}},
		{ID: id(3), Name: "Support (EU)", Type: "retell", URL: "sip:" + id(3) + "@sip.krosai.com", Status: "inactive",
			ProviderConfig: map[string]any{"agent_id": "agent_support", "retell_phone_number": "+14155550100"}},
		{ID: id(4), Name: "Concierge", Type: "elevenlabs", URL: "sip:" + id(4) + "@sip.krosai.com",
			ProviderConfig: map[string]any{"elevenlabs_agent_id": "el_agent_7"}},
		{ID: id(5), Name: "LiveKit Agent", Type: "livekit", URL: "sip:" + id(5) + "@sip.krosai.com",
			ProviderConfig: map[string]any{"livekit_agent_name": "inbound-agent", "livekit_sip_trunk_id": "ST_abc",
				"livekit_sip_uri": "sip:xyz.sip.livekit.cloud"}},
		{ID: id(6), Name: "Collections", Type: "vogent", URL: "sip:" + id(6) + "@sip.krosai.com",
			ProviderConfig: map[string]any{"vogent_agent_id": "vg_1", "vogent_sip_prefix": "kros",
				"vogent_sip_username": "kros-demo", "vogent_sip_password": sipPassword}},
		{ID: id(7), Name: "PBX Main", Type: "custom_sip", URL: "sip:agent@pbx.example.com",
			ProviderConfig: map[string]any{"sip_uri": "sip:agent@pbx.example.com", "username": "pbx user's",
				"password": sipPassword}},
		{ID: id(8), Name: "PBX Open", Type: "custom_sip", URL: "sip:open@pbx.example.com",
			ProviderConfig: map[string]any{"sip_uri": "sip:open@pbx.example.com"}},
		{ID: id(9), Name: "Errored", Type: "elevenlabs", URL: "sip:" + id(9) + "@sip.krosai.com", Status: "error",
			ProviderConfig: map[string]any{"elevenlabs_agent_id": "el_agent_9"}},
	}
}

// collisions are endpoints whose names make the same label, one that
// takes a suffix's place, one that makes no label at all and one too long
// for one.
func collisions() []krosaisim.Endpoint {
	el := func(n int, name string) krosaisim.Endpoint {
		return krosaisim.Endpoint{ID: id(n), Name: name, Type: "elevenlabs", URL: fmt.Sprintf("sip:%s@sip.krosai.com", id(n)),
			ProviderConfig: map[string]any{"elevenlabs_agent_id": fmt.Sprintf("el_%d", n)}}
	}
	return []krosaisim.Endpoint{
		el(23, "Sales Line"), // the same label as everyType's id(2), later id
		el(21, "sales-line!"),
		el(22, "Sales Line 2"), // sales-line-2: the first suffix is taken
		el(24, "日本語"),          // nothing left: "endpoint"
		el(25, strings.Repeat("Very Long Name ", 6)),
		el(26, strings.Repeat("Very Long Name ", 6)+"Again"),
	}
}
