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
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// The tenants: two long-lived namespaces that KrosGrants govern, each
// granted the same shared credentials (tenantSecret in the operator's
// namespace: one API key, of organization orgT) and nothing else. orgT is
// theirs alone: no other namespace holds a key of it, so every request the
// simulator records in it was sent on behalf of a tenant (or is the
// driver's own create of an endpoint "made in the dashboard"). The key is
// shared, so which tenant a request was for is told from what it names: the
// endpoint, whose creator the creates say, and the body of a PATCH.
const (
	orgT         = "7e6d5c4b-3a29-4817-a6b5-c4d3e2f1a0b9"
	tenantSecret = "krosai-tenants"
	// maxAttackers bounds the live attackers; above it the driver deletes one.
	maxAttackers = 8
)

var tenantNamespaces = []string{"tenant-a", "tenant-b"}

func isTenant(ns string) bool { return slices.Contains(tenantNamespaces, ns) }

// The victims an attacker names.
const (
	victimOtherTenant = "the other tenant's"
	victimOrphaned    = "orphaned by the other tenant"
	victimDashboard   = "made in the dashboard"
)

// attacker is a KrosEndpoint in a tenant namespace that names, in its
// endpoint-id annotation, an endpoint no grant gives its namespace: the
// operator must stall it with NotGranted before any KrosAI call, and never
// read, change or delete the endpoint for it.
type attacker struct {
	res    *resModel
	victim string
	kind   string // victimOtherTenant, victimOrphaned or victimDashboard
	// owner is the resource that created the victim, for the other tenant's
	// and orphaned victims.
	owner string
	// created is when the driver began creating it: an orphaned victim's
	// owner was gone by then, so no request naming the victim since is its.
	created time.Time
	deleted bool
}

// dashboardVictim is an endpoint the driver made in the tenants'
// organization through the API, as the dashboard would: no tenant resource
// created it and no grant gives it, so no request of the operator may name it.
type dashboardVictim struct {
	name string
	typ  cockpitv1alpha1.EndpointType
	// made is the endpoint as created; it must stay so.
	made krosaisim.Endpoint
}

// setUpTenants creates the tenants' credentials Secret, their namespaces
// with the SIP Secrets the driver's specs name, and one KrosGrant each that
// selects its namespace and grants the Secret and nothing else.
func (s *soak) setUpTenants(ctx context.Context) error {
	objs := make([]client.Object, 0, 1+(1+len(sipSecrets))*len(tenantNamespaces))
	objs = append(objs, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: tenantSecret},
		StringData: map[string]string{cockpitv1alpha1.SecretKeyAPIKey: s.tenantKey},
	})
	for _, ns := range tenantNamespaces {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		for _, sec := range sipSecrets {
			objs = append(objs, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sec},
				Type:       corev1.SecretTypeBasicAuth,
				StringData: map[string]string{
					corev1.BasicAuthUsernameKey: "user-" + s.token(6), corev1.BasicAuthPasswordKey: s.newPassword(),
				},
			})
		}
	}
	for _, o := range objs {
		if err := s.cl.Admin.Create(ctx, o); err != nil {
			return err
		}
	}
	for _, ns := range tenantNamespaces {
		g := &cockpitv1alpha1.KrosGrant{
			ObjectMeta: metav1.ObjectMeta{Name: ns},
			Spec: cockpitv1alpha1.KrosGrantSpec{
				NamespaceSelector:    metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
				CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: tenantSecret},
			},
		}
		// The CRD was just installed: it may not be served yet.
		var err error
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			if err = s.cl.Admin.Create(ctx, g); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("KrosGrant %s: %w", ns, err)
		}
	}
	return nil
}

// tenantOps are the tenants' operations, drawn among the others.
func (s *soak) tenantOps() []weighted {
	return []weighted{
		{"tenant-create", 3, s.opTenantCreate},
		{"tenant-edit", 2, s.opTenantEdit},
		{"tenant-delete", 1, s.opTenantDelete},
		{"tenant-attack", 3, s.opTenantAttack},
		{"tenant-attack-delete", 1, s.opTenantAttackDelete},
	}
}

// shared makes a spec use the namespace's shared credentials and attach no
// phone number: the tenants' grants give none.
func shared(spec *cockpitv1alpha1.KrosEndpointSpec) {
	spec.APIKeySecretRef, spec.PhoneNumberID = nil, ""
}

func (s *soak) opTenantCreate(ctx context.Context) error {
	_, err := s.createResource(ctx, pick(s.rng, tenantNamespaces), pick(s.rng, endpointTypes), " (tenant)", shared)
	return err
}

func (s *soak) opTenantEdit(ctx context.Context) error {
	r := s.pickRes(func(r *resModel) bool { return isTenant(r.ns) })
	if r == nil {
		return errNothingToDo
	}
	return s.edit(ctx, r, s.chance(0.3))
}

func (s *soak) opTenantDelete(ctx context.Context) error {
	r := s.pickRes(func(r *resModel) bool { return isTenant(r.ns) })
	if r == nil {
		return errNothingToDo
	}
	if s.chance(0.3) {
		return s.orphan(ctx, r) // an endpoint the other tenant's attackers may name
	}
	return s.deleteResource(ctx, r, " (tenant)")
}

// opTenantAttack creates, in a tenant namespace, a KrosEndpoint that adopts
// (Full) or observes (ObserveOnly) an endpoint its namespace may not reach:
// one the other tenant's resource created and owns, one the other tenant
// orphaned, or one made in the dashboard.
func (s *soak) opTenantAttack(ctx context.Context) error {
	if s.liveAttackers() >= maxAttackers {
		return s.opTenantAttackDelete(ctx)
	}
	ns := pick(s.rng, tenantNamespaces)
	other := tenantNamespaces[0]
	if ns == other {
		other = tenantNamespaces[1]
	}
	observeOnly := s.chance(0.4)
	a := &attacker{created: time.Now()}
	var typ cockpitv1alpha1.EndpointType
	var err error
	switch n := s.rng.IntN(10); {
	case n < 5:
		typ, err = s.victimOfOther(ctx, a, other)
	case n < 7:
		typ, err = s.victimOrphanedBy(ctx, a, other)
	}
	if err != nil {
		return err
	}
	if a.victim == "" {
		if typ, err = s.dashboardVictimFor(ctx, a); err != nil {
			return err
		}
	}
	s.resCounter++
	name := fmt.Sprintf("kep-%d", s.resCounter)
	display := "soak " + name
	spec := s.spec(typ, display)
	shared(&spec)
	verb := "adopts"
	if observeOnly {
		spec.ManagementPolicy, verb = cockpitv1alpha1.ManagementPolicyObserveOnly, "observes (ObserveOnly)"
	}
	ep := &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{cockpitv1alpha1.AnnotationEndpointID: a.victim}},
		Spec: spec,
	}
	if err := s.cl.Admin.Create(ctx, ep); err != nil {
		return err
	}
	a.res = &resModel{key: ns + "/" + name, ns: ns, name: name, typ: string(typ), names: []string{display},
		adoptedFrom: a.victim, observeOnly: observeOnly}
	a.res.remember(&ep.Spec)
	s.attackers[a.res.key] = a
	s.displayNames[display] = a.res.key
	owner := a.owner
	if owner == "" {
		owner = "nobody"
	}
	s.log.add("tenant-attack", a.res.key, "type %s %s remote %s, %s (created by %s): must stall NotGranted",
		typ, verb, a.victim, a.kind, owner)
	return nil
}

// victimOfOther picks a live resource of namespace other whose endpoint the
// operator has recorded, and makes its endpoint a's victim.
func (s *soak) victimOfOther(ctx context.Context, a *attacker, other string) (cockpitv1alpha1.EndpointType, error) {
	r := s.pickRes(func(r *resModel) bool { return r.ns == other })
	if r == nil {
		return "", nil
	}
	ep, err := s.get(ctx, r)
	if err != nil {
		return "", err
	}
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	if id == "" || ep.Status.ID != id || !ep.DeletionTimestamp.IsZero() {
		return "", nil
	}
	a.victim, a.kind, a.owner = id, victimOtherTenant, r.key
	return cockpitv1alpha1.EndpointType(r.typ), nil
}

// victimOrphanedBy picks an endpoint a resource of namespace other left
// behind with deletionPolicy Orphan, once that resource is gone.
func (s *soak) victimOrphanedBy(ctx context.Context, a *attacker, other string) (cockpitv1alpha1.EndpointType, error) {
	var candidates []*leftover
	for _, l := range s.leftovers {
		if r := s.gone[l.key]; r != nil && r.ns == other && r.orphaned && len(l.ids) > 0 && l.ids[0] != "" {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 {
		return "", nil
	}
	l := pick(s.rng, candidates)
	r := s.gone[l.key]
	if _, err := s.get(ctx, r); !apierrors.IsNotFound(err) {
		return "", nil // still being deleted: requests for it may still come
	}
	if _, found, err := s.sim.admin.Endpoint(ctx, l.ids[0]); err != nil || !found {
		return "", err
	}
	a.victim, a.kind, a.owner, a.created = l.ids[0], victimOrphaned, r.key, time.Now()
	return cockpitv1alpha1.EndpointType(r.typ), nil
}

// dashboardVictimFor makes a's victim an endpoint made in the dashboard in
// the tenants' organization: one made before, or a new one.
func (s *soak) dashboardVictimFor(ctx context.Context, a *attacker) (cockpitv1alpha1.EndpointType, error) {
	a.kind = victimDashboard
	if ids := slices.Sorted(maps.Keys(s.victims)); len(ids) > 0 && s.chance(0.5) {
		a.victim = pick(s.rng, ids)
		return s.victims[a.victim].typ, nil
	}
	typ := pick(s.rng, endpointTypes)
	s.victimCounter++
	name := fmt.Sprintf("dashboard-victim-%d", s.victimCounter)
	// Recorded first: a create whose answer a fault lost may have made it.
	s.dashboardNames[name] = true
	s.leftovers = append(s.leftovers, &leftover{names: []string{name},
		why: "made in the dashboard in the tenants' organization, as a target of their attackers"})
	id, err := s.sim.createThroughAPI(ctx, s.driverKeyT, s.sourceBody(typ, name))
	if err != nil {
		// A fault may have answered an error after creating it: look.
		if id = s.findByName(ctx, name); id == "" {
			return "", fmt.Errorf("dashboard victim: %w", err)
		}
	}
	e, found, err := s.sim.admin.Endpoint(ctx, id)
	if err != nil || !found {
		return "", fmt.Errorf("dashboard victim %s not read back (found %v): %w", id, found, err)
	}
	s.victims[id] = &dashboardVictim{name: name, typ: typ, made: e}
	s.log.add("dashboard-victim", "remote:"+id, "%s %q created in the tenants' organization", typ, name)
	a.victim = id
	return typ, nil
}

func (s *soak) liveAttackers() int {
	n := 0
	for _, a := range s.attackers {
		if !a.deleted {
			n++
		}
	}
	return n
}

func (s *soak) opTenantAttackDelete(ctx context.Context) error {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(s.attackers)) {
		if !s.attackers[k].deleted {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return errNothingToDo
	}
	a := s.attackers[pick(s.rng, keys)]
	ep, err := s.get(ctx, a.res)
	if err != nil {
		return err
	}
	if err := s.cl.Admin.Delete(ctx, ep); err != nil {
		return err
	}
	a.deleted = true
	s.log.add("tenant-attack-delete", a.res.key, "remote %s (%s) must be left alone", a.victim, a.kind)
	return nil
}

// collectTenantStatuses records, for the tenants' resources, every
// status.id seen: an attacker's must stay empty, and those of the others
// tell whose endpoint is whose where no create was recorded. Called by the
// collector, with the list it read.
func (s *soak) collectTenantStatuses(list []cockpitv1alpha1.KrosEndpoint) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	for i := range list {
		ep := &list[i]
		if !isTenant(ep.Namespace) || ep.Status.ID == "" {
			continue
		}
		key := ep.Namespace + "/" + ep.Name
		if s.tenantIDs[key] == nil {
			s.tenantIDs[key] = map[string]bool{}
		}
		s.tenantIDs[key][ep.Status.ID] = true
	}
}

// checkTenants checks the tenants' isolation: every attacker still there
// stalls with NotGranted and never reported an endpoint; every request the
// operator sent in the tenants' organization names only endpoints the
// tenants' own resources created, a PATCH only its own namespace's, a
// DELETE only once their creator was being deleted; and every endpoint made
// in the dashboard is as it was made. keps are the live KrosEndpoints,
// remotes the simulator's endpoints.
func (s *soak) checkTenants(keps []cockpitv1alpha1.KrosEndpoint, remotes map[string]krosaisim.Endpoint) []violation {
	var out []violation
	live := map[string]*cockpitv1alpha1.KrosEndpoint{}
	for i := range keps {
		live[keps[i].Namespace+"/"+keps[i].Name] = &keps[i]
	}
	s.seenMu.Lock()
	seenIDs := map[string][]string{}
	for k, ids := range s.tenantIDs {
		seenIDs[k] = slices.Sorted(maps.Keys(ids))
	}
	s.seenMu.Unlock()
	for _, key := range slices.Sorted(maps.Keys(s.attackers)) {
		a := s.attackers[key]
		v := func(format string, args ...any) {
			out = append(out, violation{invTenants, key, []string{a.victim}, fmt.Sprintf(format, args...)})
		}
		if ids := seenIDs[key]; len(ids) > 0 {
			v("the attacker of %s (%s) reported status.id %v: the operator reached an endpoint for it", a.victim,
				a.kind, ids)
		}
		ep := live[key]
		switch {
		case ep == nil && !a.deleted:
			v("the attacker is gone, but the driver never deleted it")
		case ep == nil || ep.DeletionTimestamp != nil:
			// Deleted; one still deleting is a no-stuck-deletion finding.
		default:
			c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionStalled)
			if c == nil || c.Status != metav1.ConditionTrue || c.Reason != cockpitv1alpha1.ReasonNotGranted {
				v("the attacker of %s (%s) is not Stalled with reason %s: %s", a.victim, a.kind,
					cockpitv1alpha1.ReasonNotGranted, stalledMessage(ep))
			}
		}
	}
	out = append(out, s.checkTenantRequests()...)
	for _, id := range slices.Sorted(maps.Keys(s.victims)) {
		d := s.victims[id]
		e, ok := remotes[id]
		switch {
		case !ok:
			out = append(out, violation{invTenants, "", []string{id}, fmt.Sprintf(
				"endpoint %s %q, made in the dashboard and named only by attackers, is gone", id, d.name)})
		case e.Name != d.made.Name || e.Type != d.made.Type || e.URL != d.made.URL || e.Status != d.made.Status ||
			!reflect.DeepEqual(e.ProviderConfig, d.made.ProviderConfig) || !e.UpdatedAt.Equal(d.made.UpdatedAt):
			out = append(out, violation{invTenants, "", []string{id}, fmt.Sprintf(
				"endpoint %s %q, made in the dashboard and named only by attackers, changed since (updated %s)",
				id, d.name, e.UpdatedAt.Format("15:04:05.000"))})
		}
	}
	return out
}

func stalledMessage(ep *cockpitv1alpha1.KrosEndpoint) string {
	c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionStalled)
	if c == nil {
		return "no Stalled condition; " + readyMessage(ep)
	}
	return fmt.Sprintf("Stalled=%s (%s): %s", c.Status, c.Reason, c.Message)
}

// tenantCreator is who created an endpoint in the tenants' organization.
type tenantCreator struct {
	key       string // the resource, "" for the dashboard or nobody known
	dashboard bool
}

// checkTenantRequests checks every request in the tenants' organization,
// from the simulator's request log. The creates say who made each endpoint:
// the name a create carries is a display name the driver gave one resource
// (names are unique, twins aside, and the tenants have none), or the name
// of an endpoint made in the dashboard. A request naming an endpoint is
// then for a resource of the creator's namespace only if the endpoint is
// one a tenant resource created; a PATCH says by its body (name, provider
// values) whose spec it carries; a DELETE is for the creator only once the
// driver asked for the creator's deletion; and once an orphaned endpoint's
// creator is gone, no request naming it is for the creator. A GET of an
// endpoint of the other tenant while its creator lives cannot be told
// apart from one for the creator: the attackers' statuses cover that read.
func (s *soak) checkTenantRequests() []violation {
	s.reqMu.Lock()
	reqs := slices.Clone(s.apiRequests)
	s.reqMu.Unlock()
	slices.SortStableFunc(reqs, func(a, b krosaisim.RequestRecord) int { return a.Time.Compare(b.Time) })
	creators, out := s.tenantCreators(reqs)
	orphanAttacked := map[string]time.Time{} // victim → when its first attacker was begun
	for _, a := range s.attackers {
		if t, ok := orphanAttacked[a.victim]; a.kind == victimOrphaned && (!ok || a.created.Before(t)) {
			orphanAttacked[a.victim] = a.created
		}
	}
	tokenOwner := s.tokenOwners()
	for _, req := range reqs {
		if req.Org != orgT || req.EndpointID == "" || req.Operation == "createEndpoint" ||
			req.Operation == "listEndpoints" {
			continue
		}
		if why, key := s.tenantRequestWrong(req, creators[req.EndpointID], orphanAttacked, tokenOwner); why != "" {
			out = append(out, violation{invTenants, key, []string{req.EndpointID}, fmt.Sprintf("%s %s at %s (%s): %s",
				req.Method, req.Path, req.Time.Format("15:04:05.000"), req.Outcome(), why)})
		}
	}
	return out
}

// tenantCreators says who created each endpoint of the tenants'
// organization, from the creates, and reports the creates no tenant
// resource of theirs, nor the dashboard, sent.
func (s *soak) tenantCreators(reqs []krosaisim.RequestRecord) (map[string]tenantCreator, []violation) {
	var out []violation
	creators := map[string]tenantCreator{}
	for _, req := range reqs {
		if req.Org != orgT || req.Operation != "createEndpoint" || req.EndpointID == "" {
			continue
		}
		name := bodyName(req.Body)
		c := tenantCreator{key: s.displayNames[name], dashboard: s.dashboardNames[name]}
		if c.dashboard {
			c.key = ""
		}
		creators[req.EndpointID] = c
		switch {
		case c.dashboard:
		case c.key == "" || !isTenant(s.model(c.key).ns):
			out = append(out, violation{invTenants, c.key, []string{req.EndpointID}, fmt.Sprintf(
				"a create in the tenants' organization at %s named %q, no tenant resource's name: %s",
				req.Time.Format("15:04:05.000"), name, req.Body)})
		case s.attackers[c.key] != nil:
			out = append(out, violation{invTenants, c.key, []string{req.EndpointID}, fmt.Sprintf(
				"a create at %s for the attacker, which must stall before any KrosAI call", req.Time.Format("15:04:05.000"))})
		}
	}
	// Where a create was lost with the simulator's request log, the
	// statuses seen say whose the endpoint was.
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	for key, ids := range s.tenantIDs {
		if s.attackers[key] != nil {
			continue
		}
		for id := range ids {
			if _, ok := creators[id]; !ok {
				creators[id] = tenantCreator{key: key}
			}
		}
	}
	return creators, out
}

// tenantRequestWrong says why a request in the tenants' organization that
// names an endpoint, which c created, cannot have been for a resource of
// c's namespace, and names the resource it was for when it can tell; ""
// when it may have been.
func (s *soak) tenantRequestWrong(req krosaisim.RequestRecord, c tenantCreator, orphanAttacked map[string]time.Time,
	tokenOwner map[string]string) (why, key string) {
	id := req.EndpointID
	switch {
	case c.dashboard:
		return "names an endpoint made in the dashboard, which no grant gives the tenants", s.attackerOf(id)
	case c.key == "":
		return "names an endpoint no tenant resource created", s.attackerOf(id)
	}
	creator := s.model(c.key)
	if since, ok := orphanAttacked[id]; ok && req.Time.After(since) {
		return fmt.Sprintf("names the endpoint %s orphaned, after it was gone: for an attacker", c.key), s.attackerOf(id)
	}
	switch req.Operation {
	case "updateEndpoint":
		forKey := s.displayNames[bodyName(req.Body)]
		for _, t := range requestTokens(req.Body) {
			if forKey == "" {
				forKey = tokenOwner[t]
			}
		}
		switch {
		case forKey == "":
		case s.attackers[forKey] != nil:
			return fmt.Sprintf("carries the spec of the attacker %s; the endpoint is %s's", forKey, c.key), forKey
		case s.model(forKey).ns != creator.ns:
			return fmt.Sprintf("carries the spec of %s, in another namespace than %s, which created it", forKey,
				c.key), forKey
		}
	case "deleteEndpoint":
		if creator.deleting.IsZero() || req.Time.Before(creator.deleting) {
			return fmt.Sprintf("deletes the endpoint of %s, whose deletion the driver had not asked for", c.key),
				s.attackerOf(id)
		}
	}
	return "", ""
}

// model is what the driver knows of a resource, attacker or not.
func (s *soak) model(key string) *resModel {
	if r := s.res[key]; r != nil {
		return r
	}
	if r := s.gone[key]; r != nil {
		return r
	}
	if a := s.attackers[key]; a != nil {
		return a.res
	}
	return &resModel{key: key}
}

// attackerOf names the attackers of an endpoint, for a violation's key.
func (s *soak) attackerOf(id string) string {
	for _, k := range slices.Sorted(maps.Keys(s.attackers)) {
		if s.attackers[k].victim == id {
			return k
		}
	}
	return ""
}

// tokenOwners maps every spec value of the tenants' resources, attackers
// included, to its resource.
func (s *soak) tokenOwners() map[string]string {
	out := map[string]string{}
	add := func(r *resModel) {
		if isTenant(r.ns) {
			for t := range r.tokens {
				out[t] = r.key
			}
		}
	}
	for _, m := range []map[string]*resModel{s.res, s.gone} {
		for _, r := range m {
			add(r)
		}
	}
	for _, a := range s.attackers {
		add(a.res)
	}
	return out
}

func bodyName(body []byte) string {
	var b struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &b)
	return b.Name
}

// tenantSummary is one line on the tenants for the report.
func (s *soak) tenantSummary() string {
	resources, gone := 0, 0
	for _, r := range s.res {
		if isTenant(r.ns) {
			resources++
		}
	}
	for _, r := range s.gone {
		if isTenant(r.ns) {
			gone++
		}
	}
	kinds := map[string]int{}
	deleted := 0
	for _, a := range s.attackers {
		kinds[a.kind]++
		if a.deleted {
			deleted++
		}
	}
	s.reqMu.Lock()
	requests := 0
	for _, r := range s.apiRequests {
		if r.Org == orgT {
			requests++
		}
	}
	s.reqMu.Unlock()
	return fmt.Sprintf("tenants %v: %d live resources, %d deleted; %d attackers (%d deleted) naming an endpoint "+
		"%s %d, %s %d, %s %d; %d requests in the tenants' organization", tenantNamespaces, resources, gone,
		len(s.attackers), deleted, victimOtherTenant, kinds[victimOtherTenant], victimOrphaned, kinds[victimOrphaned],
		victimDashboard, kinds[victimDashboard], requests)
}
