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
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/decide"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// Lister reads an organization's endpoints: the only call a plan makes to
// KrosAI.
type Lister interface {
	ListEndpoints(ctx context.Context, cred krosai.Credentials) ([]krosai.Endpoint, error)
}

// Planner predicts the next reconcile of a freshly started operator: one
// that has written nothing yet, so it knows of SIP logins only what status
// recorded, and sees KrosAI through one list per organization. It reads the
// facts the operator reads, read-only, lets decide.Next decide as the
// operator does, and describes the decision (describe.go).
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
	lists map[organization]decide.Listing
	// secrets are the Secrets read so far, nil for one that does not
	// exist: many resources share one.
	secrets map[types.NamespacedName]*secretRead
	// grants are the cluster's KrosGrants, once read; accesses what they
	// give each namespace read so far.
	grants   []cockpitv1alpha1.KrosGrant
	accesses map[string]decide.Access
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
		return nil, "", mapping.SecretReadFailed(ref, err)
	}
	return s.Data, s.ResourceVersion, nil
}

// Plan says what the operator would do next for each resource. Resources
// read from files (fromFiles) are taken as `kubectl apply` would leave them:
// on top of the cluster's object of the same name, if there is one, whose
// status, finalizers and annotations they keep. It fails only when it cannot
// read; whatever would stop the operator is a blocked step.
func (p *Planner) Plan(ctx context.Context, resources []cockpitv1alpha1.KrosEndpoint, fromFiles bool) (Plan, error) {
	inCluster, err := p.listCluster(ctx)
	if err != nil {
		return Plan{}, err
	}
	return p.plan(ctx, inCluster, resources, fromFiles)
}

// PlanCluster plans the cluster's KrosEndpoints in namespace, or in every
// namespace when it is empty, from the one list that also says who claims
// what.
func (p *Planner) PlanCluster(ctx context.Context, namespace string) (Plan, error) {
	inCluster, err := p.listCluster(ctx)
	if err != nil {
		return Plan{}, err
	}
	resources := slices.DeleteFunc(slices.Clone(inCluster), func(o cockpitv1alpha1.KrosEndpoint) bool {
		return namespace != "" && o.Namespace != namespace
	})
	return p.plan(ctx, inCluster, resources, false)
}

// listCluster lists the KrosEndpoints of every namespace: claims are
// cluster-wide, as the controller's are.
func (p *Planner) listCluster(ctx context.Context) ([]cockpitv1alpha1.KrosEndpoint, error) {
	return cluster.KrosEndpoints(ctx, p.Reader)
}

func (p *Planner) plan(ctx context.Context, inCluster, resources []cockpitv1alpha1.KrosEndpoint, fromFiles bool) (Plan, error) {
	run := &planRun{Planner: p}
	out := Plan{APIVersion: APIVersion, Kind: Kind, Items: make([]Step, 0, len(resources))}
	planned := make([]cockpitv1alpha1.KrosEndpoint, 0, len(resources))
	for i := range resources {
		ep := resources[i].DeepCopy()
		if fromFiles {
			ep = asApplied(ep, inCluster)
		}
		planned = append(planned, *ep)
	}
	// Who claims what once the plan's resources are applied: each as
	// planned, every other as the cluster has it.
	claims := slices.Concat(planned, slices.DeleteFunc(slices.Clone(inCluster), func(o cockpitv1alpha1.KrosEndpoint) bool {
		return slices.ContainsFunc(planned, func(ep cockpitv1alpha1.KrosEndpoint) bool {
			return o.Namespace == ep.Namespace && o.Name == ep.Name
		})
	}))
	for i := range planned {
		ep := &planned[i]
		step, err := run.step(ctx, ep, claims)
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
func asApplied(ep *cockpitv1alpha1.KrosEndpoint, inCluster []cockpitv1alpha1.KrosEndpoint) *cockpitv1alpha1.KrosEndpoint {
	i := slices.IndexFunc(inCluster, func(o cockpitv1alpha1.KrosEndpoint) bool {
		return o.Namespace == ep.Namespace && o.Name == ep.Name
	})
	if i < 0 {
		return ep
	}
	applied := inCluster[i].DeepCopy()
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

// step reads the facts decide.Next asks for, read-only, until it decides,
// and describes the decision.
func (p *planRun) step(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, claims []cockpitv1alpha1.KrosEndpoint) (Step, error) {
	f := decide.Facts{Resource: ep, Claims: decide.Claims{Read: true, Items: claims}}
	d, err := decide.NextRead(&f, func(f *decide.Facts, what decide.Read) error { return p.read(ctx, f, what) })
	if err != nil {
		return Step{}, err
	}
	return p.describe(ctx, f, d)
}

// read fills the fact what names as the operator would read it, from the
// plan's one list per organization where the operator would GET.
func (p *planRun) read(ctx context.Context, f *decide.Facts, what decide.Read) error {
	switch what.Fact {
	case decide.FactAccess:
		access, err := p.access(ctx, f.Resource.Namespace)
		if err != nil {
			return err
		}
		f.Access = access
	case decide.FactSecrets:
		res, err := p.resolve(ctx, f.Resource, f.Access.Credentials, what.APIKeyOnly)
		if _, stalled := errors.AsType[*mapping.Stalled](err); err != nil && !stalled {
			return err
		}
		f.Secrets = decide.Secrets{Read: true, Resolved: res, Err: err}
	case decide.FactRemote:
		listing, err := p.list(ctx, f.Secrets.Credentials)
		if err != nil {
			return err
		}
		e, listed := find(listing.Endpoints, what.EndpointID)
		switch {
		case listing.Err != nil:
			f.Remote = decide.LookupOf(nil, listing.Err)
		case listed:
			f.Remote = decide.LookupOf(&e, nil)
		default:
			// Where the operator's GET would answer 404.
			f.Remote = decide.Lookup{State: decide.Gone}
		}
	case decide.FactListing:
		listing, err := p.list(ctx, f.Secrets.Credentials)
		if err != nil {
			return err
		}
		f.Listing = listing
	case decide.FactSigningSecret:
		var err error
		f.SigningSecret, err = cluster.ReadSigningSecret(ctx, p.Reader, f.Resource)
		return err
	default:
		return fmt.Errorf("no reader for fact %q", what.Fact)
	}
	return nil
}

// resolve resolves ep's Secrets as the operator would, with the API key
// the CLI was given in place of the resource's.
func (p *planRun) resolve(ctx context.Context, ep *cockpitv1alpha1.KrosEndpoint, credentials mapping.SecretRef, apiKeyOnly bool) (mapping.Resolved, error) {
	apiKey := mapping.SecretRefs(ep, credentials)[0]
	return mapping.Resolve(ep, credentials, apiKeyOnly, func(ref mapping.SecretRef) (map[string][]byte, string, error) {
		if ref == apiKey && p.Credentials != nil {
			return map[string][]byte{
				cockpitv1alpha1.SecretKeyAPIKey:         []byte(p.Credentials.APIKey),
				cockpitv1alpha1.SecretKeyOrganizationID: []byte(p.Credentials.OrganizationID),
			}, "", nil
		}
		return p.readSecret(ctx, ref)
	})
}

// access reads what the KrosGrants give namespace, once per plan.
func (p *planRun) access(ctx context.Context, namespace string) (decide.Access, error) {
	if a, ok := p.accesses[namespace]; ok {
		return a, nil
	}
	if p.accesses == nil {
		grants, err := cluster.KrosGrants(ctx, p.Reader)
		if err != nil {
			return decide.Access{}, fmt.Errorf("%w (a plan reads them, as the operator does)", err)
		}
		p.grants, p.accesses = grants, map[string]decide.Access{}
	}
	a, err := cluster.AccessUnder(ctx, p.Reader, p.grants, namespace, p.DefaultCredentials)
	if err != nil {
		return decide.Access{}, fmt.Errorf("%w (a plan reads the labels of each namespace it plans, as the operator does)", err)
	}
	p.accesses[namespace] = a
	return a, nil
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

// list lists an organization's endpoints once per plan. A list KrosAI
// refuses is part of the listing, for the decision to judge; with the
// CLI's own key, whose refusal is no resource's fault, it is the plan's
// error.
func (p *planRun) list(ctx context.Context, cred krosai.Credentials) (decide.Listing, error) {
	key := organization{apiKey: cred.APIKey, id: cred.OrganizationID}
	if listing, ok := p.lists[key]; ok {
		return listing, nil
	}
	all, err := p.API.ListEndpoints(ctx, cred)
	listing := decide.Listing{Read: true, Endpoints: all}
	if err != nil {
		listing.Err = &decide.ListError{Organization: mapping.OrganizationName(cred), Err: err}
		if p.Credentials != nil && krosai.IsTerminal(err) {
			return decide.Listing{}, listing.Err
		}
	}
	if p.lists == nil {
		p.lists = map[organization]decide.Listing{}
	}
	p.lists[key] = listing
	return listing, nil
}

// find returns the endpoint of all with id.
func find(all []krosai.Endpoint, id string) (krosai.Endpoint, bool) {
	i := slices.IndexFunc(all, func(e krosai.Endpoint) bool { return e.ID == id })
	if i < 0 {
		return krosai.Endpoint{}, false
	}
	return all[i], true
}
