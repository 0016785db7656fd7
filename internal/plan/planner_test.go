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

package plan

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
	"github.com/krosai/kros-operator/pkg/operator"
)

// fakeAPI serves one organization's endpoints and counts the lists.
type fakeAPI struct {
	endpoints []krosai.Endpoint
	err       error
	lists     int
}

func (f *fakeAPI) ListEndpoints(context.Context, krosai.Credentials) ([]krosai.Endpoint, error) {
	f.lists++
	return f.endpoints, f.err
}

const org = "11111111-1111-4111-8111-111111111111"

var (
	defaultCredentials = types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"}
	createdAt          = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
)

func credentialsSecret() *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: defaultCredentials.Namespace, Name: defaultCredentials.Name},
		Data: map[string][]byte{cockpitv1alpha1.SecretKeyAPIKey: []byte("key-1")}}
}

func sipSecret(resourceVersion string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "sip", ResourceVersion: resourceVersion},
		Data: map[string][]byte{cockpitv1alpha1.SecretKeyUsername: []byte("alice"), cockpitv1alpha1.SecretKeyPassword: []byte("s3cret-pw")}}
}

// resource is an ElevenLabs KrosEndpoint team/name with agent "agent-a".
func resource(name string, mutate ...func(*cockpitv1alpha1.KrosEndpoint)) cockpitv1alpha1.KrosEndpoint {
	ep := cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, Annotations: map[string]string{}},
		Spec: cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeElevenLabs, DisplayName: "Front desk",
			ElevenLabs: &cockpitv1alpha1.ElevenLabsConfig{AgentID: "agent-a"}},
	}
	for _, m := range mutate {
		m(&ep)
	}
	return ep
}

// claimingE1 is a resource that created or adopted e-1.
func claimingE1(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Annotations[cockpitv1alpha1.AnnotationEndpointID] = "e-1"
	ep.Status.ID = "e-1"
}

func annotated(key, value string) func(*cockpitv1alpha1.KrosEndpoint) {
	return func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Annotations[key] = value }
}

func deleting(mutate func(*cockpitv1alpha1.KrosEndpoint)) func(*cockpitv1alpha1.KrosEndpoint) {
	return func(ep *cockpitv1alpha1.KrosEndpoint) {
		ep.DeletionTimestamp = &metav1.Time{Time: createdAt}
		ep.Finalizers = []string{cockpitv1alpha1.Finalizer}
		if mutate != nil {
			mutate(ep)
		}
	}
}

func vogent(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec.Type, ep.Spec.ElevenLabs = cockpitv1alpha1.EndpointTypeVogent, nil
	ep.Spec.Vogent = &cockpitv1alpha1.VogentConfig{AgentID: "v-1", SIPPrefix: "p",
		CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "sip"}}
}

// remote is e-1, the endpoint a resource("x") maps to, as KrosAI holds it.
func remote(mutate ...func(*krosai.Endpoint)) krosai.Endpoint {
	e := krosai.Endpoint{ID: "e-1", Name: "Front desk", Type: "elevenlabs", Status: krosai.StatusActive,
		URL: "sip:e-1@sip.krosai.com", CreatedAt: createdAt,
		ProviderConfig: krosai.ProviderConfig{ElevenLabsAgentID: "agent-a"}}
	for _, m := range mutate {
		m(&e)
	}
	return e
}

// TestPlan checks how each kind of decision reads as a step: decide_test.go
// holds the decisions themselves.
func TestPlan(t *testing.T) {
	pendingRecord := mapping.NewPendingCreate(createdAt.Add(-time.Minute),
		mapping.Desired(new(resource("x")), mapping.SIPLogin{})).String()
	tests := []struct {
		name    string
		ep      cockpitv1alpha1.KrosEndpoint
		cluster []client.Object
		remote  []krosai.Endpoint
		want    Step
	}{
		{name: "create: every field the request sets",
			ep: resource("x"),
			want: Step{Action: ActionCreate, Changes: []Change{
				{Field: "name", SpecField: "spec.displayName", New: "Front desk"},
				{Field: "provider_config.elevenlabs_agent_id", SpecField: "spec.elevenLabs.agentID", New: "agent-a"}},
				Message: "create the endpoint"}},
		{name: "none", ep: resource("x", claimingE1), remote: []krosai.Endpoint{remote()},
			want: Step{Action: ActionNone, EndpointID: "e-1", Message: "the endpoint matches the spec"}},
		{name: "update: old to new",
			ep:     resource("x", claimingE1),
			remote: []krosai.Endpoint{remote(func(e *krosai.Endpoint) { e.ProviderConfig.ElevenLabsAgentID = "agent-b" })},
			want: Step{Action: ActionUpdate, EndpointID: "e-1", Changes: []Change{{Field: "provider_config.elevenlabs_agent_id",
				SpecField: "spec.elevenLabs.agentID", Old: "agent-b", New: "agent-a"}},
				Message: "update provider_config.elevenlabs_agent_id"}},
		{name: "adopt",
			ep: resource("x", annotated(cockpitv1alpha1.AnnotationEndpointID, "e-1")), remote: []krosai.Endpoint{remote()},
			want: Step{Action: ActionAdopt, EndpointID: "e-1", Message: "adopt the existing endpoint; the endpoint matches the spec"}},
		{name: "blocked, with the operator's reason and message",
			ep:      resource("x", annotated(cockpitv1alpha1.AnnotationEndpointID, "e-1")),
			cluster: []client.Object{new(resource("owner", claimingE1))}, remote: []krosai.Endpoint{remote()},
			want: Step{Action: ActionBlocked, Reason: cockpitv1alpha1.ReasonEndpointOwnedByAnother,
				Message: mapping.OwnedByAnother(new(resource("x")), "e-1", new(resource("owner"))).Message}},
		{name: "recreate: deleted in the dashboard, the list agrees",
			ep: resource("x", claimingE1),
			want: Step{Action: ActionRecreate, EndpointID: "e-1", Changes: []Change{
				{Field: "name", SpecField: "spec.displayName", New: "Front desk"},
				{Field: "provider_config.elevenlabs_agent_id", SpecField: "spec.elevenLabs.agentID", New: "agent-a"}},
				Message: "endpoint e-1 was deleted outside Kubernetes; create it again"}},
		{name: "recover: an adoption of what an interrupted create made",
			ep:     resource("x", annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord)),
			remote: []krosai.Endpoint{remote()},
			want: Step{Action: ActionAdopt, EndpointID: "e-1",
				Message: "adopt the endpoint an interrupted create made; the endpoint matches the spec"}},
		{name: "a SIP login to push: sent, without values",
			ep: resource("x", vogent, claimingE1), cluster: []client.Object{sipSecret("7")},
			remote: []krosai.Endpoint{remote(func(e *krosai.Endpoint) {
				e.Type, e.ProviderConfig = "vogent", krosai.ProviderConfig{VogentAgentID: "v-1", VogentSIPPrefix: "p"}
			})},
			want: Step{Action: ActionUpdate, EndpointID: "e-1", Changes: []Change{
				{Field: "provider_config.vogent_sip_username", SpecField: "spec.vogent.credentialsSecretRef (username)", Secret: true},
				{Field: "provider_config.vogent_sip_password", SpecField: "spec.vogent.credentialsSecretRef (password)", Secret: true}},
				Message: "update provider_config.vogent_sip_username, provider_config.vogent_sip_password"}},
		{name: "ObserveOnly: none, naming the drift",
			ep: resource("x", claimingE1, func(ep *cockpitv1alpha1.KrosEndpoint) {
				ep.Spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
			}),
			remote: []krosai.Endpoint{remote(func(e *krosai.Endpoint) { e.Name = "Renamed" })},
			want: Step{Action: ActionNone, EndpointID: "e-1",
				Message: "observed only (managementPolicy ObserveOnly); status.drift would list: name"}},
		{name: "paused", ep: resource("x", annotated(cockpitv1alpha1.AnnotationPaused, "true")),
			want: Step{Action: ActionNone,
				Message: "paused: the operator does nothing until the annotation cockpit.krosai.com/paused is removed"}},
		{name: "delete", ep: resource("x", claimingE1, deleting(nil)), remote: []krosai.Endpoint{remote()},
			want: Step{Action: ActionDelete, EndpointID: "e-1", Message: "delete endpoint e-1 from KrosAI"}},
		{name: "delete, already gone: the DELETE is still sent", ep: resource("x", claimingE1, deleting(nil)),
			want: Step{Action: ActionDelete, EndpointID: "e-1", Message: "endpoint e-1 is already gone from KrosAI: " +
				"its DELETE will find nothing, and the resource is released"}},
		{name: "orphan",
			ep: resource("x", claimingE1, deleting(func(ep *cockpitv1alpha1.KrosEndpoint) {
				ep.Spec.DeletionPolicy = cockpitv1alpha1.DeletionPolicyOrphan
			})), remote: []krosai.Endpoint{remote()},
			want: Step{Action: ActionOrphan, EndpointID: "e-1", Message: "deletionPolicy Orphan leaves the endpoint in KrosAI"}},
		{name: "orphan: never adopted, and not granted to its namespace",
			ep: resource("x", annotated(cockpitv1alpha1.AnnotationEndpointID, "e-1"), deleting(nil)),
			cluster: []client.Object{&cockpitv1alpha1.KrosGrant{ObjectMeta: metav1.ObjectMeta{Name: "lockdown"},
				Spec: cockpitv1alpha1.KrosGrantSpec{CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: defaultCredentials.Name}}}},
			remote: []krosai.Endpoint{remote()},
			want: Step{Action: ActionOrphan, EndpointID: "e-1", Message: "never adopted, and no KrosGrant gives it to this " +
				"namespace: the operator deletes nothing a namespace was not granted"}},
		{name: "deleted before any create", ep: resource("x", deleting(nil)),
			want: Step{Action: ActionNone, Message: "being deleted; no endpoint was ever created"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			objs := append([]client.Object{credentialsSecret()}, tt.cluster...)
			api := &fakeAPI{endpoints: tt.remote}
			p := &Planner{Reader: fake.NewClientBuilder().WithScheme(operator.NewScheme()).WithObjects(objs...).Build(),
				API: api, DefaultCredentials: defaultCredentials}
			got, err := p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{tt.ep}, false)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Items).To(HaveLen(1))
			tt.want.Namespace, tt.want.Name = "team", "x"
			g.Expect(got.Items[0]).To(Equal(tt.want))
			g.Expect(got.InSync()).To(Equal(tt.want.Action == ActionNone))
		})
	}
}

// TestPlanAgreesWithTheOperator holds the cases where a plan once
// predicted something the operator then did not do.
func TestPlanAgreesWithTheOperator(t *testing.T) {
	plan := func(g Gomega, api *fakeAPI, objs []client.Object, fromFiles bool, eps ...cockpitv1alpha1.KrosEndpoint) Plan {
		p := &Planner{Reader: fake.NewClientBuilder().WithScheme(operator.NewScheme()).
			WithObjects(append([]client.Object{credentialsSecret()}, objs...)...).Build(), API: api, DefaultCredentials: defaultCredentials}
		got, err := p.Plan(context.Background(), eps, fromFiles)
		g.Expect(err).NotTo(HaveOccurred())
		return got
	}
	t.Run("a key refused in the organization pinned from status: the organization changed", func(t *testing.T) {
		g := NewWithT(t)
		ep := resource("x", claimingE1, func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Status.OrganizationID = org })
		got := plan(g, &fakeAPI{err: &krosai.Error{Kind: krosai.KindForbidden, StatusCode: 403}}, nil, false, ep)
		g.Expect(got.Items[0].Reason).To(Equal(cockpitv1alpha1.ReasonOrganizationChanged))
	})
	t.Run("two manifests naming one endpoint: both blocked, as each claims it", func(t *testing.T) {
		g := NewWithT(t)
		got := plan(g, &fakeAPI{endpoints: []krosai.Endpoint{remote()}}, nil, true,
			resource("a", annotated(cockpitv1alpha1.AnnotationEndpointID, "e-1")),
			resource("b", annotated(cockpitv1alpha1.AnnotationEndpointID, "e-1")))
		g.Expect(got.Items).To(HaveEach(HaveField("Reason", cockpitv1alpha1.ReasonEndpointOwnedByAnother)))
	})
	t.Run("a webhook whose signing Secret's name is taken: blocked before the create", func(t *testing.T) {
		g := NewWithT(t)
		squatter := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "x-webhook-signing"}}
		ep := resource("x", func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Spec.Type, ep.Spec.ElevenLabs = cockpitv1alpha1.EndpointTypeWebhook, nil
			ep.Spec.Webhook = &cockpitv1alpha1.WebhookConfig{URL: "https://hooks.example.com/x"}
		})
		got := plan(g, &fakeAPI{}, []client.Object{squatter}, true, ep)
		g.Expect(got.Items[0].Action).To(Equal(ActionBlocked))
		g.Expect(got.Items[0].Reason).To(Equal(cockpitv1alpha1.ReasonSigningSecretConflict))
	})
}

// TestPlanFromFiles checks that a manifest is planned as `kubectl apply`
// would leave it: on top of the cluster's object, whose status says which
// endpoint it already owns.
func TestPlanFromFiles(t *testing.T) {
	g := NewWithT(t)
	inCluster := resource("x", claimingE1)
	edited := resource("x", annotated(cockpitv1alpha1.AnnotationEndpointID, "e-1"), func(ep *cockpitv1alpha1.KrosEndpoint) {
		ep.Spec.DisplayName = "Front desk (new)"
	})
	api := &fakeAPI{endpoints: []krosai.Endpoint{remote()}}
	p := &Planner{Reader: fake.NewClientBuilder().WithScheme(operator.NewScheme()).
		WithObjects(credentialsSecret(), &inCluster).Build(), API: api, DefaultCredentials: defaultCredentials}

	got, err := p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{edited}, true)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Items[0].Action).To(Equal(ActionUpdate), "not an adoption of its own endpoint: %s", got.Items[0].Message)
	g.Expect(got.Items[0].Changes).To(Equal([]Change{{Field: "name", SpecField: "spec.displayName",
		Old: "Front desk", New: "Front desk (new)"}}))

	got, err = p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{edited}, false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Items[0].Action).To(Equal(ActionAdopt), "the manifest alone has no status: it names e-1 as an adoption")
}

// TestPlanCredentials checks where the API key comes from and what a
// refused one means.
func TestPlanCredentials(t *testing.T) {
	refused := &krosai.Error{Kind: krosai.KindUnauthorized, StatusCode: 401}
	t.Run("a key the operator's Secret holds, refused: blocked, as the operator would be", func(t *testing.T) {
		g := NewWithT(t)
		p := &Planner{Reader: fake.NewClientBuilder().WithScheme(operator.NewScheme()).WithObjects(credentialsSecret()).Build(),
			API: &fakeAPI{err: refused}, DefaultCredentials: defaultCredentials}
		got, err := p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{resource("x")}, false)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got.Items[0].Reason).To(Equal(cockpitv1alpha1.ReasonUnauthorized))
	})
	t.Run("a key given to the CLI, refused: an error", func(t *testing.T) {
		g := NewWithT(t)
		p := &Planner{Reader: fake.NewClientBuilder().WithScheme(operator.NewScheme()).Build(),
			API: &fakeAPI{err: refused}, DefaultCredentials: defaultCredentials, Credentials: &krosai.Credentials{APIKey: "k"}}
		_, err := p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{resource("x")}, false)
		g.Expect(err).To(HaveOccurred())
	})
	t.Run("one list per organization, however many resources", func(t *testing.T) {
		g := NewWithT(t)
		api := &fakeAPI{endpoints: []krosai.Endpoint{remote()}}
		p := &Planner{Reader: fake.NewClientBuilder().WithScheme(operator.NewScheme()).Build(),
			API: api, DefaultCredentials: defaultCredentials, Credentials: &krosai.Credentials{APIKey: "k"}}
		got, err := p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{
			resource("a", claimingE1), resource("b"), resource("c")}, false)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got.Items).To(HaveLen(3))
		g.Expect(api.lists).To(Equal(1))

		_, err = p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{resource("a", claimingE1)}, false)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(api.lists).To(Equal(2), "the next plan lists again: KrosAI may have changed")
	})
}

// TestPlanReadsEachSecretOnce: resources that share the operator's
// credentials and a SIP Secret cost one read of each, found or not.
func TestPlanReadsEachSecretOnce(t *testing.T) {
	g := NewWithT(t)
	gets := map[string]int{}
	reader := interceptor.NewClient(fake.NewClientBuilder().WithScheme(operator.NewScheme()).
		WithObjects(credentialsSecret(), sipSecret("7")).Build(), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gets[key.String()]++
			return c.Get(ctx, key, obj, opts...)
		}})
	missing := func(ep *cockpitv1alpha1.KrosEndpoint) {
		vogent(ep)
		ep.Spec.Vogent.CredentialsSecretRef.Name = "absent"
	}
	p := &Planner{Reader: reader, API: &fakeAPI{}, DefaultCredentials: defaultCredentials}
	got, err := p.Plan(context.Background(), []cockpitv1alpha1.KrosEndpoint{resource("a", vogent), resource("b", vogent),
		resource("c"), resource("d", missing), resource("e", missing)}, false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Items[3].Reason).To(Equal(cockpitv1alpha1.ReasonSecretNotFound))
	g.Expect(got.Items[4].Reason).To(Equal(cockpitv1alpha1.ReasonSecretNotFound))
	g.Expect(gets).To(Equal(map[string]int{"/team": 1, "kros-system/krosai-credentials": 1, "team/sip": 1, "team/absent": 1}),
		"and the namespace's labels once")
}

// TestPlanCluster: the cluster's resources of a namespace, or of all, are
// planned from the one list of KrosEndpoints that also says who claims what.
func TestPlanCluster(t *testing.T) {
	g := NewWithT(t)
	elsewhere := resource("y", claimingE1)
	elsewhere.Namespace = "other"
	lists := 0
	reader := interceptor.NewClient(fake.NewClientBuilder().WithScheme(operator.NewScheme()).
		WithObjects(credentialsSecret(), new(resource("x")), &elsewhere).Build(), interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lists++
			return c.List(ctx, list, opts...)
		}})
	p := &Planner{Reader: reader, API: &fakeAPI{endpoints: []krosai.Endpoint{remote()}}, DefaultCredentials: defaultCredentials}

	got, err := p.PlanCluster(context.Background(), "team")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.APIVersion).To(Equal(APIVersion))
	g.Expect(got.Kind).To(Equal(Kind))
	g.Expect(got.Items).To(ConsistOf(HaveField("Name", "x")))
	g.Expect(lists).To(Equal(2), "the KrosEndpoints and the KrosGrants, once each")

	got, err = p.PlanCluster(context.Background(), "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Items).To(HaveLen(2))
	g.Expect(got.Items[0].Namespace).To(Equal("other"), "sorted by namespace")
	g.Expect(lists).To(Equal(4))
}
