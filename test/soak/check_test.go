//go:build soak

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

package soak

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// The invariants, as reported.
const (
	invReady       = "ready-for-generation"
	invOneRemote   = "exactly-one-remote"
	invMatches     = "remote-matches-spec"
	invSIP         = "sip-credentials-match-secret"
	invHonest      = "honest-status"
	invLeftBehind  = "nothing-left-behind"
	invStuck       = "no-stuck-deletion"
	invSecretsLeak = "secrets-never-leak"
	inv429         = "429-share"
	invUp          = "processes-stay-up"
	invMisrouted   = "never-another-resources-spec"
	invOutnumbered = "remotes-never-outnumber-owners"
	invObserveOnly = "observe-only-never-writes"
	invQuiet       = "no-write-at-rest"
	invBudget      = "budget-never-exceeded"
	invTenants     = "tenants-reach-only-their-own"
)

var invariants = []string{invReady, invOneRemote, invMatches, invSIP, invHonest, invLeftBehind, invStuck,
	invSecretsLeak, inv429, invUp, invMisrouted, invOutnumbered, invObserveOnly, invQuiet, invBudget, invTenants}

// violation is one broken invariant, about a resource or a remote endpoint.
type violation struct {
	invariant string
	key       string   // "ns/name" of the resource concerned, if any
	ids       []string // remote endpoint ids concerned
	detail    string
}

// settle turns the faults off, unpauses everything, and waits, bounded, for
// every resource to be Ready with its remote endpoint matching and every
// deletion done. It returns how long that took and what is still wrong.
func (s *soak) settle() (time.Duration, []violation) {
	ctx := s.ctx
	start := time.Now()
	if err := s.settleFaults(ctx); err != nil {
		s.t.Fatalf("turning the faults off: %v", err)
	}
	s.log.add("settle", "", "faults off, unpausing everything")
	var last []violation
	var lastText string
	var stableSince time.Time
	for time.Since(start) < settleTimeout {
		s.watchProcesses()
		s.unpauseAll(ctx)
		s.finishMoves(ctx)
		v, err := s.check(ctx)
		if err == nil {
			last = v
			if len(v) == 0 {
				return time.Since(start), nil
			}
			// Endpoints left behind stay so: once every resource is Ready
			// and no deletion is pending, what is still wrong and unchanged
			// for several sync periods will not change.
			if text := fmt.Sprint(v); text != lastText {
				lastText, stableSince = text, time.Now()
			}
			if allSettled(v) && time.Since(stableSince) > settleStable {
				break
			}
		}
		time.Sleep(3 * time.Second)
	}
	return time.Since(start), last
}

// settleStable is how long the violations of a settled system must stay the
// same for the settle to stop waiting: over four sync periods.
const settleStable = 45 * time.Second

// allSettled reports that the operator considers everything done: every
// resource Ready and every deletion finished.
func allSettled(v []violation) bool {
	for _, x := range v {
		if x.invariant == invReady || x.invariant == invStuck {
			return false
		}
	}
	return true
}

func (s *soak) unpauseAll(ctx context.Context) {
	var list cockpitv1alpha1.KrosEndpointList
	if err := s.cl.Admin.List(ctx, &list); err != nil {
		return
	}
	for i := range list.Items {
		ep := &list.Items[i]
		if _, paused := ep.Annotations[cockpitv1alpha1.AnnotationPaused]; !paused {
			continue
		}
		orig := ep.DeepCopy()
		delete(ep.Annotations, cockpitv1alpha1.AnnotationPaused)
		if err := s.cl.Admin.Patch(ctx, ep, client.MergeFrom(orig)); err == nil {
			s.log.add("unpause", ep.Namespace+"/"+ep.Name, "settle")
		}
	}
}

// finishMoves deletes the resources a move to another organization left
// behind, when a fault stopped the driver before it could.
func (s *soak) finishMoves(ctx context.Context) {
	for _, r := range s.res {
		if r.moving {
			_ = s.finishMove(ctx, r)
		}
	}
}

// check compares the cluster with the simulator's endpoints.
func (s *soak) check(ctx context.Context) ([]violation, error) {
	var keps cockpitv1alpha1.KrosEndpointList
	var nss corev1.NamespaceList
	var secrets corev1.SecretList
	for _, l := range []client.ObjectList{&keps, &nss, &secrets} {
		if err := s.cl.Admin.List(ctx, l); err != nil {
			return nil, err
		}
	}
	byOrg, err := s.sim.admin.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	remotes := map[string]krosaisim.Endpoint{}
	for _, group := range byOrg {
		for _, e := range group {
			remotes[e.ID] = e
		}
	}
	secretOf := map[string]*corev1.Secret{}
	for i := range secrets.Items {
		sec := &secrets.Items[i]
		secretOf[sec.Namespace+"/"+sec.Name] = sec
	}

	var out []violation
	claims := map[string][]string{}
	for i := range keps.Items {
		ep := &keps.Items[i]
		key := ep.Namespace + "/" + ep.Name
		if s.attackers[key] != nil {
			// It claims nothing: checkTenants judges it, stuck deletions aside.
			if ep.DeletionTimestamp != nil {
				out = append(out, violation{invStuck, key, nil, fmt.Sprintf("attacker deleting since %s, finalizers %v",
					ep.DeletionTimestamp.Format(time.RFC3339), ep.Finalizers)})
			}
			continue
		}
		if id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]; id != "" {
			claims[id] = append(claims[id], key)
		}
		out = append(out, s.checkResource(ep, remotes, secretOf)...)
	}
	for _, id := range slices.Sorted(maps.Keys(claims)) {
		if owners := claims[id]; len(owners) > 1 {
			out = append(out, violation{invOneRemote, owners[0], []string{id},
				fmt.Sprintf("remote %s is claimed by %d resources: %v", id, len(owners), owners)})
		}
	}
	out = append(out, s.checkLeftBehind(remotes, claims)...)
	out = append(out, s.checkMisrouted(keps.Items)...)
	out = append(out, s.checkObserveOnlyWrites()...)
	out = append(out, s.checkTenants(keps.Items, remotes)...)
	for _, ns := range nss.Items {
		if ns.DeletionTimestamp != nil {
			out = append(out, violation{invStuck, ns.Name, nil, fmt.Sprintf("namespace %s deleting since %s: %s",
				ns.Name, ns.DeletionTimestamp.Format(time.RFC3339), conditionsOf(ns.Status.Conditions))})
		}
	}
	for _, sec := range secrets.Items {
		if sec.DeletionTimestamp != nil {
			out = append(out, violation{invStuck, sec.Namespace + "/" + sec.Name, nil,
				fmt.Sprintf("Secret deleting since %s, finalizers %v", sec.DeletionTimestamp.Format(time.RFC3339), sec.Finalizers)})
		}
	}
	return out, nil
}

func conditionsOf(conds []corev1.NamespaceCondition) string {
	var parts []string
	for _, c := range conds {
		if c.Status == corev1.ConditionTrue {
			parts = append(parts, fmt.Sprintf("%s: %s", c.Type, c.Message))
		}
	}
	return strings.Join(parts, "; ")
}

// checkResource checks one live KrosEndpoint against its remote endpoint.
func (s *soak) checkResource(ep *cockpitv1alpha1.KrosEndpoint, remotes map[string]krosaisim.Endpoint,
	secretOf map[string]*corev1.Secret) []violation {
	key := ep.Namespace + "/" + ep.Name
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	v := func(inv, format string, args ...any) violation {
		return violation{inv, key, []string{id}, fmt.Sprintf(format, args...)}
	}
	if ep.DeletionTimestamp != nil {
		return []violation{v(invStuck, "deleting since %s, finalizers %v, paused %q: %s",
			ep.DeletionTimestamp.Format(time.RFC3339), ep.Finalizers, ep.Annotations[cockpitv1alpha1.AnnotationPaused],
			readyMessage(ep))}
	}
	var out []violation
	ready := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != ep.Generation ||
		ep.Status.ObservedGeneration != ep.Generation {
		out = append(out, v(invReady, "generation %d, status.observedGeneration %d: %s",
			ep.Generation, ep.Status.ObservedGeneration, readyMessage(ep)))
	}
	if id == "" {
		return append(out, v(invOneRemote, "no %s annotation", cockpitv1alpha1.AnnotationEndpointID))
	}
	if p, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]; pending {
		out = append(out, v(invOneRemote, "%s still set (%s)", cockpitv1alpha1.AnnotationCreatePending, p))
	}
	e, ok := remotes[id]
	if !ok {
		return append(out, v(invOneRemote, "its remote endpoint %s does not exist", id))
	}
	if ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly {
		// Its spec need not match: status mirrors the endpoint, and
		// status.drift says how they differ.
		wantName := expectRemote(ep, secretOf).name
		i := slices.IndexFunc(ep.Status.Drift, func(d cockpitv1alpha1.FieldDrift) bool { return d.Field == "name" })
		switch {
		case e.Name != wantName && (i < 0 || ep.Status.Drift[i].Observed != e.Name):
			out = append(out, v(invHonest, "remote name %q differs from the spec's %q, and status.drift does not say so",
				e.Name, wantName))
		case e.Name == wantName && i >= 0:
			out = append(out, v(invHonest, "status.drift lists the name, which matches"))
		}
		return append(out, checkStatus(ep, e, secretOf, v)...)
	}
	want := expectRemote(ep, secretOf)
	if e.OrganizationID != want.org {
		out = append(out, v(invMatches, "remote is in organization %s, want %s", e.OrganizationID, want.org))
	}
	for _, d := range []struct{ field, got, want string }{
		{"name", e.Name, want.name}, {"type", e.Type, string(ep.Spec.Type)}, {"status", e.Status, want.status},
	} {
		if d.got != d.want {
			out = append(out, v(invMatches, "remote %s is %q, spec wants %q", d.field, d.got, d.want))
		}
	}
	wantURL := want.url
	if wantURL == "" {
		wantURL = "sip:" + id + "@sip.krosai.com"
	}
	if e.URL != wantURL {
		out = append(out, v(invMatches, "remote url is %q, want %q", e.URL, wantURL))
	}
	for _, k := range slices.Sorted(maps.Keys(merged(want.config, e.ProviderConfig))) {
		got, _ := e.ProviderConfig[k].(string)
		if got == want.config[k] {
			continue
		}
		inv := invMatches
		if sipCredentialKeys[k] {
			inv = invSIP
		}
		if passwordKeys[k] {
			out = append(out, v(inv, "remote provider_config.%s differs from the current Secret (set: %v, want set: %v)",
				k, got != "", want.config[k] != ""))
			continue
		}
		out = append(out, v(inv, "remote provider_config.%s is %q, want %q", k, got, want.config[k]))
	}
	return append(out, checkStatus(ep, e, secretOf, v)...)
}

// checkStatus checks that status reports the remote endpoint as it is.
func checkStatus(ep *cockpitv1alpha1.KrosEndpoint, e krosaisim.Endpoint, secretOf map[string]*corev1.Secret,
	v func(inv, format string, args ...any) violation) []violation {
	var out []violation
	st := ep.Status
	sipURI := e.URL
	if e.Type == string(cockpitv1alpha1.EndpointTypeWebhook) {
		sipURI = ""
	}
	for _, d := range []struct{ field, got, want string }{
		{"id", st.ID, e.ID}, {"url", st.URL, e.URL}, {"sipURI", st.SIPURI, sipURI},
		{"state", string(st.State), e.Status}, {"organizationID", st.OrganizationID, e.OrganizationID},
	} {
		if d.got != d.want {
			out = append(out, v(invHonest, "status.%s is %q, the remote's is %q", d.field, d.got, d.want))
		}
	}
	observeOnly := ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly
	if ep.Spec.Type == cockpitv1alpha1.EndpointTypeWebhook && !observeOnly { // ObserveOnly writes no Secret
		name := ep.Name + "-webhook-signing"
		sec := secretOf[ep.Namespace+"/"+name]
		switch {
		case st.SigningSecretName != name:
			out = append(out, v(invHonest, "status.signingSecretName is %q, want %q", st.SigningSecretName, name))
		case sec == nil:
			out = append(out, v(invHonest, "signing Secret %s does not exist", name))
		case string(sec.Data[cockpitv1alpha1.SecretKeySigningSecret]) != e.Secret:
			out = append(out, v(invHonest, "signing Secret %s does not hold the remote's signing secret", name))
		}
	}
	return out
}

func readyMessage(ep *cockpitv1alpha1.KrosEndpoint) string {
	c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReady)
	if c == nil {
		return "no Ready condition"
	}
	return fmt.Sprintf("Ready=%s (%s, for generation %d): %s", c.Status, c.Reason, c.ObservedGeneration, c.Message)
}

var (
	sipCredentialKeys = map[string]bool{"vogent_sip_username": true, "vogent_sip_password": true, "username": true,
		"password": true}
	passwordKeys = map[string]bool{"vogent_sip_password": true, "password": true}
)

func merged(a map[string]string, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k, v := range a {
		if v != "" {
			out[k] = true
		}
	}
	for k, v := range b {
		if s, _ := v.(string); s != "" {
			out[k] = true
		}
	}
	return out
}

// remoteWant is the remote endpoint a spec asks for, written from the API
// reference rather than from the operator's code.
type remoteWant struct {
	org, name, status, url string
	config                 map[string]string
}

func expectRemote(ep *cockpitv1alpha1.KrosEndpoint, secretOf map[string]*corev1.Secret) remoteWant {
	spec := ep.Spec
	w := remoteWant{org: orgA, name: spec.DisplayName, status: "active", config: map[string]string{}}
	switch {
	case spec.APIKeySecretRef != nil:
		w.org = orgB
	case isTenant(ep.Namespace):
		w.org = orgT // the credentials their grants give
	}
	if w.name == "" {
		w.name = ep.Name
	}
	if spec.Enabled != nil && !*spec.Enabled {
		w.status = "inactive"
	}
	creds := func(ref *cockpitv1alpha1.LocalSecretReference) (string, string) {
		if ref == nil {
			return "", ""
		}
		sec := secretOf[ep.Namespace+"/"+ref.Name]
		if sec == nil {
			return "", ""
		}
		return string(sec.Data[corev1.BasicAuthUsernameKey]), string(sec.Data[corev1.BasicAuthPasswordKey])
	}
	c := w.config
	switch {
	case spec.Webhook != nil:
		w.url = spec.Webhook.URL
	case spec.Vapi != nil:
		c["assistant_id"], c["credential_id"], c["vapi_phone_number_id"] =
			spec.Vapi.AssistantID, spec.Vapi.CredentialID, spec.Vapi.PhoneNumberID
	case spec.Retell != nil:
		c["agent_id"], c["retell_phone_number"] = spec.Retell.AgentID, spec.Retell.PhoneNumber
	case spec.ElevenLabs != nil:
		c["elevenlabs_agent_id"] = spec.ElevenLabs.AgentID
	case spec.LiveKit != nil:
		c["livekit_agent_name"], c["livekit_sip_trunk_id"], c["livekit_sip_uri"] =
			spec.LiveKit.AgentName, spec.LiveKit.SIPTrunkID, spec.LiveKit.SIPURI
	case spec.Vogent != nil:
		c["vogent_agent_id"], c["vogent_sip_prefix"] = spec.Vogent.AgentID, spec.Vogent.SIPPrefix
		c["vogent_sip_username"], c["vogent_sip_password"] = creds(&spec.Vogent.CredentialsSecretRef)
	case spec.CustomSIP != nil:
		w.url = spec.CustomSIP.SIPURI
		c["sip_uri"] = spec.CustomSIP.SIPURI
		c["username"], c["password"] = creds(spec.CustomSIP.CredentialsSecretRef)
	}
	return w
}

// checkMisrouted checks, from every request the simulator recorded, that
// each live resource's endpoint was created by a POST carrying that
// resource's spec (or is the source it was made to adopt), and that every
// PATCH it received carried that resource's spec: no recovery adopted, and
// no reconcile changed, an endpoint made for another resource.
func (s *soak) checkMisrouted(keps []cockpitv1alpha1.KrosEndpoint) []violation {
	s.reqMu.Lock()
	requests := slices.Clone(s.apiRequests)
	s.reqMu.Unlock()
	var out []violation
	for i := range keps {
		ep := &keps[i]
		key := ep.Namespace + "/" + ep.Name
		id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
		r := s.res[key]
		if id == "" || r == nil || ep.DeletionTimestamp != nil {
			continue
		}
		for _, req := range requests {
			if req.EndpointID != id || (req.Operation != "createEndpoint" && req.Operation != "updateEndpoint") ||
				(req.Operation == "createEndpoint" && id == r.adoptedFrom) {
				continue
			}
			tokens := requestTokens(req.Body)
			if len(tokens) > 0 && !slices.ContainsFunc(tokens, func(t string) bool { return r.tokens[t] }) {
				out = append(out, violation{invMisrouted, key, []string{id}, fmt.Sprintf(
					"its endpoint %s received a %s at %s carrying %v, none of which its specs ever had",
					id, req.Operation, req.Time.Format("15:04:05.000"), tokens)})
			}
		}
	}
	return out
}

// checkObserveOnlyWrites checks, from the request log, that no endpoint a
// resource observed with managementPolicy ObserveOnly ever received a PATCH
// or a DELETE.
func (s *soak) checkObserveOnlyWrites() []violation {
	observed := map[string]string{}
	for _, m := range []map[string]*resModel{s.res, s.gone} {
		for _, r := range m {
			if r.observeOnly {
				observed[r.adoptedFrom] = r.key
			}
		}
	}
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	var out []violation
	for _, req := range s.apiRequests {
		key, ok := observed[req.EndpointID]
		if ok && (req.Operation == "updateEndpoint" || req.Operation == "deleteEndpoint") {
			out = append(out, violation{invObserveOnly, key, []string{req.EndpointID}, fmt.Sprintf(
				"%s of the endpoint it only observes at %s: %s", req.Operation, req.Time.Format("15:04:05.000"), req.Body)})
		}
	}
	return out
}

// checkOutnumbered records a violation when the simulator holds more
// endpoints than the resources and adoption sources that could own them: no
// API fault may multiply endpoints.
func (s *soak) checkOutnumbered(ctx context.Context, when string) {
	byOrg, err := s.sim.admin.Endpoints(ctx)
	if err != nil {
		return
	}
	n := 0
	for _, group := range byOrg {
		n += len(group)
	}
	if owners := len(s.res) + len(s.gone) + s.adoptCounter + s.victimCounter; n > owners {
		s.duringRun = append(s.duringRun, violation{invOutnumbered, "", nil, fmt.Sprintf(
			"%s: %d remote endpoints for %d resources ever made, %d adoption sources and %d made in the "+
				"dashboard", when, n, len(s.res)+len(s.gone), s.adoptCounter, s.victimCounter)})
	}
}

// checkLeftBehind finds remote endpoints no live resource owns, other than
// those left on purpose.
func (s *soak) checkLeftBehind(remotes map[string]krosaisim.Endpoint, claims map[string][]string) []violation {
	var out []violation
	matched := map[*leftover][]string{}
	for _, id := range slices.Sorted(maps.Keys(remotes)) {
		if len(claims[id]) > 0 {
			continue
		}
		e := remotes[id]
		if l := s.leftoverFor(e); l != nil {
			matched[l] = append(matched[l], id)
			continue
		}
		key := s.displayNames[e.Name]
		if key == "" {
			key = s.ownerOfSource(id)
		}
		out = append(out, violation{invLeftBehind, key, []string{id}, fmt.Sprintf(
			"remote %s %q (%s, created %s, org %s) belongs to no live resource and was not orphaned",
			id, e.Name, e.Type, e.CreatedAt.Format("15:04:05.000"), e.OrganizationID)})
	}
	for l, ids := range matched {
		if len(ids) > 1 {
			out = append(out, violation{invOneRemote, l.key, ids, fmt.Sprintf(
				"%d remote endpoints left by one resource (%s): %v", len(ids), l.why, ids)})
		}
	}
	return out
}

// leftoverFor finds the leftover a remote endpoint is, by its id first: twins
// share a display name, and each leaves its own endpoint.
func (s *soak) leftoverFor(e krosaisim.Endpoint) *leftover {
	for _, l := range s.leftovers {
		if slices.Contains(l.ids, e.ID) {
			return l
		}
	}
	for _, l := range s.leftovers {
		if l.matches(e.ID, e.Name) {
			return l
		}
	}
	return nil
}

// ownerOfSource names the resource that adopted a remote id.
func (s *soak) ownerOfSource(id string) string {
	for _, m := range []map[string]*resModel{s.res, s.gone} {
		for _, r := range m {
			if r.adoptedFrom == id {
				return r.key
			}
		}
	}
	return ""
}

// checkLeaks searches every manager log, Event, KrosEndpoint status and
// /metrics scrape for the secret values of the run.
func (s *soak) checkLeaks() []violation {
	ctx := s.ctx
	s.collectEvents(ctx, "")
	s.collectStatuses(ctx)
	s.collectSimSecrets(ctx)
	m, err := s.scrapeMetrics(ctx)
	if err != nil {
		s.t.Errorf("scraping the manager's /metrics: %v", err)
	}
	s.remember(fmt.Sprintf("/metrics of manager-%d", len(s.mgrLogs)), m)

	var out []violation
	report := func(source string, text []byte) {
		for _, leak := range s.secrets.Find(source, text) {
			out = append(out, violation{invSecretsLeak, "", nil, leak.String()})
		}
	}
	for _, path := range s.mgrLogs {
		data, err := os.ReadFile(path)
		if err != nil {
			s.t.Errorf("reading %s: %v", path, err)
			continue
		}
		report(filepath.Base(path), data)
	}
	s.seenMu.Lock()
	seen := slices.Collect(maps.Values(s.seen))
	s.seenMu.Unlock()
	for _, st := range seen {
		report(st.source, []byte(st.text))
	}
	return out
}

// report prints the figures and returns the 429 share outside the windows
// in which the rate limit was lowered on purpose.
func (s *soak) report(driven, settled time.Duration, violations []violation) float64 {
	fmt.Printf("\nsoak: SOAK_SEED=%d SOAK_DURATION=%s: drove %s, settled in %s; %d live resources, %d namespaces\n",
		s.seed, s.duration, driven.Round(time.Second), settled.Round(time.Second), len(s.res), len(s.namespaces))

	fmt.Println("soak: " + s.tenantSummary())

	t := newTable("operation", "done", "failed")
	for _, k := range s.ops.kinds() {
		t.row(k, s.ops.ok[k], s.ops.failed[k])
	}
	t.print()
	t = newTable("fault", "done", "failed")
	for _, k := range s.faults.kinds() {
		t.row(k, s.faults.ok[k], s.faults.failed[k])
	}
	t.print()

	stats, err := s.statsNow(s.ctx)
	if err != nil {
		s.t.Errorf("reading the simulator's stats: %v", err)
		stats = s.statsBase
	}
	var outcomes []string
	for _, byOutcome := range stats {
		for o := range byOutcome {
			if !slices.Contains(outcomes, o) {
				outcomes = append(outcomes, o)
			}
		}
	}
	slices.Sort(outcomes)
	t = newTable(append(append([]string{"API requests"}, outcomes...), "total")...)
	for _, op := range slices.Sorted(maps.Keys(stats)) {
		cells := make([]any, 0, len(outcomes)+2)
		cells = append(cells, op)
		for _, o := range outcomes {
			cells = append(cells, stats[op][o])
		}
		t.row(append(cells, countAll(map[string]map[string]int{op: stats[op]}))...)
	}
	cells := make([]any, 0, len(outcomes)+2)
	cells = append(cells, "all")
	for _, o := range outcomes {
		cells = append(cells, countOutcome(stats, o))
	}
	total, tooMany := countAll(stats), countOutcome(stats, "429")
	t.row(append(cells, total)...)
	t.print()
	outsideTotal, outsideTooMany := total-s.in429Requests, tooMany-s.in429TooMany
	share := 0.0
	if outsideTotal > 0 {
		share = float64(outsideTooMany) / float64(outsideTotal)
	}
	fmt.Printf("429s: %d of %d requests (%.2f%%); outside the lowered-limit windows %d of %d (%.2f%%); "+
		"inside them %d of %d\n", tooMany, total, pct(tooMany, total), outsideTooMany, outsideTotal, 100*share,
		s.in429TooMany, s.in429Requests)

	byInv := map[string]int{}
	for _, v := range violations {
		byInv[v.invariant]++
	}
	if share > 0.05 {
		byInv[inv429]++
	}
	t = newTable("invariant", "violations")
	n := 0
	for _, inv := range invariants {
		t.row(inv, byInv[inv])
		n += byInv[inv]
	}
	t.row("all", n)
	t.print()
	return share
}

// table prints aligned columns, the first left-aligned, the rest right.
type table struct{ rows [][]string }

func newTable(header ...string) *table { return &table{rows: [][]string{header}} }

func (t *table) row(cells ...any) {
	r := make([]string, len(cells))
	for i, c := range cells {
		r[i] = fmt.Sprint(c)
	}
	t.rows = append(t.rows, r)
}

func (t *table) print() {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	b.WriteString("\n")
	for _, r := range t.rows {
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", widths[i], c)
			}
		}
		b.WriteString("\n")
	}
	fmt.Print(b.String())
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// judge fails the test on any violation, showing for each the event log
// entries and the manager's log lines about what it concerns.
func (s *soak) judge(violations []violation, share float64) {
	if share > 0.05 {
		s.t.Errorf("429s are %.2f%% of the API requests outside the lowered-limit windows (over 5%%): the "+
			"manager's --api-rate-limit=%d --api-burst=%d is under the simulator's %d/s burst %d, so it should "+
			"rarely if ever be refused", 100*share, managerRateLimit, managerBurst, simRateLimit, simBurst)
	}
	if len(violations) == 0 {
		return
	}
	fmt.Printf("\nsoak: %d invariant violations (SOAK_SEED=%d SOAK_DURATION=%s)\n", len(violations), s.seed, s.duration)
	shown := map[string]bool{}
	for i, v := range violations {
		fmt.Printf("\n[%d] %s: %s %v\n    %s\n", i+1, v.invariant, v.key, v.ids, v.detail)
		what := v.key + fmt.Sprint(v.ids)
		if shown[what] || (v.key == "" && len(v.ids) == 0) || i >= 20 {
			continue
		}
		shown[what] = true
		fmt.Println("    event log:")
		for _, e := range s.log.touching(v.key, v.ids) {
			fmt.Println("      " + e.String())
		}
		fmt.Println("    API requests (simulator):")
		for _, line := range s.requestLines(v.key, v.ids) {
			fmt.Println("      " + line)
		}
		fmt.Println("    manager log:")
		for _, line := range s.managerLines(v.key, v.ids, 25) {
			fmt.Println("      " + line)
		}
	}
	s.t.Errorf("%d invariant violations; see above (SOAK_SEED=%d)", len(violations), s.seed)
}

// requestLines returns the API requests about a resource: creates carrying
// one of its display names, and requests to one of its ids.
func (s *soak) requestLines(key string, ids []string) []string {
	var names []string
	for _, m := range []map[string]*resModel{s.res, s.gone} {
		if r := m[key]; r != nil {
			names = r.names
		}
	}
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	reqs := slices.Clone(s.apiRequests)
	slices.SortStableFunc(reqs, func(a, b krosaisim.RequestRecord) int { return a.Time.Compare(b.Time) })
	var out []string
	for _, r := range reqs {
		hit := false
		for _, n := range names {
			hit = hit || strings.Contains(string(r.Body), fmt.Sprintf("%q", n))
		}
		for _, id := range ids {
			hit = hit || (id != "" && strings.HasSuffix(r.Path, "/"+id))
		}
		if !hit {
			continue
		}
		outcome := r.Outcome()
		if r.Fault != "" {
			outcome += " (fault " + r.Fault + ")"
		}
		out = append(out, fmt.Sprintf("%s  %-6s %-48s %-28s %s", r.Time.Format("15:04:05.000"), r.Method, r.Path,
			outcome, r.Body))
	}
	return out
}

// managerLines returns the last n lines of the manager logs that mention
// the resource or one of the ids, each cut to a readable length.
func (s *soak) managerLines(key string, ids []string, n int) []string {
	ns, name, _ := strings.Cut(key, "/")
	var out []string
	for _, path := range s.mgrLogs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			hit := name != "" && strings.Contains(line, `"`+name+`"`) && strings.Contains(line, ns)
			for _, id := range ids {
				hit = hit || (id != "" && strings.Contains(line, id))
			}
			if hit {
				if len(line) > 400 {
					line = line[:400] + "…"
				}
				out = append(out, filepath.Base(path)+": "+line)
			}
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
