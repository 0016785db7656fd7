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

package controller

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
	"github.com/krosai/kros-operator/internal/decide"
	"github.com/krosai/kros-operator/internal/mapping"
)

// decide reads what decide.Next asks for, as cheaply as the freshness rule
// of docs/reliability.md allows, until it has a decision.
func (r *KrosEndpointReconciler) decide(ctx context.Context, s *scope) (decide.Decision, error) {
	return decide.NextRead(&s.facts, func(_ *decide.Facts, what decide.Read) error { return r.read(ctx, s, what) })
}

// read fills the fact what names. A read that fails in a way the decision
// must judge (a Secret, KrosAI) becomes part of the fact; a failure to read
// the cluster is returned.
func (r *KrosEndpointReconciler) read(ctx context.Context, s *scope, what decide.Read) error {
	f := &s.facts
	switch what.Fact {
	case decide.FactAccess:
		access, err := cluster.ReadAccess(ctx, r.Client, s.ep.Namespace, r.DefaultCredentials)
		if err != nil {
			return err
		}
		f.Access = access
	case decide.FactSecrets:
		return r.readSecrets(ctx, s, what.APIKeyOnly)
	case decide.FactClaims:
		// Read-only use of the cached objects: nothing read here is
		// changed. A list rather than an index by id: it is read only to
		// adopt, recover or delete what was never adopted, while an index
		// costs two map entries per resource for the manager's lifetime
		// (about 7 MiB at 10,000 resources; docs/benchmarks.md). A shard
		// lists every shard's from the API server (shard.go).
		items, err := cluster.KrosEndpoints(ctx, r.claimsReader(), client.UnsafeDisableDeepCopy)
		if err != nil {
			return err
		}
		f.Claims = decide.Claims{Read: true, Items: items}
	case decide.FactRemote:
		r.readRemote(ctx, s, what.EndpointID, what.ByID)
	case decide.FactListing:
		since := s.asked
		if since.IsZero() {
			since = r.now()
		}
		all, err := r.remote.refresh(ctx, f.Secrets.Credentials, since)
		f.Listing = decide.Listing{Read: true, Endpoints: all, Err: err}
	case decide.FactSigningSecret:
		var err error
		f.SigningSecret, err = cluster.ReadSigningSecret(ctx, r.Client, s.ep)
		return err
	default:
		return fmt.Errorf("no reader for fact %q", what.Fact)
	}
	return nil
}

// readSecrets resolves the resource's Secrets, protects those it reads with
// the in-use finalizer (unless it is being deleted), and looks up what this
// process remembers of its endpoint.
func (r *KrosEndpointReconciler) readSecrets(ctx context.Context, s *scope, apiKeyOnly bool) error {
	ep := s.ep
	res, err := mapping.Resolve(ep, s.facts.Access.Credentials, apiKeyOnly, func(ref mapping.SecretRef) (map[string][]byte, string, error) {
		return r.secrets.read(ctx, ref)
	})
	if res.Credentials.DailyQuota == 0 {
		res.Credentials.DailyQuota = r.dailyQuota
	}
	s.facts.Secrets = decide.Secrets{Read: true, Resolved: res, Err: err}
	if err != nil {
		return nil
	}
	if ep.DeletionTimestamp.IsZero() {
		versions, err := protectSecrets(ctx, r.Client, ep, apiKeyOnly, res.Versions)
		if err != nil {
			return err
		}
		for i, v := range versions {
			r.secrets.moved(types.NamespacedName{Namespace: ep.Namespace, Name: v.Name}, res.Versions[i].ResourceVersion, v.ResourceVersion)
		}
		s.facts.Secrets.Versions = versions
	}
	mem := &s.facts.Operator
	mem.NotReadSince = r.started
	if id, _ := mapping.EndpointID(ep); id != "" {
		if rd, ok := r.remote.peek(res.Credentials, id); ok {
			mem.WroteLast = rd.writtenFor == ep.UID
			mem.NotReadSince = rd.at
		}
		mem.Deleted = r.remote.deletedLately(res.Credentials, id)
	}
	mem.ReadRecently = r.now().Sub(mem.NotReadSince) < 2*r.remote.period(res.Credentials)
	return nil
}

// readRemote reads endpoint id: from the organization's shared list,
// refreshed once per sync period, or the echo of our own write, which stands
// in for the list entry until the next list replaces it; if the resource is
// not Ready, only a reading made after it stopped being Ready will do (so
// unpausing, or leaving an error, never reports Ready from what was seen
// before). Otherwise, or when byID asks for it, with its own GET: only a
// 404 naming the endpoint says it is gone; a failed list says nothing of
// any.
//
// A KrosAI event naming the endpoint (events.go) makes a reading made
// before it not good enough, unless it shows the change the event reported.
func (r *KrosEndpointReconciler) readRemote(ctx context.Context, s *scope, id string, byID bool) {
	cred := s.facts.Secrets.Credentials
	key := types.NamespacedName{Namespace: s.ep.Namespace, Name: s.ep.Name}
	s.asked = r.now()
	if !byID {
		if since := r.wakeups.listAfter(key); !since.IsZero() {
			r.remote.expire(cred, since)
		}
		rd, found, err := r.remote.lookup(ctx, cred, id)
		if err != nil {
			s.facts.Remote = decide.LookupOf(nil, err)
			return
		}
		if found && readSinceNotReady(s.ep, rd.at) && s.answer(r.wakeups, key, rd) {
			s.setRemote(rd)
			return
		}
	}
	e, err := r.API.GetEndpoint(ctx, cred, id)
	if err != nil {
		if readSettled(err) {
			s.answer(r.wakeups, key, reading{at: r.now()})
		}
		s.facts.Remote = decide.LookupOf(nil, fmt.Errorf("read endpoint %s: %w", id, err))
		return
	}
	rd := r.remote.remember(cred, *e)
	s.answer(r.wakeups, key, rd)
	s.setRemote(rd)
}

// answer reports whether rd answers the events pending for the resource,
// and records the first delivery it answers.
func (s *scope) answer(w *wakeups, key types.NamespacedName, rd reading) bool {
	ok, delivered := w.answered(key, rd)
	if ok && !delivered.IsZero() && s.answered.IsZero() {
		s.answered = delivered
	}
	return ok
}

// setRemote makes rd the latest reading of the endpoint, and what the
// operator remembers of it the decision's memory: whether it was our own
// write for this resource, and then whether it carried the current SIP
// login.
func (s *scope) setRemote(rd reading) {
	s.remote = rd
	s.facts.Remote = decide.Lookup{State: decide.Found, Endpoint: rd.endpoint}
	mem := &s.facts.Operator
	mem.WroteLast, mem.SIPLogin = rd.writtenFor == s.ep.UID, decide.SIPLoginUnknown
	switch {
	case !mem.WroteLast:
	case rd.sipLogin == sipLoginDigest(s.facts.Secrets.SIP):
		mem.SIPLogin = decide.SIPLoginCurrent
	default:
		mem.SIPLogin = decide.SIPLoginStale
	}
}

// sipLoginDigest identifies a SIP login, in memory only: status keeps
// resourceVersions, never a digest of a secret.
func sipLoginDigest(login mapping.SIPLogin) [sha256.Size]byte {
	return sha256.Sum256([]byte(login.Username + "\x00" + login.Password))
}

// readSinceNotReady reports whether a reading made at "at" is recent enough
// to report from: made after the resource last stopped being Ready (paused,
// stalled, failing, in remote error), if it is not Ready. The condition's
// time has whole seconds, so the reading must come a full second after it.
func readSinceNotReady(ep *cockpitv1alpha1.KrosEndpoint, at time.Time) bool {
	c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReady)
	if c == nil || c.Status == metav1.ConditionTrue {
		return true
	}
	return !at.Before(c.LastTransitionTime.Add(time.Second))
}
