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
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// claimants are KrosEndpoints in three namespaces that claim id(2) by
// annotation, id(3) by status and id(4) by an interrupted create's record,
// and one that names an endpoint KrosAI does not have.
func claimants() []client.Object {
	kep := func(ns, name string, annotations map[string]string, status cockpitv1alpha1.KrosEndpointStatus) client.Object {
		return &cockpitv1alpha1.KrosEndpoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
			Spec: cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs,
				ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: "x"}},
			Status: status,
		}
	}
	pending := mapping.PendingCreate{At: time.Date(2026, 11, 1, 11, 59, 0, 0, time.UTC), Name: "Concierge", Type: "elevenlabs"}
	return []client.Object{
		kep("team-a", "sales", map[string]string{cockpitv1alpha1.AnnotationEndpointID: id(2)}, cockpitv1alpha1.KrosEndpointStatus{}),
		kep("team-b", "support", nil, cockpitv1alpha1.KrosEndpointStatus{ID: id(3)}),
		kep("team-c", "concierge", map[string]string{cockpitv1alpha1.AnnotationCreatePending: pending.String()},
			cockpitv1alpha1.KrosEndpointStatus{}),
		kep("team-a", "ghost", map[string]string{cockpitv1alpha1.AnnotationEndpointID: id(99)}, cockpitv1alpha1.KrosEndpointStatus{}),
	}
}

func TestImportGolden(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		claimed  bool
		progress bool
	}{
		{"import", []string{"import"}, false, false},
		{"import-observe-only-prefix", []string{"import", "--observe-only", "--name-prefix", "acme-", "-n", "voice"}, false, false},
		{"import-json-vogent", []string{"import", "-o", "json", "--type", "vogent"}, false, false},
		{"import-skip-claimed", []string{"import", "--skip-claimed"}, true, false},
		{"import-progress", []string{"import", "--type", "webhook"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, append(everyType(), collisions()...)...)
			if tt.claimed {
				h.objects = append(h.objects, claimants()...)
			}
			h.progress = tt.progress
			stdout, stderr, code := h.run(tt.args...)
			g.Expect(code).To(Equal(0), stderr)
			expectNoSecrets(g, stdout, stderr)
			golden(t, tt.name+".out", stdout)
			golden(t, tt.name+".err", strings.ReplaceAll(stderr, h.sim.APIURL(), "SIM_API_URL"))
		})
	}
}

// TestImportIsClean: what import writes is exactly what a person applies:
// no status, no server-set or empty fields, names that are DNS labels,
// each endpoint once, in name order.
func TestImportIsClean(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, append(everyType(), collisions()...)...)
	stdout, stderr, code := h.run("import")
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(stdout).NotTo(ContainSubstring("status:"))
	g.Expect(stdout).NotTo(ContainSubstring("creationTimestamp"))
	g.Expect(stdout).NotTo(ContainSubstring("null"))
	g.Expect(stdout).NotTo(ContainSubstring("{}"))
	g.Expect(stdout).NotTo(ContainSubstring(`""`))

	docs := parseDocs(t, stdout)
	g.Expect(docs).To(HaveLen(len(everyType()) + len(collisions())))
	names, ids := make([]string, 0, len(docs)), make([]string, 0, len(docs))
	for _, d := range docs {
		g.Expect(d.Name).To(MatchRegexp(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`))
		names = append(names, d.Name)
		ids = append(ids, d.Annotations[cockpitv1alpha1.AnnotationEndpointID])
	}
	g.Expect(slices.IsSorted(names)).To(BeTrue(), "sorted by name: %v", names)
	g.Expect(slices.Compact(slices.Clone(names))).To(HaveLen(len(names)), "names are unique: %v", names)
	slices.Sort(ids)
	g.Expect(slices.Compact(ids)).To(HaveLen(len(docs)))
}

// parseDocs reads a multi-document YAML stream of KrosEndpoints back.
func parseDocs(t *testing.T, stream string) []cockpitv1alpha1.KrosEndpoint {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	var out []cockpitv1alpha1.KrosEndpoint
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var ep cockpitv1alpha1.KrosEndpoint
		if err := yaml.UnmarshalStrict(doc, &ep); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		if ep.APIVersion != "cockpit.krosai.com/v1alpha1" || ep.Kind != "KrosEndpoint" {
			t.Fatalf("not a KrosEndpoint:\n%s", doc)
		}
		out = append(out, ep)
	}
}

func TestBaseName(t *testing.T) {
	tests := []struct {
		prefix, display, want string
	}{
		{"", "Sales Line", "sales-line"},
		{"", "  --Support (EU)--  ", "support-eu"},
		{"", "a__b..c", "a-b-c"},
		{"", "Café Olé", "caf-ol"},
		{"", "日本語", "endpoint"},
		{"", "", "endpoint"},
		{"acme-", "", "acme-endpoint"},
		{"acme-", "Sales", "acme-sales"},
		{"", strings.Repeat("ab", 40), strings.Repeat("ab", 31) + "a"},
		{"", strings.Repeat("a", 62) + " b", strings.Repeat("a", 62)},
		{"x-", strings.Repeat("a", 70), "x-" + strings.Repeat("a", 61)},
	}
	for _, tt := range tests {
		t.Run(tt.display, func(t *testing.T) {
			NewWithT(t).Expect(baseName(tt.prefix, tt.display)).To(Equal(tt.want))
		})
	}
}

func TestEndpointNames(t *testing.T) {
	ep := func(id, name string) krosai.Endpoint { return krosai.Endpoint{ID: id, Name: name} }
	long := strings.Repeat("n", 63)
	tests := []struct {
		name      string
		endpoints []krosai.Endpoint
		want      map[string]string
	}{
		{"distinct names", []krosai.Endpoint{ep("b", "One"), ep("a", "Two")},
			map[string]string{"b": "one", "a": "two"}},
		{"the lowest id keeps the name", []krosai.Endpoint{ep("c", "Sales"), ep("a", "sales!"), ep("b", "SALES")},
			map[string]string{"a": "sales", "b": "sales-2", "c": "sales-3"}},
		{"a suffix skips another endpoint's name", []krosai.Endpoint{ep("a", "x"), ep("b", "x"), ep("c", "x 2")},
			map[string]string{"a": "x", "c": "x-2", "b": "x-3"}},
		{"a suffix fits in 63 characters", []krosai.Endpoint{ep("a", long), ep("b", long+"m")},
			map[string]string{"a": long, "b": long[:61] + "-2"}},
		{"nothing left of two names", []krosai.Endpoint{ep("b", "!!"), ep("a", "??")},
			map[string]string{"a": "endpoint", "b": "endpoint-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(endpointNames(tt.endpoints, "")).To(Equal(tt.want))
			reversed := slices.Clone(tt.endpoints)
			slices.Reverse(reversed)
			g.Expect(endpointNames(reversed, "")).To(Equal(tt.want), "the order of the list does not matter")
		})
	}
}

// roundTrip checks that the manifest import wrote for e maps back to a
// request whose readable fields are e's, and to e's status.
func roundTrip(g Gomega, ep cockpitv1alpha1.KrosEndpoint, e krosai.Endpoint) {
	req := mapping.Desired(&ep, mapping.SIPLogin{Username: "u", Password: "p"})
	g.ExpectWithOffset(1, mapping.ReadableOfRequest(req)).To(Equal(mapping.ReadableOfEndpoint(e)), "endpoint %s", e.ID)
	if e.Status != krosai.StatusError {
		g.ExpectWithOffset(1, mapping.DesiredStatus(&ep)).To(Equal(e.Status), "endpoint %s", e.ID)
	}
	g.ExpectWithOffset(1, ep.Spec.Enabled != nil && !*ep.Spec.Enabled).To(Equal(e.Status == krosai.StatusInactive))
}

// listed is what the API returns for the simulator's endpoints.
func listed(t *testing.T, h *harness) map[string]krosai.Endpoint {
	t.Helper()
	c, err := krosai.New(krosai.Config{BaseURL: h.sim.APIURL(), RateLimit: 1e6, Burst: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListEndpoints(t.Context(), krosai.Credentials{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]krosai.Endpoint{}
	for _, e := range list {
		out[e.ID] = e
	}
	return out
}

func TestImportRoundTrip(t *testing.T) {
	for _, e := range everyType() {
		t.Run(e.Type+" "+e.Name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, e)
			stdout, stderr, code := h.run("import")
			g.Expect(code).To(Equal(0), stderr)
			docs := parseDocs(t, stdout)
			g.Expect(docs).To(HaveLen(1))
			g.Expect(docs[0].Annotations).To(HaveKeyWithValue(cockpitv1alpha1.AnnotationEndpointID, e.ID))
			g.Expect(docs[0].Namespace).To(Equal(kubeNamespace))
			roundTrip(g, docs[0], listed(t, h)[e.ID])
		})
	}
}

// TestImportRoundTripProperty creates random valid endpoints through the
// API, which checks them against its contract, imports them all and maps
// each manifest back.
func TestImportRoundTripProperty(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	c, err := krosai.New(krosai.Config{BaseURL: h.sim.APIURL(), RateLimit: 1e6, Burst: 1 << 20})
	g.Expect(err).NotTo(HaveOccurred())
	rng := rand.New(rand.NewPCG(13, 2026))
	const n = 500
	for range n {
		req, inactive := randomEndpoint(rng)
		created, err := c.CreateEndpoint(t.Context(), krosai.Credentials{APIKey: testKey}, req)
		g.Expect(err).NotTo(HaveOccurred(), "%+v", req)
		if inactive {
			status := krosai.StatusInactive
			_, err := c.UpdateEndpoint(t.Context(), krosai.Credentials{APIKey: testKey}, created.ID,
				krosai.EndpointUpdate{Status: &status})
			g.Expect(err).NotTo(HaveOccurred())
		}
	}
	stdout, stderr, code := h.run("import")
	g.Expect(code).To(Equal(0), stderr)
	expectNoSecrets(g, stdout, stderr)
	docs := parseDocs(t, stdout)
	g.Expect(docs).To(HaveLen(n))
	endpoints := listed(t, h)
	names := map[string]bool{}
	for _, d := range docs {
		e, ok := endpoints[d.Annotations[cockpitv1alpha1.AnnotationEndpointID]]
		g.Expect(ok).To(BeTrue(), d.Name)
		roundTrip(g, d, e)
		g.Expect(validation.IsDNS1123Label(d.Name)).To(BeEmpty())
		g.Expect(names).NotTo(HaveKey(d.Name), "names are unique")
		names[d.Name] = true
	}
}

// randomEndpoint is a create request the API accepts, with names and
// values that trouble YAML and terminals: quotes, colons, comment signs,
// words YAML 1.1 reads as booleans or numbers, non-ASCII letters.
func randomEndpoint(rng *rand.Rand) (krosai.EndpointCreate, bool) {
	words := []string{"yes", "no", "on", "off", "null", "~", "true", "0x1F", "1e3", "007", "-", "---", "...",
		"a: b", "#tag", "'q'", `"dq"`, `back\slash`, "{x}", "[y]", "&anchor", "*ref", "!tag", "%", "@", "`",
		"Café", "日本", "Ünïcödé", "emoji😀", "  spaced  ", "tab\there", "line\nbreak", "Sales", "support-eu"}
	str := func(min int) string {
		var parts []string
		for i := 0; i < min || rng.IntN(3) > 0; i++ {
			parts = append(parts, words[rng.IntN(len(words))])
			if len(parts) == 6 {
				break
			}
		}
		return strings.Join(parts, []string{" ", "", "_", "/"}[rng.IntN(4)])
	}
	opt := func() string {
		if rng.IntN(2) == 0 {
			return ""
		}
		return str(1)
	}
	sipURI := func() string { return "sip:" + fmt.Sprintf("u%d@pbx%d.example.com", rng.IntN(1000), rng.IntN(10)) }
	req := krosai.EndpointCreate{Name: str(1), Type: endpointTypes[rng.IntN(len(endpointTypes))]}
	pc := &krosai.ProviderConfig{}
	switch req.Type {
	case krosai.TypeWebhook:
		req.URL = fmt.Sprintf("https://hooks%d.example.com/p/%d?q=%d", rng.IntN(10), rng.IntN(1000), rng.IntN(9))
		pc = nil
	case krosai.TypeVapi:
		pc.AssistantID, pc.CredentialID, pc.VapiPhoneNumberID = str(1), opt(), opt()
	case krosai.TypeRetell:
		pc.AgentID = str(1)
		if rng.IntN(2) == 0 {
			pc.RetellPhoneNumber = fmt.Sprintf("+1415555%04d", rng.IntN(10000))
		}
	case krosai.TypeElevenLabs:
		pc.ElevenLabsAgentID = str(1)
	case krosai.TypeLiveKit:
		pc.LiveKitAgentName, pc.LiveKitSIPTrunkID, pc.LiveKitSIPURI = opt(), str(1), sipURI()
	case krosai.TypeVogent:
		pc.VogentAgentID, pc.VogentSIPPrefix, pc.VogentSIPUsername, pc.VogentSIPPassword = opt(), str(1), str(1), sipPassword
	case krosai.TypeCustomSIP:
		req.URL = sipURI()
		pc.SIPURI = req.URL
		if rng.IntN(2) == 0 {
			pc.Username, pc.Password = str(1), sipPassword
		}
	}
	req.ProviderConfig = pc
	if len([]rune(req.Name)) > 100 {
		req.Name = string([]rune(req.Name)[:100])
	}
	return req, rng.IntN(4) == 0
}

// TestImportAPIErrors: a refused key is one line that names where the key
// came from; an outage says what failed. Neither shows the key.
func TestImportAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*harness)
		args   []string
		stderr string
	}{
		{"the Secret's key is refused",
			func(h *harness) {
				h.objects = []client.Object{credentialsSecret(map[string][]byte{"apiKey": []byte(testKey + "-revoked")})}
			},
			[]string{"import"},
			"error: KrosAI refused the API key from Secret kros-operator-system/krosai-credentials (401 Unauthorized)\n"},
		{"the environment's key is refused",
			func(h *harness) { h.env[envAPIKey] = testKey + "-other" },
			[]string{"unclaimed"},
			"error: KrosAI refused the API key from $KROSAI_API_KEY (401 Unauthorized)\n"},
		{"the key may not act in the organization",
			func(*harness) {},
			[]string{"import", "--organization", "11111111-2222-4333-8444-555555555555"},
			"error: KrosAI refused the API key from Secret kros-operator-system/krosai-credentials for organization " +
				"11111111-2222-4333-8444-555555555555 (403 Forbidden, ORGANIZATION_FORBIDDEN)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, everyType()...)
			tt.setup(h)
			stdout, stderr, code := h.run(tt.args...)
			g.Expect(code).To(Equal(1))
			g.Expect(stdout).To(BeEmpty())
			g.Expect(stderr).To(Equal(tt.stderr))
			expectNoSecrets(g, stdout, stderr)
		})
	}
}

// TestImportReadsOnly: import and unclaimed list endpoints with GETs and
// make no write to the cluster.
func TestImportReadsOnly(t *testing.T) {
	for _, args := range [][]string{{"import"}, {"import", "--skip-claimed"}, {"unclaimed"}, {"unclaimed", "-o", "yaml"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, everyType()...)
			h.objects = append(h.objects, claimants()...)
			_, stderr, code := h.run(args...)
			g.Expect(code).To(Equal(0), stderr)
			g.Expect(h.writes.Load()).To(BeZero())
			requests := h.sim.Requests()
			g.Expect(requests).NotTo(BeEmpty())
			for _, r := range requests {
				g.Expect(r.Method).To(Equal(http.MethodGet), "%+v", r)
			}
		})
	}
}

// TestImportWithoutCluster: with the key from the environment, import
// needs no cluster at all.
func TestImportWithoutCluster(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, everyType()[:2]...)
	h.env[envAPIKey] = testKey + "\r\n"
	h.kubeconfig = "/nonexistent/kubeconfig"
	stdout, stderr, code := h.run("import", "-n", "ns1")
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(bytes.Count([]byte(stdout), []byte("namespace: ns1"))).To(Equal(2))
}

// TestImportLeavesOutUnknownTypes: an endpoint of a type newer than the
// CRD gets no manifest the API server would refuse, but a warning; the
// unclaimed table still lists it.
func TestImportLeavesOutUnknownTypes(t *testing.T) {
	g := NewWithT(t)
	future := krosaisim.Endpoint{ID: id(50), Name: "Future", Type: "hologram", URL: "sip:" + id(50) + "@sip.krosai.com"}
	h := newHarness(t, everyType()[0], future)
	stdout, stderr, code := h.run("import")
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(parseDocs(t, stdout)).To(HaveLen(1))
	g.Expect(stderr).To(Equal("Warning: endpoint " + id(50) + " is left out: KrosEndpoint has no type \"hologram\"\n"))

	stdout, _, code = h.run("unclaimed")
	g.Expect(code).To(Equal(0))
	g.Expect(stdout).To(ContainSubstring(id(50)))
}

// TestImportPinsANamedOrganization: endpoints imported from an organization
// named on the command line stay there once applied, whatever organization
// the operator's default credentials reach; without the flag the spec
// names none, as a hand-written manifest would.
func TestImportPinsANamedOrganization(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, everyType()[:2]...)
	stdout, stderr, code := h.run("import", "--organization", testOrg)
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(strings.Count(stdout, "organizationID: "+testOrg)).To(Equal(2))

	stdout, stderr, code = h.run("import")
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(stdout).NotTo(ContainSubstring("organizationID"))
}
