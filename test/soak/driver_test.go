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
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/krosaisim"
)

const (
	orgA              = "3c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	orgB              = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d"
	operatorNamespace = "kros-operator-system"
	credentialsSecret = "krosai-credentials"
	// orgBSecret is each namespace's apiKeySecretRef Secret, for organization B.
	orgBSecret = "krosai-org-b"
	// liveNamespaces is how many namespaces the driver keeps.
	liveNamespaces = 4
	// maxLive bounds the live resources; above it the driver deletes more.
	maxLive = 70
)

var endpointTypes = []cockpitv1alpha1.EndpointType{
	cockpitv1alpha1.EndpointTypeWebhook, cockpitv1alpha1.EndpointTypeVapi, cockpitv1alpha1.EndpointTypeRetell,
	cockpitv1alpha1.EndpointTypeLiveKit, cockpitv1alpha1.EndpointTypeElevenLabs, cockpitv1alpha1.EndpointTypeVogent,
	cockpitv1alpha1.EndpointTypeCustomSIP,
}

// sipSecrets are each namespace's basic-auth Secrets, shared by its SIP endpoints.
var sipSecrets = []string{"sip-a", "sip-b"}

// opFunc is one random operation; it returns an error when it could not be done.
type opFunc func(ctx context.Context) error

// weighted is an operation and how often it is drawn.
type weighted struct {
	name   string
	weight int
	do     opFunc
}

func (s *soak) operations() []weighted {
	return append([]weighted{
		{"create", 17, s.opCreate},
		{"create-then-edit", 3, s.opCreateThenEdit},
		{"edit", 16, s.opEdit},
		{"delete", 6, s.opDelete},
		{"pause", 4, s.opSetPaused(true, "pause")},
		{"unpause", 4, s.opSetPaused(false, "unpause")},
		{"orphan", 3, s.opOrphan},
		{"adopt", 4, s.opAdopt(false)},
		{"rotate-sip", 5, s.opRotateSIP},
		{"rotate-key", 3, s.opRotateKey},
		{"delete-namespace", 1, s.opDeleteNamespace},
		{"dashboard-edit", 5, s.opDashboardEdit},
		{"dashboard-delete", 3, s.opDashboardDelete},
		{"twins", 3, s.opTwins},
		{"observe-only", 3, s.opAdopt(true)},
		{"move-organization", 1, s.opMoveOrganization},
	}, s.tenantOps()...)
}

// drawOp picks an operation by weight; over maxLive resources, deletes win.
func (s *soak) drawOp(ops []weighted) weighted {
	if len(s.res) > maxLive {
		return ops[slices.IndexFunc(ops, func(w weighted) bool { return w.name == "delete" })]
	}
	total := 0
	for _, w := range ops {
		total += w.weight
	}
	n := s.rng.IntN(total)
	for _, w := range ops {
		if n < w.weight {
			return w
		}
		n -= w.weight
	}
	return ops[0]
}

func (s *soak) token(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (s *soak) chance(p float64) bool { return s.rng.Float64() < p }

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// pickRes picks a live resource, in a stable order so that a seed replays
// the same choices.
func (s *soak) pickRes(keep func(*resModel) bool) *resModel {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(s.res)) {
		if keep == nil || keep(s.res[k]) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return s.res[pick(s.rng, keys)]
}

var errNothingToDo = errors.New("no target")

func (s *soak) get(ctx context.Context, r *resModel) (*cockpitv1alpha1.KrosEndpoint, error) {
	ep := &cockpitv1alpha1.KrosEndpoint{}
	err := s.cl.Admin.Get(ctx, client.ObjectKey{Namespace: r.ns, Name: r.name}, ep)
	return ep, err
}

// --- namespaces and Secrets

func (s *soak) newNamespace(ctx context.Context) error {
	s.nsCounter++
	name := fmt.Sprintf("soak-%d", s.nsCounter)
	if err := s.cl.Admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		return err
	}
	objs := []client.Object{&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: orgBSecret},
		StringData: map[string]string{
			cockpitv1alpha1.SecretKeyAPIKey:         s.orgBKeys[len(s.orgBKeys)-1],
			cockpitv1alpha1.SecretKeyOrganizationID: orgB,
		},
	}}
	for _, sec := range sipSecrets {
		user, password := "user-"+s.token(6), s.newPassword()
		objs = append(objs, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: sec},
			Type:       corev1.SecretTypeBasicAuth,
			StringData: map[string]string{corev1.BasicAuthUsernameKey: user, corev1.BasicAuthPasswordKey: password},
		})
	}
	for _, o := range objs {
		if err := s.cl.Admin.Create(ctx, o); err != nil {
			return err
		}
	}
	s.namespaces = append(s.namespaces, name)
	s.log.add("create-namespace", name, "with Secrets %s, %v", orgBSecret, sipSecrets)
	return nil
}

func (s *soak) newPassword() string {
	p := "pw-" + s.token(20)
	s.secrets.Add(p, "SIP password")
	return p
}

func (s *soak) newKey(org string) (string, error) {
	key := "kros_test_" + s.token(30)
	if err := s.sim.admin.AddKey(s.ctx, key, org); err != nil {
		return "", err
	}
	s.secrets.Add(key, "API key")
	s.simKeys = append(s.simKeys, key+"="+org)
	return key, nil
}

// --- resources

// spec makes a random spec of type typ in namespace ns.
func (s *soak) spec(typ cockpitv1alpha1.EndpointType, display string) cockpitv1alpha1.KrosEndpointSpec {
	spec := cockpitv1alpha1.KrosEndpointSpec{Type: typ, DisplayName: display}
	if s.chance(0.4) {
		spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: orgBSecret}
	}
	if s.chance(0.15) {
		spec.Enabled = new(false)
	}
	if s.chance(0.1) {
		spec.PhoneNumberID = fmt.Sprintf("%08x-0000-4000-8000-%012x", s.rng.Uint32(), s.rng.Uint64()&0xffffffffffff)
	}
	s.setProvider(&spec, true)
	return spec
}

// setProvider fills the provider block of spec's type with new values; a
// fresh block, or changes to one field of the existing one.
func (s *soak) setProvider(spec *cockpitv1alpha1.KrosEndpointSpec, fresh bool) {
	sipRef := func() *cockpitv1alpha1.LocalSecretReference {
		return &cockpitv1alpha1.LocalSecretReference{Name: pick(s.rng, sipSecrets)}
	}
	switch spec.Type {
	case cockpitv1alpha1.EndpointTypeWebhook:
		spec.Webhook = &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/" + s.token(8)}
	case cockpitv1alpha1.EndpointTypeVapi:
		if fresh || s.chance(0.5) {
			spec.Vapi = &cockpitv1alpha1.VapiConfig{AssistantID: "asst-" + s.token(8)}
		}
		if s.chance(0.5) {
			spec.Vapi.CredentialID = "cred-" + s.token(6)
		}
		if s.chance(0.3) {
			spec.Vapi.PhoneNumberID = "pn-" + s.token(6)
		}
	case cockpitv1alpha1.EndpointTypeRetell:
		if fresh || s.chance(0.5) {
			spec.Retell = &cockpitv1alpha1.RetellConfig{AgentID: "agent_" + s.token(8)}
		}
		spec.Retell.PhoneNumber = ""
		if s.chance(0.5) {
			spec.Retell.PhoneNumber = fmt.Sprintf("+1415555%04d", s.rng.IntN(10000))
		}
	case cockpitv1alpha1.EndpointTypeElevenLabs:
		spec.ElevenLabs = &cockpitv1alpha1.ElevenLabsConfig{AgentID: "el-" + s.token(10)}
	case cockpitv1alpha1.EndpointTypeLiveKit:
		if fresh {
			spec.LiveKit = &cockpitv1alpha1.LiveKitConfig{SIPTrunkID: "ST_" + s.token(8),
				SIPURI: "sip:" + s.token(8) + ".sip.livekit.cloud"}
		}
		switch s.rng.IntN(3) {
		case 0:
			spec.LiveKit.SIPTrunkID = "ST_" + s.token(8)
		case 1:
			spec.LiveKit.SIPURI = "sip:" + s.token(8) + ".sip.livekit.cloud"
		default:
			spec.LiveKit.AgentName = ""
			if s.chance(0.6) {
				spec.LiveKit.AgentName = "agent-" + s.token(5)
			}
		}
	case cockpitv1alpha1.EndpointTypeVogent:
		if fresh {
			spec.Vogent = &cockpitv1alpha1.VogentConfig{SIPPrefix: "vg-" + s.token(6), CredentialsSecretRef: *sipRef()}
		}
		switch s.rng.IntN(3) {
		case 0:
			spec.Vogent.SIPPrefix = "vg-" + s.token(6)
		case 1:
			spec.Vogent.CredentialsSecretRef = *sipRef()
		default:
			spec.Vogent.AgentID = ""
			if s.chance(0.6) {
				spec.Vogent.AgentID = "vogent-" + s.token(5)
			}
		}
	case cockpitv1alpha1.EndpointTypeCustomSIP:
		if fresh {
			spec.CustomSIP = &cockpitv1alpha1.CustomSIPConfig{SIPURI: "sip:agent-" + s.token(6) + "@pbx.example.com"}
		}
		if fresh || s.chance(0.5) {
			spec.CustomSIP.SIPURI = "sip:agent-" + s.token(6) + "@pbx.example.com"
		} else {
			spec.CustomSIP.CredentialsSecretRef = nil
		}
		if s.chance(0.7) {
			spec.CustomSIP.CredentialsSecretRef = sipRef()
		}
	}
}

// createResource creates a KrosEndpoint of a random (or the given) type.
func (s *soak) createResource(ctx context.Context, ns string, typ cockpitv1alpha1.EndpointType,
	detail string, adjust ...func(*cockpitv1alpha1.KrosEndpointSpec)) (*resModel, error) {
	s.resCounter++
	name := fmt.Sprintf("kep-%d", s.resCounter)
	ep := &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       s.spec(typ, "soak "+name),
	}
	for _, a := range adjust {
		a(&ep.Spec)
	}
	if err := s.cl.Admin.Create(ctx, ep); err != nil {
		return nil, err
	}
	display := ep.Spec.DisplayName
	r := &resModel{key: ns + "/" + name, ns: ns, name: name, typ: string(typ), names: []string{display}}
	r.remember(&ep.Spec)
	s.res[r.key] = r
	s.displayNames[display] = r.key
	org := "A"
	switch {
	case ep.Spec.APIKeySecretRef != nil:
		org = "B"
	case isTenant(ns):
		org = "T (granted)"
	}
	s.log.add("create", r.key, "type %s org %s enabled %v%s", typ, org, ep.Spec.Enabled == nil || *ep.Spec.Enabled, detail)
	return r, nil
}

func (s *soak) opCreate(ctx context.Context) error {
	_, err := s.createResource(ctx, pick(s.rng, s.namespaces), pick(s.rng, endpointTypes), "")
	return err
}

// opCreateThenEdit creates a resource and edits it at once, while its
// create is likely still under way: a user fixing a typo.
func (s *soak) opCreateThenEdit(ctx context.Context) error {
	r, err := s.createResource(ctx, pick(s.rng, s.namespaces), pick(s.rng, endpointTypes), "")
	if err != nil {
		return err
	}
	time.Sleep(time.Duration(50+s.rng.IntN(350)) * time.Millisecond)
	return s.edit(ctx, r, s.chance(0.6))
}

func (s *soak) opEdit(ctx context.Context) error {
	r := s.pickRes(nil)
	if r == nil {
		return errNothingToDo
	}
	return s.edit(ctx, r, false)
}

// edit changes the displayName (always when rename), a provider field, or enabled.
func (s *soak) edit(ctx context.Context, r *resModel, rename bool) error {
	ep, err := s.get(ctx, r)
	if err != nil {
		return err
	}
	orig := ep.DeepCopy()
	var what string
	kind := s.rng.IntN(3)
	if rename {
		kind = 0
	}
	switch kind {
	case 0:
		ep.Spec.DisplayName = fmt.Sprintf("soak %s r%d", r.name, len(r.names))
		r.names = append(r.names, ep.Spec.DisplayName)
		s.displayNames[ep.Spec.DisplayName] = r.key
		what = fmt.Sprintf("displayName %q", ep.Spec.DisplayName)
	case 1:
		s.setProvider(&ep.Spec, false)
		r.remember(&ep.Spec)
		what = "provider " + providerSummary(&ep.Spec)
	default:
		enabled := ep.Spec.Enabled != nil && !*ep.Spec.Enabled
		ep.Spec.Enabled = new(enabled)
		what = fmt.Sprintf("enabled %v", enabled)
	}
	if err := s.cl.Admin.Patch(ctx, ep, client.MergeFrom(orig)); err != nil {
		return err
	}
	s.log.add("edit", r.key, "%s (generation %d)", what, ep.Generation)
	return nil
}

// providerSummary names the provider fields that identify a spec's remote config.
func providerSummary(spec *cockpitv1alpha1.KrosEndpointSpec) string {
	switch {
	case spec.Webhook != nil:
		return "url=" + spec.Webhook.URL
	case spec.Vapi != nil:
		return fmt.Sprintf("assistant=%s credential=%s phone=%s", spec.Vapi.AssistantID, spec.Vapi.CredentialID,
			spec.Vapi.PhoneNumberID)
	case spec.Retell != nil:
		return fmt.Sprintf("agent=%s phone=%s", spec.Retell.AgentID, spec.Retell.PhoneNumber)
	case spec.ElevenLabs != nil:
		return "agent=" + spec.ElevenLabs.AgentID
	case spec.LiveKit != nil:
		return fmt.Sprintf("trunk=%s uri=%s agent=%s", spec.LiveKit.SIPTrunkID, spec.LiveKit.SIPURI, spec.LiveKit.AgentName)
	case spec.Vogent != nil:
		return fmt.Sprintf("prefix=%s agent=%s secret=%s", spec.Vogent.SIPPrefix, spec.Vogent.AgentID,
			spec.Vogent.CredentialsSecretRef.Name)
	case spec.CustomSIP != nil:
		secret := "(none)"
		if spec.CustomSIP.CredentialsSecretRef != nil {
			secret = spec.CustomSIP.CredentialsSecretRef.Name
		}
		return fmt.Sprintf("uri=%s secret=%s", spec.CustomSIP.SIPURI, secret)
	}
	return ""
}

// forget moves a resource out of the live set. An adopter deleted before the
// operator put its finalizer on it never claimed its source: that endpoint
// may stay.
func (s *soak) forget(r *resModel, ep *cockpitv1alpha1.KrosEndpoint) {
	delete(s.res, r.key)
	s.gone[r.key] = r
	if r.observeOnly && ep != nil && ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly {
		s.leftovers = append(s.leftovers, &leftover{key: r.key, ids: []string{r.adoptedFrom},
			why: "observed only: deleting the resource leaves the endpoint"})
		return
	}
	if r.adoptedFrom != "" && ep != nil && !controllerutil.ContainsFinalizer(ep, cockpitv1alpha1.Finalizer) {
		s.leftovers = append(s.leftovers, &leftover{key: r.key, ids: []string{r.adoptedFrom},
			why: "adoption source whose adopter was deleted before the operator claimed it"})
	}
}

func (s *soak) opDelete(ctx context.Context) error {
	r := s.pickRes(nil)
	if r == nil {
		return errNothingToDo
	}
	return s.deleteResource(ctx, r, "")
}

// deleteResource deletes a resource and moves it out of the live set.
func (s *soak) deleteResource(ctx context.Context, r *resModel, why string) error {
	ep, err := s.get(ctx, r)
	if err != nil {
		return err
	}
	if r.deleting.IsZero() && ep.Spec.DeletionPolicy != cockpitv1alpha1.DeletionPolicyOrphan {
		r.deleting = time.Now() // before: the operator may act before Delete returns
	}
	if err := s.cl.Admin.Delete(ctx, ep); err != nil {
		return err
	}
	s.forget(r, ep)
	s.log.add("delete", r.key, "id %q paused %v%s", ep.Annotations[cockpitv1alpha1.AnnotationEndpointID], r.paused, why)
	return nil
}

func (s *soak) setPaused(ctx context.Context, r *resModel, paused bool) error {
	ep, err := s.get(ctx, r)
	if err != nil {
		return err
	}
	orig := ep.DeepCopy()
	if paused {
		if ep.Annotations == nil {
			ep.Annotations = map[string]string{}
		}
		ep.Annotations[cockpitv1alpha1.AnnotationPaused] = "true"
	} else {
		delete(ep.Annotations, cockpitv1alpha1.AnnotationPaused)
	}
	if err := s.cl.Admin.Patch(ctx, ep, client.MergeFrom(orig)); err != nil {
		return err
	}
	r.paused = paused
	return nil
}

// opSetPaused pauses a running resource, or resumes a paused one.
func (s *soak) opSetPaused(paused bool, name string) func(context.Context) error {
	return func(ctx context.Context) error {
		r := s.pickRes(func(r *resModel) bool { return r.paused != paused })
		if r == nil {
			return errNothingToDo
		}
		if err := s.setPaused(ctx, r, paused); err != nil {
			return err
		}
		s.log.add(name, r.key, "")
		return nil
	}
}

func (s *soak) opOrphan(ctx context.Context) error {
	r := s.pickRes(nil)
	if r == nil {
		return errNothingToDo
	}
	return s.orphan(ctx, r)
}

// orphan sets a resource's deletionPolicy to Orphan, then deletes it.
func (s *soak) orphan(ctx context.Context, r *resModel) error {
	ep, err := s.get(ctx, r)
	if err != nil {
		return err
	}
	orig := ep.DeepCopy()
	ep.Spec.DeletionPolicy = cockpitv1alpha1.DeletionPolicyOrphan
	if err := s.cl.Admin.Patch(ctx, ep, client.MergeFrom(orig)); err != nil {
		return err
	}
	if err := s.cl.Admin.Delete(ctx, ep); err != nil {
		return err
	}
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	s.forget(r, nil)
	r.orphaned = true
	ids := []string{id}
	if r.adoptedFrom != "" {
		ids = append(ids, r.adoptedFrom)
	}
	s.leftovers = append(s.leftovers, &leftover{key: r.key, ids: ids, names: slices.Clone(r.names),
		why: "deletionPolicy: Orphan"})
	s.log.add("orphan", r.key, "deletionPolicy Orphan, then deleted; remote id %q left in KrosAI", id)
	return nil
}

// opAdopt creates an endpoint through the API, as another tool or the
// dashboard would, then a KrosEndpoint that adopts it through the endpoint-id
// annotation; with observeOnly, one that observes it with managementPolicy
// ObserveOnly and a spec of its own, for which the operator must report the
// drift and never write.
func (s *soak) opAdopt(observeOnly bool) opFunc {
	return func(ctx context.Context) error {
		typ := pick(s.rng, endpointTypes)
		useB := s.chance(0.4)
		id, err := s.createSource(ctx, typ, useB)
		if err != nil {
			return err
		}
		r, err := s.createAdopter(ctx, pick(s.rng, s.namespaces), typ, id, useB, observeOnly)
		if err != nil {
			// Nobody owns the source: remove it, as its maker would.
			_ = s.sim.admin.DeleteEndpoint(ctx, id)
			s.log.add("adopt-source-gone", "remote:"+id, "adopter not created (%v); source deleted", err)
			return err
		}
		r.adoptedFrom, r.observeOnly = id, observeOnly
		return nil
	}
}

// createSource creates an endpoint of typ through the API with a key of the
// driver's own, in organization B if useB, and returns its id.
func (s *soak) createSource(ctx context.Context, typ cockpitv1alpha1.EndpointType, useB bool) (string, error) {
	s.adoptCounter++
	srcName := fmt.Sprintf("adopt-src-%d", s.adoptCounter)
	body := s.sourceBody(typ, srcName)
	// The resource's organization decides the source's.
	key, org := s.driverKeyA, orgA
	if useB {
		key, org = s.driverKeyB, orgB
	}
	id, err := s.sim.createThroughAPI(ctx, key, body)
	if err != nil {
		// A fault may have answered an error after creating it: look.
		id = s.findByName(ctx, srcName)
		if id == "" {
			return "", fmt.Errorf("source: %w", err)
		}
	}
	s.log.add("adopt-source", "remote:"+id, "%s %q created through the API in org %s", typ, srcName, org)
	return id, nil
}

// sourceBody is the body of a create of an endpoint of typ named name, as
// another tool or the dashboard would send it.
func (s *soak) sourceBody(typ cockpitv1alpha1.EndpointType, name string) map[string]any {
	body := map[string]any{"name": name, "type": string(typ)}
	switch typ {
	case cockpitv1alpha1.EndpointTypeWebhook:
		body["url"] = "https://source.example.com/" + s.token(6)
	case cockpitv1alpha1.EndpointTypeVapi:
		body["provider_config"] = map[string]any{"assistant_id": "src-asst"}
	case cockpitv1alpha1.EndpointTypeRetell:
		body["provider_config"] = map[string]any{"agent_id": "src-agent"}
	case cockpitv1alpha1.EndpointTypeElevenLabs:
		body["provider_config"] = map[string]any{"elevenlabs_agent_id": "src-agent"}
	case cockpitv1alpha1.EndpointTypeLiveKit:
		body["provider_config"] = map[string]any{"livekit_sip_trunk_id": "ST_src",
			"livekit_sip_uri": "sip:src.sip.livekit.cloud"}
	case cockpitv1alpha1.EndpointTypeVogent:
		pw := s.newPassword()
		body["provider_config"] = map[string]any{"vogent_sip_prefix": "src", "vogent_sip_username": "src-user",
			"vogent_sip_password": pw}
	case cockpitv1alpha1.EndpointTypeCustomSIP:
		uri := "sip:src-" + s.token(4) + "@pbx.example.com"
		body["url"] = uri
		cfg := map[string]any{"sip_uri": uri}
		if s.chance(0.5) {
			cfg["username"], cfg["password"] = "src-user", s.newPassword()
		}
		body["provider_config"] = cfg
	}
	return body
}

func (s *soak) createAdopter(ctx context.Context, ns string, typ cockpitv1alpha1.EndpointType, id string,
	useB, observeOnly bool) (*resModel, error) {
	// createResource draws the organization at random; redraw until it fits.
	for range 50 {
		s.resCounter++
		name := fmt.Sprintf("kep-%d", s.resCounter)
		display := "soak " + name
		spec := s.spec(typ, display)
		if (spec.APIKeySecretRef != nil) != useB {
			s.resCounter--
			continue
		}
		verb := "adopts"
		if observeOnly {
			spec.ManagementPolicy, verb = cockpitv1alpha1.ManagementPolicyObserveOnly, "observes (ObserveOnly)"
		}
		ep := &cockpitv1alpha1.KrosEndpoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
				Annotations: map[string]string{cockpitv1alpha1.AnnotationEndpointID: id}},
			Spec: spec,
		}
		if err := s.cl.Admin.Create(ctx, ep); err != nil {
			return nil, err
		}
		r := &resModel{key: ns + "/" + name, ns: ns, name: name, typ: string(typ), names: []string{display}}
		r.remember(&ep.Spec)
		s.res[r.key] = r
		s.displayNames[display] = r.key
		s.log.add("adopt", r.key, "type %s %s remote %s (org B %v)", typ, verb, id, useB)
		return r, nil
	}
	return nil, errors.New("no spec of the wanted organization drawn")
}

// opTwins creates two resources of one type and one display name, in one
// organization, each with a spec of its own: when their creates are
// interrupted (commit-then-fail bursts draw this often), recovery must tell
// whose endpoint is whose, or stall, never swap them.
func (s *soak) opTwins(ctx context.Context) error {
	typ := pick(s.rng, endpointTypes)
	s.twinCounter++
	display := fmt.Sprintf("soak twins-%d", s.twinCounter)
	useB := s.chance(0.4)
	same := func(spec *cockpitv1alpha1.KrosEndpointSpec) {
		spec.DisplayName = display
		spec.APIKeySecretRef = nil
		if useB {
			spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: orgBSecret}
		}
	}
	for range 2 {
		if _, err := s.createResource(ctx, pick(s.rng, s.namespaces), typ, " (twin named "+display+")", same); err != nil {
			return err
		}
	}
	return nil
}

// opMoveOrganization moves a resource of organization B to organization A
// as docs/credentials.md says: with a key that reaches both, it names A in
// spec.organizationID (the operator must stall with OrganizationChanged and
// create nothing in A), orphans the endpoint, deletes the resource, and
// creates a resource for A in its place.
func (s *soak) opMoveOrganization(ctx context.Context) error {
	r := s.pickRes(func(r *resModel) bool { return !r.paused && !r.moving })
	if r == nil {
		return errNothingToDo
	}
	ep, err := s.get(ctx, r)
	if err != nil {
		return err
	}
	if ep.Spec.APIKeySecretRef == nil || ep.Status.OrganizationID != orgB {
		return errNothingToDo
	}
	var creds corev1.Secret
	if err := s.cl.Admin.Get(ctx, client.ObjectKey{Namespace: r.ns, Name: orgBSecret}, &creds); err != nil {
		return err
	}
	// The key now also reaches A: following it there would succeed, and
	// leave the endpoint in B behind.
	key := string(creds.Data[cockpitv1alpha1.SecretKeyAPIKey])
	if err := s.sim.admin.AddKey(ctx, key, orgA); err != nil {
		return err
	}
	s.simKeys = append(s.simKeys, key+"="+orgA)
	orig := ep.DeepCopy()
	ep.Spec.OrganizationID = orgA
	ep.Spec.DeletionPolicy = cockpitv1alpha1.DeletionPolicyOrphan
	if err := s.cl.Admin.Patch(ctx, ep, client.MergeFrom(orig)); err != nil {
		return err
	}
	r.moving = true
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	s.leftovers = append(s.leftovers, &leftover{key: r.key, ids: []string{id}, names: r.names,
		why: "orphaned in organization B when the resource moved to A"})
	stalled := s.waitStalled(ctx, r, cockpitv1alpha1.ReasonOrganizationChanged, 8*time.Second)
	s.log.add("move-organization", r.key, "spec.organizationID set to A (endpoint %s in B), Orphan; "+
		"OrganizationChanged seen: %v", id, stalled)
	if err := s.finishMove(ctx, r); err != nil {
		return err
	}
	_, err = s.createResource(ctx, r.ns, cockpitv1alpha1.EndpointType(r.typ), " (moved from "+r.key+" to org A)",
		func(spec *cockpitv1alpha1.KrosEndpointSpec) {
			spec.APIKeySecretRef, spec.OrganizationID = nil, orgA
		})
	return err
}

// finishMove deletes a resource being moved (its deletionPolicy is Orphan).
func (s *soak) finishMove(ctx context.Context, r *resModel) error {
	return s.deleteResource(ctx, r, ", to finish its move to organization A")
}

// waitStalled polls a resource for Stalled with reason, for at most wait.
func (s *soak) waitStalled(ctx context.Context, r *resModel, reason string, wait time.Duration) bool {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		ep, err := s.get(ctx, r)
		if err != nil {
			continue
		}
		if c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionStalled); c != nil &&
			c.Status == metav1.ConditionTrue && c.Reason == reason {
			return true
		}
	}
	return false
}

func (s *soak) findByName(ctx context.Context, name string) string {
	byOrg, err := s.sim.admin.Endpoints(ctx)
	if err != nil {
		return ""
	}
	for _, group := range byOrg {
		for _, e := range group {
			if e.Name == name {
				return e.ID
			}
		}
	}
	return ""
}

func (s *soak) opRotateSIP(ctx context.Context) error {
	ns, name := pick(s.rng, s.namespaces), pick(s.rng, sipSecrets)
	secret := &corev1.Secret{}
	if err := s.cl.Admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, secret); err != nil {
		return err
	}
	orig := secret.DeepCopy()
	secret.Data[corev1.BasicAuthPasswordKey] = []byte(s.newPassword())
	what := "password"
	if s.chance(0.3) {
		secret.Data[corev1.BasicAuthUsernameKey] = []byte("user-" + s.token(6))
		what = "username and password"
	}
	if err := s.cl.Admin.Patch(ctx, secret, client.MergeFrom(orig)); err != nil {
		return err
	}
	s.log.add("rotate-sip", ns, "Secret %s: new %s", name, what)
	return nil
}

// opRotateKey moves an API key Secret to another valid key of its organization.
func (s *soak) opRotateKey(ctx context.Context) error {
	ns, name, org := pick(s.rng, s.namespaces), orgBSecret, orgB
	switch n := s.rng.Float64(); {
	case n < 0.25:
		ns, name, org = operatorNamespace, credentialsSecret, orgA
	case n < 0.4:
		ns, name, org = operatorNamespace, tenantSecret, orgT
	}
	key, err := s.newKey(org)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{}
	if err := s.cl.Admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, secret); err != nil {
		return err
	}
	orig := secret.DeepCopy()
	secret.Data[cockpitv1alpha1.SecretKeyAPIKey] = []byte(key)
	if err := s.cl.Admin.Patch(ctx, secret, client.MergeFrom(orig)); err != nil {
		return err
	}
	if org == orgB {
		s.orgBKeys = append(s.orgBKeys, key)
	}
	s.log.add("rotate-key", ns, "Secret %s: another key of org %s", name, org)
	return nil
}

func (s *soak) opDeleteNamespace(ctx context.Context) error {
	ns := pick(s.rng, s.namespaces)
	s.collectEvents(ctx, ns) // the namespace takes its Events with it
	var list cockpitv1alpha1.KrosEndpointList
	if err := s.cl.Admin.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	if err := s.cl.Admin.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	s.namespaces = slices.DeleteFunc(s.namespaces, func(n string) bool { return n == ns })
	byName := map[string]*cockpitv1alpha1.KrosEndpoint{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	n := 0
	for _, r := range s.res {
		if r.ns == ns {
			s.forget(r, byName[r.name])
			n++
		}
	}
	s.log.add("delete-namespace", ns, "with %d KrosEndpoints", n)
	return s.newNamespace(ctx)
}

// dashboardTarget picks a live resource whose remote endpoint the operator
// has recorded and reported, and returns that endpoint's id.
func (s *soak) dashboardTarget(ctx context.Context) (*resModel, string, error) {
	r := s.pickRes(nil)
	if r == nil {
		return nil, "", errNothingToDo
	}
	ep, err := s.get(ctx, r)
	if err != nil {
		return nil, "", err
	}
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	if id == "" || ep.Status.ID != id || !ep.DeletionTimestamp.IsZero() {
		return nil, "", errNothingToDo
	}
	return r, id, nil
}

func (s *soak) opDashboardEdit(ctx context.Context) error {
	r, id, err := s.dashboardTarget(ctx)
	if err != nil {
		return err
	}
	e, found, err := s.sim.admin.Endpoint(ctx, id)
	if err != nil || !found {
		return errors.Join(err, errNothingToDo)
	}
	// The log names the fields changed, as the admin API's JSON does.
	var patch krosaisim.EndpointPatch
	var keys []string
	switch s.rng.IntN(3) {
	case 0:
		patch.Name, keys = new("dashboard "+s.token(6)), []string{"name"}
	case 1:
		status := "inactive"
		if e.Status == status {
			status = "active"
		}
		patch.Status, keys = &status, []string{"status"}
	default:
		if e.Type == string(cockpitv1alpha1.EndpointTypeWebhook) {
			patch.URL, keys = new("https://dashboard.example.com/"+s.token(6)), []string{"url"}
			break
		}
		// A readable field changed, the rest (passwords included) kept, as
		// a dashboard form would. Every type but webhook has one of these.
		cfg := maps.Clone(e.ProviderConfig)
		for _, k := range []string{"assistant_id", "agent_id", "elevenlabs_agent_id", "livekit_sip_trunk_id",
			"vogent_sip_prefix", "sip_uri"} {
			if _, ok := cfg[k]; ok {
				cfg[k] = "dash-" + s.token(5)
				break
			}
		}
		patch.ProviderConfig, keys = cfg, []string{"provider_config"}
	}
	if _, err := s.sim.admin.UpdateEndpoint(ctx, id, patch); err != nil {
		return err
	}
	s.log.add("dashboard-edit", r.key, "remote %s: %v", id, keys)
	return nil
}

func (s *soak) opDashboardDelete(ctx context.Context) error {
	r, id, err := s.dashboardTarget(ctx)
	if err != nil {
		return err
	}
	if r.observeOnly {
		return errNothingToDo // it would stall, by design: ObserveOnly never creates
	}
	if err := s.sim.admin.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	s.log.add("dashboard-delete", r.key, "remote %s deleted in the dashboard", id)
	return nil
}
