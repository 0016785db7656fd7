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
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// Lister reads an organization's endpoints: the only call a plan makes to
// KrosAI.
type Lister interface {
	ListEndpoints(ctx context.Context, cred krosai.Credentials) ([]krosai.Endpoint, error)
}

// Planner predicts the next reconcile of a freshly started operator: one
// that has written nothing yet, so it knows of SIP credentials only what
// status recorded, and sees KrosAI through one list per organization.
type Planner struct {
	// Reader reads KrosEndpoints (all namespaces) and Secrets.
	Reader client.Reader
	API    Lister
	// DefaultCredentials is the operator's credentials Secret, for
	// KrosEndpoints without spec.apiKeySecretRef.
	DefaultCredentials types.NamespacedName
	// Credentials, when set, replace every resource's API key Secret (the
	// CLI's KROSAI_API_KEY or --api-key-file). A refused key is then an
	// error, not a blocked step.
	Credentials *krosai.Credentials
}

// planRun is one Plan: what it has read, once. Nothing outlives it, so a
// Planner's next Plan sees KrosAI and the cluster as they are then.
type planRun struct {
	*Planner
	lists map[organization][]krosai.Endpoint
	// secrets are the Secrets read so far, nil for one that does not
	// exist: many resources share one.
	secrets map[types.NamespacedName]*secretRead
}

type secretRead struct {
	data            map[string][]byte
	resourceVersion string
}

// organization identifies a list: one per API key and organization.
type organization struct{ apiKey, id string }

// ReadCredentials reads the API key and organization of a credentials
// Secret by the operator's rule.
func ReadCredentials(ctx context.Context, r client.Reader, secret types.NamespacedName) (krosai.Credentials, error) {
	ref := mapping.SecretRef{Key: secret, Field: "--credentials-secret"}
	data, _, err := readSecret(ctx, r, ref)
	if err != nil {
		return krosai.Credentials{}, err
	}
	return mapping.Credentials(data, ref)
}

func readSecret(ctx context.Context, r client.Reader, ref mapping.SecretRef) (map[string][]byte, string, error) {
	var s corev1.Secret
	if err := r.Get(ctx, ref.Key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", mapping.SecretNotFound(ref)
		}
		return nil, "", fmt.Errorf("read Secret %s: %w", ref.Key, err)
	}
	return s.Data, s.ResourceVersion, nil
}

// Plan says what the operator would do next for each resource. Resources
// read from files (fromFiles) are taken as `kubectl apply` would leave them:
// on top of the cluster's object of the same name, if there is one, whose
// status, finalizers and annotations they keep. It fails only when it cannot
// read; whatever would stop the operator is a blocked step.
func (p *Planner) Plan(ctx context.Context, resources []cockpitv1alpha1.KrosEndpoint, fromFiles bool) (Plan, error) {
	cluster, err := p.listCluster(ctx)
	if err != nil {
		return Plan{}, err
	}
	return p.plan(ctx, cluster, resources, fromFiles)
}

// PlanCluster plans the cluster's KrosEndpoints in namespace, or in every
// namespace when it is empty, from the one list that also says who claims
// what.
func (p *Planner) PlanCluster(ctx context.Context, namespace string) (Plan, error) {
	cluster, err := p.listCluster(ctx)
	if err != nil {
		return Plan{}, err
	}
	resources := slices.DeleteFunc(slices.Clone(cluster), func(o cockpitv1alpha1.KrosEndpoint) bool {
		return namespace != "" && o.Namespace != namespace
	})
	return p.plan(ctx, cluster, resources, false)
}

// listCluster lists the KrosEndpoints of every namespace: claims are
// cluster-wide, as the controller's are.
func (p *Planner) listCluster(ctx context.Context) ([]cockpitv1alpha1.KrosEndpoint, error) {
	var list cockpitv1alpha1.KrosEndpointList
	if err := p.Reader.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list KrosEndpoints: %w", err)
	}
	return list.Items, nil
}

func (p *Planner) plan(ctx context.Context, cluster, resources []cockpitv1alpha1.KrosEndpoint, fromFiles bool) (Plan, error) {
	run := &planRun{Planner: p}
	out := Plan{APIVersion: APIVersion, Kind: Kind, Items: make([]Step, 0, len(resources))}
	for i := range resources {
		ep := resources[i].DeepCopy()
		if fromFiles {
			ep = asApplied(ep, cluster)
		}
		others := slices.DeleteFunc(slices.Clone(cluster), func(o cockpitv1alpha1.KrosEndpoint) bool {
			return o.Namespace == ep.Namespace && o.Name == ep.Name
		})
		step, err := run.step(ctx, ep, others)
		if err != nil {
			return Plan{}, fmt.Errorf("KrosEndpoint %s/%s: %w", ep.Namespace, ep.Name, err)
		}
		step.Namespace, step.Name = ep.Namespace, ep.Name
		out.Items = append(out.Items, step)
	}
	slices.SortFunc(out.Items, func(a, b Step) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

// asApplied is ep as `kubectl apply` of its manifest would leave it: the
// cluster's object of the same name, if any, with ep's spec, labels and
// annotations.
func asApplied(ep *cockpitv1alpha1.KrosEndpoint, cluster []cockpitv1alpha1.KrosEndpoint) *cockpitv1alpha1.KrosEndpoint {
	i := slices.IndexFunc(cluster, func(o cockpitv1alpha1.KrosEndpoint) bool {
		return o.Namespace == ep.Namespace && o.Name == ep.Name
	})
	if i < 0 {
		return ep
	}
	applied := cluster[i].DeepCopy()
	applied.Spec = ep.Spec
	for k, v := range ep.Labels {
		if applied.Labels == nil {
			applied.Labels = map[string]string{}
		}
		applied.Labels[k] = v
	}
	for k, v := range ep.Annotations {
		if applied.Annotations == nil {
			applied.Annotations = map[string]string{}
		}
		applied.Annotations[k] = v
	}
	return applied
}

// step follows Reconcile: deletion, pause, Secrets, then the management
// policy's path.
func (p *planRun) step(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, others []cockpitv1alpha1.KrosEndpoint) (Step, error) {
	if !ep.DeletionTimestamp.IsZero() {
		return p.finalize(ctx, ep, others)
	}
	if ep.Annotations[cockpitv1alpha1.AnnotationPaused] == "true" {
		return none("", "paused: the operator does nothing until the annotation %s is removed",
			cockpitv1alpha1.AnnotationPaused), nil
	}
	observeOnly := ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly
	res, remote, err := p.read(ctx, ep, observeOnly)
	if err != nil {
		return blockedOr(err)
	}
	if observeOnly {
		return observe(ep, res, remote, others), nil
	}
	return manage(ep, res, remote, others), nil
}

// read resolves ep's Secrets, as the operator would, and lists the
// endpoints of its organization.
func (p *planRun) read(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, apiKeyOnly bool) (mapping.Resolved, []krosai.Endpoint, error) {
	apiKey := mapping.SecretRefs(ep, p.DefaultCredentials)[0]
	res, err := mapping.Resolve(ep, p.DefaultCredentials, apiKeyOnly, func(ref mapping.SecretRef) (map[string][]byte, string, error) {
		if ref == apiKey && p.Credentials != nil {
			return map[string][]byte{
				cockpitv1alpha1.SecretKeyAPIKey:         []byte(p.Credentials.APIKey),
				cockpitv1alpha1.SecretKeyOrganizationID: []byte(p.Credentials.OrganizationID),
			}, "", nil
		}
		return p.readSecret(ctx, ref)
	})
	if err != nil {
		return mapping.Resolved{}, nil, err
	}
	remote, err := p.list(ctx, res.Credentials)
	return res, remote, err
}

// readSecret reads each Secret once per plan.
func (p *planRun) readSecret(ctx context.Context, ref mapping.SecretRef) (map[string][]byte, string, error) {
	read, seen := p.secrets[ref.Key]
	if !seen {
		data, version, err := readSecret(ctx, p.Reader, ref)
		if _, notFound := errors.AsType[*mapping.Stalled](err); err != nil && !notFound {
			return nil, "", err
		}
		if err == nil {
			read = &secretRead{data: data, resourceVersion: version}
		}
		if p.secrets == nil {
			p.secrets = map[types.NamespacedName]*secretRead{}
		}
		p.secrets[ref.Key] = read
	}
	if read == nil {
		return nil, "", mapping.SecretNotFound(ref)
	}
	return read.data, read.resourceVersion, nil
}

// list lists an organization's endpoints once per plan.
func (p *planRun) list(ctx context.Context, cred krosai.Credentials) ([]krosai.Endpoint, error) {
	key := organization{apiKey: cred.APIKey, id: cred.OrganizationID}
	if all, ok := p.lists[key]; ok {
		return all, nil
	}
	all, err := p.API.ListEndpoints(ctx, cred)
	if err != nil {
		kind := krosai.KindOf(err)
		if p.Credentials == nil && (kind == krosai.KindUnauthorized || kind == krosai.KindForbidden) {
			// As the operator would: stalled on this resource's key.
			reason := cockpitv1alpha1.ReasonUnauthorized
			if kind == krosai.KindForbidden {
				reason = cockpitv1alpha1.ReasonForbidden
			}
			return nil, &mapping.Stalled{Reason: reason, Message: err.Error()}
		}
		return nil, fmt.Errorf("list the endpoints of KrosAI organization %s: %w", cmp.Or(cred.OrganizationID, "(the API key's default)"), err)
	}
	if p.lists == nil {
		p.lists = map[organization][]krosai.Endpoint{}
	}
	p.lists[key] = all
	return all, nil
}

// blockedOr turns a *mapping.Stalled into a blocked step and returns any
// other error.
func blockedOr(err error) (Step, error) {
	if stalled, ok := errors.AsType[*mapping.Stalled](err); ok {
		return blocked(stalled), nil
	}
	return Step{}, err
}

func blocked(s *mapping.Stalled) Step {
	return Step{Action: ActionBlocked, Reason: s.Reason, Message: s.Message}
}

func none(id, format string, args ...any) Step {
	return Step{Action: ActionNone, EndpointID: id, Message: fmt.Sprintf(format, args...)}
}

// find returns the endpoint of all with id.
func find(all []krosai.Endpoint, id string) (krosai.Endpoint, bool) {
	i := slices.IndexFunc(all, func(e krosai.Endpoint) bool { return e.ID == id })
	if i < 0 {
		return krosai.Endpoint{}, false
	}
	return all[i], true
}

// observe follows the controller under managementPolicy ObserveOnly: it
// reads the endpoint the resource names and writes nothing.
func observe(ep *cockpitv1alpha1.KrosEndpoint, res mapping.Resolved, remote []krosai.Endpoint, others []cockpitv1alpha1.KrosEndpoint) Step {
	id := mapping.ObservedID(ep)
	if id == "" {
		return blocked(mapping.EndpointIDRequired())
	}
	if adopting := ep.Status.ID != id; adopting {
		if s := claimedByAnother(id, others); s != nil {
			return blocked(s)
		}
	}
	e, ok := find(remote, id)
	if !ok {
		return blocked(mapping.AdoptionTargetNotFound(id, res.Credentials, true))
	}
	diffs := mapping.Diff(ep, mapping.Desired(ep, res.SIP), mapping.DesiredStatus(ep), &e, false)
	if len(diffs) == 0 {
		return none(id, "observed only (managementPolicy ObserveOnly); the endpoint matches the spec")
	}
	return none(id, "observed only (managementPolicy ObserveOnly); status.drift would list: %s", mapping.FieldNames(diffs))
}

// manage follows the controller's sync under managementPolicy Full.
func manage(ep *cockpitv1alpha1.KrosEndpoint, res mapping.Resolved, remote []krosai.Endpoint, others []cockpitv1alpha1.KrosEndpoint) Step {
	desired := mapping.Desired(ep, res.SIP)
	id, _ := mapping.EndpointID(ep)
	record, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]
	if id == "" && pending {
		found, err := mapping.RecoverCreate(mapping.ParsePendingCreate(record, desired), remote, others)
		if stalled, ok := errors.AsType[*mapping.Stalled](err); ok {
			return blocked(stalled)
		}
		if found != nil {
			step := update(ep, res, desired, *found)
			step.Action = ActionAdopt
			step.Message = "adopt the endpoint an interrupted create made; " + step.Message
			return step
		}
	}
	if id == "" {
		return creation(ActionCreate, "", ep, desired, "create the endpoint")
	}
	adopting := ep.Status.ID != id
	if adopting {
		if s := claimedByAnother(id, others); s != nil {
			return blocked(s)
		}
	}
	e, ok := find(remote, id)
	switch {
	case !ok && adopting:
		return blocked(mapping.AdoptionTargetNotFound(id, res.Credentials, false))
	case !ok:
		return creation(ActionRecreate, id, ep, desired, "endpoint %s was deleted outside Kubernetes; create it again", id)
	}
	step := update(ep, res, desired, e)
	if adopting {
		step.Action = ActionAdopt
		step.Message = "adopt the existing endpoint; " + step.Message
	}
	return step
}

// update is the PATCH the operator would send to bring e in line.
func update(ep *cockpitv1alpha1.KrosEndpoint, res mapping.Resolved, desired krosai.EndpointCreate, e krosai.Endpoint) Step {
	credentialsKnown := !mapping.CredentialsSecretChanged(ep, res.Versions)
	diffs := mapping.Diff(ep, desired, mapping.DesiredStatus(ep), &e, credentialsKnown)
	if len(diffs) == 0 {
		if e.Status == krosai.StatusError {
			return none(e.ID, "the endpoint matches the spec but KrosAI reports it in state error")
		}
		return none(e.ID, "the endpoint matches the spec")
	}
	return Step{Action: ActionUpdate, EndpointID: e.ID, Changes: changes(diffs),
		Message: "update " + mapping.FieldNames(diffs)}
}

// creation is a create: every field the request sets, and the status PATCH
// that follows it for a disabled endpoint.
func creation(action Action, id string, ep *cockpitv1alpha1.KrosEndpoint, desired krosai.EndpointCreate,
	format string, args ...any) Step {
	fresh := krosai.Endpoint{Status: krosai.StatusActive}
	diffs := mapping.Diff(ep, desired, mapping.DesiredStatus(ep), &fresh, false)
	return Step{Action: action, EndpointID: id, Changes: changes(diffs), Message: fmt.Sprintf(format, args...)}
}

func changes(diffs []mapping.FieldDiff) []Change {
	out := make([]Change, 0, len(diffs))
	for _, d := range diffs {
		out = append(out, Change{Field: d.APIField, SpecField: d.SpecField, Old: d.Observed, New: d.Desired, Secret: d.WriteOnly})
	}
	return out
}

// claimedByAnother stalls on an endpoint another resource claims.
func claimedByAnother(id string, others []cockpitv1alpha1.KrosEndpoint) *mapping.Stalled {
	if owner := mapping.ClaimantIn(others, id); owner != nil {
		return mapping.OwnedByAnother(id, owner)
	}
	return nil
}

// finalize follows the controller's finalize: what happens to the endpoint
// of a resource being deleted.
func (p *planRun) finalize(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, others []cockpitv1alpha1.KrosEndpoint) (Step, error) {
	id := ep.Annotations[cockpitv1alpha1.AnnotationEndpointID]
	record, pending := ep.Annotations[cockpitv1alpha1.AnnotationCreatePending]
	switch {
	case !controllerutil.ContainsFinalizer(ep, cockpitv1alpha1.Finalizer):
		return none(id, "being deleted; the operator's finalizer is gone, nothing left to do"), nil
	case ep.Annotations[cockpitv1alpha1.AnnotationPaused] == "true":
		return none(id, "being deleted but paused: the operator does nothing until the annotation %s is removed",
			cockpitv1alpha1.AnnotationPaused), nil
	case ep.Spec.ManagementPolicy == cockpitv1alpha1.ManagementPolicyObserveOnly:
		return Step{Action: ActionOrphan, EndpointID: id,
			Message: "managementPolicy ObserveOnly leaves the endpoint in KrosAI whatever deletionPolicy says"}, nil
	case ep.Spec.DeletionPolicy == cockpitv1alpha1.DeletionPolicyOrphan:
		return Step{Action: ActionOrphan, EndpointID: id, Message: "deletionPolicy Orphan leaves the endpoint in KrosAI"}, nil
	case id == "" && !pending:
		return none("", "being deleted; no endpoint was ever created"), nil
	}
	res, remote, err := p.read(ctx, ep, true)
	if err != nil {
		return blockedOr(err)
	}
	if id != "" && ep.Status.ID != id && mapping.ClaimantIn(others, id) != nil {
		return Step{Action: ActionOrphan, EndpointID: id,
			Message: "never adopted and claimed by another KrosEndpoint: the operator deletes nothing it does not own"}, nil
	}
	if id == "" {
		found, err := mapping.RecoverCreate(mapping.ParsePendingCreate(record, mapping.Desired(ep, res.SIP)), remote, others)
		if err != nil {
			return blockedOr(err)
		}
		if found == nil {
			return none("", "being deleted; its interrupted create made no endpoint"), nil
		}
		id = found.ID
	}
	if _, ok := find(remote, id); !ok {
		// The operator still sends the DELETE, which answers 404.
		return Step{Action: ActionDelete, EndpointID: id, Message: fmt.Sprintf(
			"endpoint %s is already gone from KrosAI: its DELETE will find nothing, and the resource is released", id)}, nil
	}
	return Step{Action: ActionDelete, EndpointID: id, Message: fmt.Sprintf("delete endpoint %s from KrosAI", id)}, nil
}
