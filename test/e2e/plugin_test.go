//go:build e2e

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

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/plan"
	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/harness"
)

// pluginUser is the identity bin/kubectl-krosai runs as: the audit policy
// records every request of this user, and no other's, so that what the
// plugin did to the cluster can be counted apart from the manager, kubectl
// and the test.
const pluginUser = "e2e-kubectl-krosai"

var pluginAuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + pluginUser + `"]
- level: None
`

const (
	// pluginOrg is an organization of the suite's API key of its own, so
	// that the specs sharing org neither see these endpoints nor add theirs.
	pluginOrg = "9b2f4c6d-8e0a-4b1c-9d2e-3f4a5b6c7d8e"
	pluginNS  = "brownfield"
	prefix    = "bf-"
)

// seed is an endpoint made in KrosAI before the operator knows of it, as
// in the dashboard.
type seed struct {
	create krosai.EndpointCreate
	// inactive is switched off after creation, as a person would.
	inactive bool
	// leftOut is not applied after import: unclaimed must list it.
	leftOut bool
	// password is the SIP password of vogent and credentialed custom_sip
	// endpoints, which KrosAI never returns.
	password string

	id string
}

func seeds() []*seed {
	pc := func(p krosai.ProviderConfig) *krosai.ProviderConfig { return &p }
	e := func(name, typ, url string, p *krosai.ProviderConfig) krosai.EndpointCreate {
		return krosai.EndpointCreate{Name: name, Type: typ, URL: url, ProviderConfig: p}
	}
	return []*seed{
		{create: e("Call events", krosai.TypeWebhook, "https://hooks.example.com/calls", nil)},
		{create: e("Call events (staging)", krosai.TypeWebhook, "https://hooks.example.com/staging", nil), inactive: true},
		{create: e("Billing events", krosai.TypeWebhook, "https://hooks.example.com/billing", nil), leftOut: true},
		// Two endpoints with the same display name.
		{create: e("Sales line", krosai.TypeVapi, "", pc(krosai.ProviderConfig{AssistantID: "asst-sales-1"}))},
		{create: e("Sales line", krosai.TypeVapi, "", pc(krosai.ProviderConfig{AssistantID: "asst-sales-2"}))},
		{create: e("Vapi support", krosai.TypeVapi, "", pc(krosai.ProviderConfig{AssistantID: "asst-support",
			CredentialID: "byo-trunk"})), inactive: true},
		{create: e("Booking", krosai.TypeRetell, "", pc(krosai.ProviderConfig{AgentID: "agent_booking",
			RetellPhoneNumber: "+14155550100"}))},
		{create: e("Booking backup", krosai.TypeRetell, "", pc(krosai.ProviderConfig{AgentID: "agent_backup"})),
			inactive: true},
		{create: e("Retell outbound", krosai.TypeRetell, "", pc(krosai.ProviderConfig{AgentID: "agent_outbound"}))},
		{create: e("Concierge", krosai.TypeElevenLabs, "", pc(krosai.ProviderConfig{ElevenLabsAgentID: "el-concierge"}))},
		{create: e("Concierge EU", krosai.TypeElevenLabs, "",
			pc(krosai.ProviderConfig{ElevenLabsAgentID: "el-concierge-eu"}))},
		{create: e("Front desk", krosai.TypeElevenLabs, "", pc(krosai.ProviderConfig{ElevenLabsAgentID: "el-frontdesk"})),
			inactive: true},
		{create: e("Triage", krosai.TypeLiveKit, "", pc(krosai.ProviderConfig{LiveKitAgentName: "triage",
			LiveKitSIPTrunkID: "ST_triage", LiveKitSIPURI: "sip:triage.sip.livekit.cloud"}))},
		{create: e("Triage night", krosai.TypeLiveKit, "", pc(krosai.ProviderConfig{LiveKitSIPTrunkID: "ST_night",
			LiveKitSIPURI: "sip:night.sip.livekit.cloud"}))},
		{create: e("Lab", krosai.TypeLiveKit, "", pc(krosai.ProviderConfig{LiveKitSIPTrunkID: "ST_lab",
			LiveKitSIPURI: "sip:lab.sip.livekit.cloud"})), leftOut: true},
		{create: e("Collections", krosai.TypeVogent, "", pc(krosai.ProviderConfig{VogentAgentID: "vogent-42",
			VogentSIPPrefix: "collections", VogentSIPUsername: "collections-user", VogentSIPPassword: "vogent-pw-1"})),
			password: "vogent-pw-1"},
		{create: e("Renewals", krosai.TypeVogent, "", pc(krosai.ProviderConfig{VogentSIPPrefix: "renewals",
			VogentSIPUsername: "renewals-user", VogentSIPPassword: "vogent-pw-2"})), inactive: true, password: "vogent-pw-2"},
		{create: e("Office PBX", krosai.TypeCustomSIP, "sips:reception@pbx.example.com", pc(krosai.ProviderConfig{
			SIPURI: "sips:reception@pbx.example.com", Username: "pbx-user", Password: "pbx-pw-1"})), password: "pbx-pw-1"},
		{create: e("Branch PBX", krosai.TypeCustomSIP, "sip:branch@pbx.example.com", pc(krosai.ProviderConfig{
			SIPURI: "sip:branch@pbx.example.com", Username: "branch-user", Password: "pbx-pw-2"})), password: "pbx-pw-2"},
		{create: e("Lobby phone", krosai.TypeCustomSIP, "sip:lobby@pbx.example.com",
			pc(krosai.ProviderConfig{SIPURI: "sip:lobby@pbx.example.com"}))},
		{create: e("Overflow", krosai.TypeCustomSIP, "sip:overflow@pbx.example.com",
			pc(krosai.ProviderConfig{SIPURI: "sip:overflow@pbx.example.com"})), leftOut: true},
	}
}

// pluginResult is one run of bin/kubectl-krosai.
type pluginResult struct {
	stdout, stderr string
	code           int
}

// readOnlyRun runs bin/kubectl-krosai as pluginUser against the simulator
// and checks that the run wrote nothing, to the cluster or to KrosAI.
//
// The cluster: kube-apiserver's audit log records every request of
// pluginUser (and only theirs; BeforeAll proves a write of theirs is
// counted); after the run, a fence request of the same user is awaited in
// the log, then the user's writes must be as many as before. KrosAI: the
// simulator's request log between the run's start and end must hold no
// POST, PATCH or DELETE in the organization (the manager reconciles it
// too, but at rest writes nothing). It returns the result and how many
// requests the run made to each, for callers that expect it to have read.
func readOnlyRun(stdin string, args ...string) (r pluginResult, kubeReads, apiReads int) {
	GinkgoHelper()
	writesBefore, readsBefore := pluginAudit()
	start := time.Now()
	r = runPlugin(stdin, args...)
	end := time.Now()
	fenceAudit()
	writesAfter, readsAfter := pluginAudit()
	Expect(writesAfter).To(Equal(writesBefore), "kubectl krosai %s wrote to the cluster", strings.Join(args, " "))

	var writes []string
	for _, rec := range simRequests(pluginOrg, start, end) {
		if rec.Method != http.MethodGet {
			writes = append(writes, rec.Method+" "+rec.Path)
			continue
		}
		apiReads++
	}
	Expect(writes).To(BeEmpty(), "KrosAI writes during kubectl krosai %s", strings.Join(args, " "))
	return r, readsAfter - readsBefore - 1, apiReads // the fence is a read
}

// runPlugin runs bin/kubectl-krosai as pluginUser with the simulator as
// KrosAI; no API key comes from the environment.
func runPlugin(stdin string, args ...string) pluginResult {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "bin", "kubectl-krosai"),
		append(args, "--krosai-api-url", sim.APIURL())...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "KROSAI_API_KEY=") || strings.HasPrefix(kv, "KUBECONFIG=")
	})
	cmd.Env = append(cmd.Env, "KUBECONFIG="+pluginKubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := pluginResult{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		r.code = exit.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	GinkgoWriter.Printf("$ kubectl krosai %s\nexit %d\n%s%s",
		strings.Join(args, " "), r.code, head(r.stdout, 30), r.stderr)
	return r
}

// head is the first n lines of s, and how many more there are.
func head(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n+1 {
		return s
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("[... %d more lines]\n", len(lines)-n-1)
}

// pluginKubeconfig authenticates as pluginUser.
var pluginKubeconfig string

// pluginAudit counts pluginUser's completed requests in the audit log.
func pluginAudit() (writes, reads int) {
	GinkgoHelper()
	events, err := cp.AuditEvents()
	Expect(err).NotTo(HaveOccurred())
	for _, e := range events {
		if e.User.Username != pluginUser || e.Stage != "ResponseComplete" {
			continue
		}
		if e.IsWrite() {
			writes++
		} else {
			reads++
		}
	}
	return writes, reads
}

var fences int

// fenceAudit makes a read as pluginUser and waits for it in the audit log:
// every request the plugin completed before is logged by then.
func fenceAudit() {
	GinkgoHelper()
	fences++
	name := fmt.Sprintf("audit-fence-%d", fences)
	_, _ = cp.Kubectl(ctx, "--kubeconfig", pluginKubeconfig, "get", "configmap", "-n", pluginNS, name)
	Eventually(func() bool {
		events, err := cp.AuditEvents()
		Expect(err).NotTo(HaveOccurred())
		return slices.ContainsFunc(events, func(e harness.AuditEvent) bool {
			return e.Stage == "ResponseComplete" && e.ObjectRef != nil && e.ObjectRef.Name == name
		})
	}).WithTimeout(10 * time.Second).Should(BeTrue())
}

// simRequests returns the API requests in org that the simulator received
// between from and to.
func simRequests(org string, from, to time.Time) []krosaisim.RequestRecord {
	GinkgoHelper()
	recs, err := sim.Admin().Requests(ctx, 0)
	Expect(err).NotTo(HaveOccurred())
	// krosai-sim keeps the last 1000: they must reach back before from.
	Expect(len(recs) < 1000 || recs[0].Time.Before(from)).To(BeTrue(), "the request log lost requests since %s", from)
	var out []krosaisim.RequestRecord
	for _, r := range recs {
		if r.Org == org && !r.Time.Before(from) && !r.Time.After(to) {
			out = append(out, r)
		}
	}
	return out
}

// documents splits a YAML stream into objects.
func documents(stream string) []*unstructured.Unstructured {
	GinkgoHelper()
	objs, err := harness.DecodeYAML([]byte(stream))
	Expect(err).NotTo(HaveOccurred())
	return objs
}

// stream joins objects into a YAML stream.
func stream(objs []*unstructured.Unstructured) string {
	GinkgoHelper()
	var b strings.Builder
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		Expect(err).NotTo(HaveOccurred())
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.String()
}

// errorLine checks that a failed run printed exactly one line, the error.
func errorLine(r pluginResult) string {
	GinkgoHelper()
	Expect(r.code).To(Equal(1), r.stderr)
	Expect(r.stdout).To(BeEmpty())
	Expect(strings.Count(r.stderr, "\n")).To(Equal(1), "one line: %q", r.stderr)
	Expect(r.stderr).To(HavePrefix("error: "))
	return r.stderr
}

var _ = Describe("kubectl krosai", Ordered, func() {
	var (
		all      []*seed
		byID     map[string]*seed
		imported map[string]*unstructured.Unstructured // by endpoint id, as import printed it
		leftOut  []string
		sipIDs   []string
	)

	BeforeAll(func() {
		runLeadingManager()

		By("giving the suite's API key a second organization, and the plugin an identity of its own")
		Expect(sim.Admin().AddKey(ctx, apiKey, pluginOrg)).To(Succeed())
		kubectl("create", "namespace", pluginNS)
		var err error
		pluginKubeconfig, err = cp.Kubeconfig(pluginUser)
		Expect(err).NotTo(HaveOccurred())
		// cluster-admin: whatever the plugin tried to write would succeed,
		// and show in the audit log.
		kubectl("create", "clusterrolebinding", pluginUser, "--clusterrole=cluster-admin", "--user="+pluginUser)

		By("proving that a write of the plugin's identity is counted")
		fenceAudit()
		writes, _ := pluginAudit()
		kubectl("--kubeconfig", pluginKubeconfig, "create", "configmap", "-n", pluginNS, "counted-write")
		fenceAudit()
		writesAfter, _ := pluginAudit()
		Expect(writesAfter).To(Equal(writes+1), "the audit log counts pluginUser's writes")

		By("creating 21 endpoints of every type in KrosAI, through its API, as a dashboard would")
		api, err := krosai.New(krosai.Config{BaseURL: sim.APIURL(), UserAgent: "e2e-dashboard", RateLimit: 50, Burst: 50})
		Expect(err).NotTo(HaveOccurred())
		cred := krosai.Credentials{APIKey: apiKey, OrganizationID: pluginOrg}
		start := time.Now()
		all, byID = seeds(), map[string]*seed{}
		inactive := krosai.StatusInactive
		for _, s := range all {
			e, err := api.CreateEndpoint(ctx, cred, s.create)
			Expect(err).NotTo(HaveOccurred(), s.create.Name)
			s.id = e.ID
			byID[s.id] = s
			if s.inactive {
				_, err := api.UpdateEndpoint(ctx, cred, s.id, krosai.EndpointUpdate{Status: &inactive})
				Expect(err).NotTo(HaveOccurred())
			}
			if s.leftOut {
				leftOut = append(leftOut, s.id)
			} else if s.password != "" {
				sipIDs = append(sipIDs, s.id)
			}
		}
		Expect(all).To(HaveLen(21))
		Expect(leftOut).To(HaveLen(3))
		Expect(sipIDs).To(HaveLen(4))
		posts := 0
		for _, r := range simRequests(pluginOrg, start, time.Now()) {
			if r.Method == http.MethodPost {
				posts++
			}
		}
		Expect(posts).To(Equal(21), "the simulator's request log counts writes in the organization")
	})

	It("imports 18 endpoints as ObserveOnly through kubectl apply, and they become Ready without drift", func() {
		r, kubeReads, apiReads := readOnlyRun("", "import", "--observe-only", "-n", pluginNS, "--name-prefix", prefix,
			"--organization", pluginOrg)
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(kubeReads).To(BeNumerically(">", 0), "the plugin read the credentials Secret as pluginUser")
		Expect(apiReads).To(BeNumerically(">", 0), "the plugin listed the organization's endpoints")

		docs := documents(r.stdout)
		Expect(docs).To(HaveLen(21))
		imported = map[string]*unstructured.Unstructured{}
		names := map[string]bool{}
		for _, d := range docs {
			id := d.GetAnnotations()[cockpitv1alpha1.AnnotationEndpointID]
			Expect(byID).To(HaveKey(id))
			imported[id] = d
			names[d.GetName()] = true
			Expect(d.GetName()).To(HavePrefix(prefix))
			Expect(d.GetNamespace()).To(Equal(pluginNS))
			policy, _, _ := unstructured.NestedString(d.Object, "spec", "managementPolicy")
			Expect(policy).To(Equal("ObserveOnly"))
			// The endpoints live in pluginOrg, which the operator's default
			// credentials reach only when a spec names it.
			org, _, _ := unstructured.NestedString(d.Object, "spec", "organizationID")
			Expect(org).To(Equal(pluginOrg), "--organization is pinned in the spec")
		}
		Expect(names).To(HaveLen(21), "the two endpoints named alike get two names")
		Expect(names).To(HaveKey(prefix + "sales-line"))
		Expect(names).To(HaveKey(prefix + "sales-line-2"))

		By("applying all but 3 with kubectl apply -f -")
		var apply []*unstructured.Unstructured
		for _, s := range all {
			if s.leftOut {
				continue
			}
			apply = append(apply, imported[s.id])
		}
		Expect(apply).To(HaveLen(18))
		out, err := cp.KubectlInput(ctx, stream(apply), "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(out, " created")).To(Equal(18), out)

		By("creating the SIP credential Secrets the hints on stderr ask for")
		var hints []string
		for line := range strings.Lines(r.stderr) {
			if strings.HasPrefix(line, "kubectl create secret generic ") {
				hints = append(hints, strings.TrimSpace(line))
			}
		}
		var withCredentials []string
		for _, s := range all {
			if s.password != "" {
				withCredentials = append(withCredentials, imported[s.id].GetName())
			}
		}
		Expect(hints).To(HaveLen(len(withCredentials)), r.stderr)
		for _, h := range hints {
			args := strings.Fields(h)[1:]
			name := args[3]
			Expect(name).To(HaveSuffix("-sip"))
			s := byID[idOfName(imported, strings.TrimSuffix(name, "-sip"))]
			Expect(s.password).NotTo(BeEmpty(), h)
			Expect(args).To(ContainElement("--from-literal=password=PASSWORD"), "a placeholder, never a value")
			user := s.create.ProviderConfig.Username + s.create.ProviderConfig.VogentSIPUsername
			Expect(args).To(ContainElement("--from-literal=username="+user), "KrosAI returns the username")
			if s.leftOut {
				continue
			}
			args[slices.Index(args, "--from-literal=password=PASSWORD")] = "--from-literal=password=" + s.password
			kubectl(args...)
		}

		By("waiting until every resource is Ready and in sync")
		kubectl("wait", "-n", pluginNS, "--for=condition=Ready", "krosendpoints", "--all", "--timeout=120s")
		Eventually(func(g Gomega) {
			var list cockpitv1alpha1.KrosEndpointList
			g.Expect(cp.Admin.List(ctx, &list, client.InNamespace(pluginNS))).To(Succeed())
			g.Expect(list.Items).To(HaveLen(18))
			for _, ep := range list.Items {
				g.Expect(ep.Status.ObservedGeneration).To(Equal(ep.Generation), ep.Name)
				g.Expect(ep.Status.Conditions).To(ContainElement(And(
					HaveField("Type", cockpitv1alpha1.ConditionSynced), HaveField("Status", BeEquivalentTo("True")))), ep.Name)
				// SIP credentials cannot be read back: under ObserveOnly they
				// stay listed, without values, and do not unsync.
				for _, d := range ep.Status.Drift {
					g.Expect(d.WriteOnly).To(BeTrue(), "%s: %s differs", ep.Name, d.Field)
					g.Expect(slices.Contains(sipIDs, ep.Annotations[cockpitv1alpha1.AnnotationEndpointID])).To(BeTrue())
				}
				if !slices.Contains(sipIDs, ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]) {
					g.Expect(ep.Status.Drift).To(BeEmpty(), ep.Name)
				}
			}
		}).WithTimeout(60 * time.Second).Should(Succeed())

		By("plan -A: nothing would change")
		started := time.Now()
		r, _, _ = readOnlyRun("", "plan", "-A", "-o", "json")
		took := time.Since(started)
		Expect(r.code).To(Equal(0), r.stdout+r.stderr)
		p := decodePlan(r.stdout)
		AddReportEntry("kubectl krosai plan -A", fmt.Sprintf(
			"%d resources in %d namespaces planned in %s (audit fence included)",
			len(p.Items), len(namespacesOf(p)), took.Round(100*time.Millisecond)))
		Expect(p.Items).To(HaveEach(HaveField("Action", Not(BeEmpty()))))
		Expect(slices.DeleteFunc(slices.Clone(p.Items), func(s plan.Step) bool { return s.Namespace != pluginNS })).
			To(HaveLen(18), "-A plans every namespace, this one's 18 resources included")
		for _, s := range p.Items {
			Expect(s.Action).To(Equal(plan.ActionNone), "%s/%s: %s", s.Namespace, s.Name, s.Message)
		}
	})

	It("switches them to Full with one PATCH per SIP-credentialed endpoint, and none for the others", func() {
		start := time.Now()
		for _, s := range all {
			if s.leftOut {
				continue
			}
			kubectl("patch", "-n", pluginNS, "krosendpoint", imported[s.id].GetName(), "--type=merge",
				"-p", `{"spec":{"managementPolicy":"Full"}}`)
		}
		Eventually(func(g Gomega) {
			var list cockpitv1alpha1.KrosEndpointList
			g.Expect(cp.Admin.List(ctx, &list, client.InNamespace(pluginNS))).To(Succeed())
			for _, ep := range list.Items {
				g.Expect(ep.Spec.ManagementPolicy).To(Equal(cockpitv1alpha1.ManagementPolicyFull))
				g.Expect(ep.Status.ObservedGeneration).To(Equal(ep.Generation), ep.Name)
				g.Expect(ep.Status.Drift).To(BeEmpty(), ep.Name)
				g.Expect(ep.Status.Conditions).To(ContainElement(And(
					HaveField("Type", cockpitv1alpha1.ConditionReady), HaveField("Status", BeEquivalentTo("True")))), ep.Name)
			}
		}).WithTimeout(60 * time.Second).Should(Succeed())
		patched := func() []string {
			var ids []string
			for _, r := range simRequests(pluginOrg, start, time.Now()) {
				switch r.Method {
				case http.MethodGet:
				case http.MethodPatch:
					ids = append(ids, r.EndpointID)
				default:
					ids = append(ids, r.Method+" "+r.Path)
				}
			}
			return ids
		}
		Expect(patched()).To(ConsistOf(sipIDs), "exactly the credentials, pushed once")
		Consistently(patched).WithTimeout(5*time.Second).Should(ConsistOf(sipIDs), "and nothing else afterwards")

		By("plan -A: nothing would change")
		r, _, _ := readOnlyRun("", "plan", "-A")
		Expect(r.code).To(Equal(0), r.stdout+r.stderr)
	})

	It("lists exactly the 3 endpoints left out as unclaimed", func() {
		r, _, apiReads := readOnlyRun("", "unclaimed", "--organization", pluginOrg)
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(apiReads).To(BeNumerically(">", 0))
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		Expect(strings.Fields(lines[0])).To(HaveExactElements("ID", "TYPE", "STATUS", "NAME", "URL"))
		ids := make([]string, 0, len(lines)-1)
		for _, l := range lines[1:] {
			ids = append(ids, strings.Fields(l)[0])
		}
		Expect(ids).To(ConsistOf(leftOut))

		By("import --skip-claimed offers the same 3")
		r, _, _ = readOnlyRun("", "import", "--skip-claimed", "--organization", pluginOrg, "-n", pluginNS)
		Expect(r.code).To(Equal(0), r.stderr)
		docs := documents(r.stdout)
		ids = make([]string, 0, len(docs))
		for _, d := range docs {
			ids = append(ids, d.GetAnnotations()[cockpitv1alpha1.AnnotationEndpointID])
		}
		Expect(ids).To(ConsistOf(leftOut))
	})

	It("plans exactly the two fields an edited manifest changes, and exits 2", func() {
		var booking *seed
		for _, s := range all {
			if s.create.Name == "Booking" {
				booking = s
			}
		}
		edited := imported[booking.id].DeepCopy()
		Expect(unstructured.SetNestedField(edited.Object, "Full", "spec", "managementPolicy")).To(Succeed())
		Expect(unstructured.SetNestedField(edited.Object, "Booking (v2)", "spec", "displayName")).To(Succeed())
		Expect(unstructured.SetNestedField(edited.Object, "agent_booking_v2", "spec", "retell", "agentID")).To(Succeed())
		path := filepath.Join(cp.Dir, "edited.yaml")
		Expect(os.WriteFile(path, []byte(stream([]*unstructured.Unstructured{edited})), 0o600)).To(Succeed())

		r, kubeReads, _ := readOnlyRun("", "plan", "-f", path, "-o", "json")
		Expect(r.code).To(Equal(2), r.stderr)
		Expect(kubeReads).To(BeNumerically(">", 0))
		p := decodePlan(r.stdout)
		Expect(p.Items).To(HaveLen(1))
		step := p.Items[0]
		Expect(step.Namespace).To(Equal(pluginNS))
		Expect(step.Name).To(Equal(edited.GetName()))
		Expect(step.Action).To(Equal(plan.ActionUpdate))
		Expect(step.EndpointID).To(Equal(booking.id))
		Expect(step.Changes).To(ConsistOf(
			plan.Change{Field: "name", SpecField: "spec.displayName", Old: "Booking", New: "Booking (v2)"},
			plan.Change{Field: "provider_config.agent_id", SpecField: "spec.retell.agentID",
				Old: "agent_booking", New: "agent_booking_v2"},
		))

		By("the table says the same, for the manifest on stdin")
		manifest, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		r, _, _ = readOnlyRun(string(manifest), "plan", "-f", "-")
		Expect(r.code).To(Equal(2), r.stderr)
		var changed []string
		for line := range strings.Lines(r.stdout) {
			if field, _, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && strings.HasPrefix(field, "~ ") {
				changed = append(changed, strings.TrimPrefix(field, "~ "))
			}
		}
		Expect(changed).To(ConsistOf("name", "provider_config.agent_id"), r.stdout)
	})

	It("fails with exit 1 and one error line on bad input, writing nothing", func() {
		By("a file of another kind")
		path := filepath.Join(cp.Dir, "configmap.yaml")
		Expect(os.WriteFile(path, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: "+
			pluginNS+"\ndata:\n  a: b\n"), 0o600)).To(Succeed())
		r, _, _ := readOnlyRun("", "plan", "-f", path)
		Expect(errorLine(r)).To(ContainSubstring("ConfigMap"))

		By("credentials that do not exist")
		r, _, _ = readOnlyRun("", "unclaimed", "--credentials-secret", pluginNS+"/no-such-secret")
		Expect(errorLine(r)).To(ContainSubstring("no-such-secret"))
	})
})

// idOfName returns the endpoint id of the imported manifest named name.
func idOfName(imported map[string]*unstructured.Unstructured, name string) string {
	for id, d := range imported {
		if d.GetName() == name {
			return id
		}
	}
	Fail("no imported manifest is named " + name)
	return ""
}

// decodePlan reads plan -o json, checking its kind.
func decodePlan(out string) plan.Plan {
	GinkgoHelper()
	var p plan.Plan
	Expect(json.Unmarshal([]byte(out), &p)).To(Succeed(), out)
	Expect(p.APIVersion).To(Equal("cockpit.krosai.com/plan/v1alpha1"))
	Expect(p.Kind).To(Equal("Plan"))
	return p
}

// namespacesOf is the set of namespaces a plan covers.
func namespacesOf(p plan.Plan) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Items {
		out[s.Namespace] = true
	}
	return out
}
