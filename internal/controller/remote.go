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
	"cmp"
	"context"
	"crypto/sha256"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/krosai/kros-operator/internal/decide"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/mapping"
)

// remoteView is what the operator knows of KrosAI: for each organization,
// its endpoints as last read. One paged list of an organization's endpoints
// is shared by all the KrosEndpoints of that organization, refreshed at most
// once per sync period.
// A GET per resource per sync would spend the Free plan's 1,000 requests a
// day on 7 endpoints; one list serves hundreds.
//
// The answers to our own writes are readings too: a POST or PATCH response
// replaces the endpoint's entry, so the next reconcile does not read back what it wrote,
// until the next list replaces it in turn.
//
// A list says which endpoints exist, never that one does not: an endpoint
// missing from it is read with its own GET, and a failed list is remembered
// briefly so that the resources retrying it share one attempt.
type remoteView struct {
	list func(context.Context, krosai.Credentials) ([]krosai.Endpoint, error)
	// ttl is the sync period: how long a list serves, unless the key's
	// daily quota asks for longer (see period).
	ttl time.Duration
	now func() time.Time
	// dailyQuota is the API key's daily request quota, 0 when unknown;
	// observationShare the share of it the lists may spend.
	dailyQuota       func(krosai.Credentials) int
	observationShare float64

	mu   sync.Mutex
	orgs map[orgKey]*orgSnapshot
}

// orgKey identifies what one API key sees of one organization. The key is
// held only as a digest.
type orgKey struct {
	apiKey [sha256.Size]byte
	org    string
}

type orgSnapshot struct {
	// organization labels the organization's metrics.
	organization string
	// mu is held while listing, so concurrent reconciles of one organization
	// wait for one list instead of each sending their own.
	mu sync.Mutex
	// fetched is when the last list that succeeded was sent.
	fetched time.Time
	// lastRead (fetched) and asked, when a resource last looked an endpoint
	// up here, in Unix nanoseconds for the metrics, which must not wait for
	// a list in flight.
	lastRead, asked atomic.Int64
	// listed is how many endpoints the last list returned, and quota the
	// key's daily quota when last asked: what period counts.
	listed, quota atomic.Int64
	// logged is the period last logged, so that a change is logged once.
	logged time.Duration
	// failed is when the last list failed, with failure; zero after a success.
	failed  time.Time
	failure error
	byID    map[string]reading
	// deleted holds the endpoints this process deleted, with when, for
	// deletedLately.
	deleted map[string]time.Time
}

// listRetryAfter is how long a failed list answers for the next ones: the
// resources of an organization retry on their own backoffs, and would
// otherwise each send a list the API has just failed.
const listRetryAfter = 5 * time.Second

// reading is an endpoint as read at a time, and, when it came from our own
// write, which resource the write was for and a digest of the SIP login it
// carried. The digest lives in memory only: it lets a Secret change that
// leaves the login alone (a label, our own finalizer) pass without a PATCH.
// Status keeps resourceVersions, never a digest of a secret.
type reading struct {
	endpoint krosai.Endpoint
	// at is when KrosAI was known to hold endpoint: when the list that
	// carried it was sent, or when the GET or write answered.
	at         time.Time
	writtenFor types.UID
	sipLogin   [sha256.Size]byte
}

func newRemoteView(list func(context.Context, krosai.Credentials) ([]krosai.Endpoint, error), ttl time.Duration) *remoteView {
	return &remoteView{list: list, ttl: ttl, now: time.Now, orgs: map[orgKey]*orgSnapshot{}}
}

func (o *remoteView) snapshot(cred krosai.Credentials) *orgSnapshot {
	key := orgKey{apiKey: sha256.Sum256([]byte(cred.APIKey)), org: cred.OrganizationID}
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.orgs[key]
	if !ok {
		s = &orgSnapshot{organization: cmp.Or(cred.OrganizationID, "default"), byID: map[string]reading{}}
		o.orgs[key] = s
	}
	return s
}

// period is how long a list of the organization serves: the sync period,
// or longer when the lists of every organization the key reads would spend
// more than the observation share of its daily quota in a day. Each list
// counts n/100+1 pages (a full last page costs an empty one where the API
// gives no total); GETs of endpoints a list lacks are not counted: they are
// few, and only while something changes.
func (o *remoteView) period(cred krosai.Credentials) time.Duration {
	return o.periodOf(sha256.Sum256([]byte(cred.APIKey)))
}

func (o *remoteView) periodOf(apiKey [sha256.Size]byte) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	pages, quota := int64(0), int64(0)
	for key, s := range o.orgs {
		if key.apiKey == apiKey {
			pages += s.listed.Load()/100 + 1
			quota = max(quota, s.quota.Load())
		}
	}
	if quota <= 0 || o.observationShare <= 0 {
		return o.ttl
	}
	perDay := o.observationShare * float64(quota)
	// Up to the second: a period rounded down would spend a little more.
	return max(o.ttl, time.Duration(math.Ceil(24*60*60*float64(pages)/perDay))*time.Second)
}

// orgFreshness is what the freshness metrics say of one organization.
type orgFreshness struct {
	organization string
	lastRead     time.Time
	period       time.Duration
}

// freshness reports, for each organization some resource asked about within
// the last three periods, when its list last succeeded (zero if never).
func (o *remoteView) freshness() []orgFreshness {
	o.mu.Lock()
	orgs := maps.Clone(o.orgs)
	o.mu.Unlock()
	now := o.now()
	var out []orgFreshness
	for key, s := range orgs {
		period := o.periodOf(key.apiKey)
		if now.Sub(time.Unix(0, s.asked.Load())) < 3*period {
			var lastRead time.Time
			if n := s.lastRead.Load(); n != 0 {
				lastRead = time.Unix(0, n)
			}
			out = append(out, orgFreshness{organization: s.organization, lastRead: lastRead, period: period})
		}
	}
	return out
}

// lookup returns the endpoint from the organization's list, listing first if
// the list is older than the sync period. found is false when the list does
// not have it: created since, or deleted, which only a GET can tell. A list
// that fails is a *decide.ListError.
func (o *remoteView) lookup(ctx context.Context, cred krosai.Credentials, id string) (obs reading, found bool, err error) {
	s := o.snapshot(cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := o.now()
	s.asked.Store(now.UnixNano())
	if o.dailyQuota != nil {
		s.quota.Store(int64(o.dailyQuota(cred)))
	}
	if now.Sub(s.fetched) >= o.period(cred) {
		if err := o.fill(ctx, cred, s); err != nil {
			return reading{}, false, err
		}
	}
	obs, found = s.byID[id]
	return obs, found, nil
}

// peek returns what is known of the endpoint without calling the API.
func (o *remoteView) peek(cred krosai.Credentials, id string) (reading, bool) {
	s := o.snapshot(cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	obs, ok := s.byID[id]
	return obs, ok
}

// refresh lists the organization now, whatever the list's age, unless a list
// sent after since already answered.
func (o *remoteView) refresh(ctx context.Context, cred krosai.Credentials, since time.Time) ([]krosai.Endpoint, error) {
	s := o.snapshot(cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fetched.After(since) {
		if err := o.fill(ctx, cred, s); err != nil {
			return nil, err
		}
	}
	all := make([]krosai.Endpoint, 0, len(s.byID))
	for _, obs := range s.byID {
		all = append(all, obs.endpoint)
	}
	return all, nil
}

// holds reports whether the operator already holds endpoint id of
// organization (as KrosAI names it) as it was at updatedAt: an event
// reporting that state reports nothing new, typically the echo of the
// operator's own write.
func (o *remoteView) holds(organization, id string, updatedAt time.Time) bool {
	if updatedAt.IsZero() {
		return false
	}
	o.mu.Lock()
	snapshots := slices.Collect(maps.Values(o.orgs))
	o.mu.Unlock()
	for _, s := range snapshots {
		s.mu.Lock()
		rd, ok := s.byID[id]
		s.mu.Unlock()
		if ok && rd.endpoint.OrganizationID == organization && rd.endpoint.UpdatedAt.Equal(updatedAt) {
			return true
		}
	}
	return false
}

// expire makes the organization's list, if it was sent before since, be
// sent again at the next lookup: an event asked for a list newer than it.
func (o *remoteView) expire(cred krosai.Credentials, since time.Time) {
	s := o.snapshot(cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetched.Before(since) {
		s.fetched = time.Time{}
	}
}

func (o *remoteView) fill(ctx context.Context, cred krosai.Credentials, s *orgSnapshot) error {
	started := o.now()
	if started.Sub(s.failed) < listRetryAfter {
		return s.failure
	}
	endpoints, err := o.list(ctx, cred)
	if err != nil {
		s.failed, s.failure = o.now(), &decide.ListError{Organization: mapping.OrganizationName(cred), Err: err}
		return s.failure
	}
	byID := make(map[string]reading, len(endpoints))
	for _, e := range endpoints {
		obs := s.byID[e.ID]
		// Keep what our own writes established (for which resource, with
		// which SIP login): a list cannot show write-only fields.
		obs.endpoint, obs.at = e, started
		byID[e.ID] = obs
	}
	if vanished := len(s.byID) - countKept(s.byID, byID); vanished > max(3, len(s.byID)/10) {
		// Each is confirmed by its own GET, and by the next list, before
		// anything is created again (docs/reliability.md).
		logf.FromContext(ctx).Info("a list of the organization lacks many endpoints it had; confirming each before any re-create",
			"organization", mapping.OrganizationName(cred), "vanished", vanished, "before", len(s.byID))
	}
	s.byID, s.fetched, s.failed, s.failure = byID, started, time.Time{}, nil
	s.lastRead.Store(started.UnixNano())
	s.listed.Store(int64(len(endpoints)))
	if period := o.period(cred); period != s.logged {
		// Once per change, not per list: the period moves with the
		// number of endpoints and the quota.
		s.logged = period
		if period > o.ttl {
			logf.FromContext(ctx).Info("the organization is listed less often than the sync period, to keep "+
				"observation within its share of the API key's daily quota", "organization", s.organization,
				"every", period, "syncPeriod", o.ttl, "dailyQuota", s.quota.Load(), "share", o.observationShare)
		}
	}
	return nil
}

// countKept counts the entries of before still in after.
func countKept(before, after map[string]reading) int {
	n := 0
	for id := range before {
		if _, ok := after[id]; ok {
			n++
		}
	}
	return n
}

// remember records an endpoint as read now, and returns the reading.
func (o *remoteView) remember(cred krosai.Credentials, e krosai.Endpoint) reading {
	obs := reading{endpoint: e, at: o.now()}
	o.record(cred, obs)
	return obs
}

// record records an reading, such as the response to our own write.
func (o *remoteView) record(cred krosai.Credentials, obs reading) {
	if obs.at.IsZero() {
		obs.at = o.now()
	}
	s := o.snapshot(cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[obs.endpoint.ID] = obs
}

// deletedMemory is how long a deletion is remembered: a reconcile of the
// resource from a cache that has not seen its finalizer go comes within
// seconds.
const deletedMemory = 10 * time.Minute

// forget drops an endpoint that was deleted, and remembers that it was.
func (o *remoteView) forget(cred krosai.Credentials, id string) {
	s := o.snapshot(cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
	now := o.now()
	if s.deleted == nil {
		s.deleted = map[string]time.Time{}
	}
	maps.DeleteFunc(s.deleted, func(_ string, at time.Time) bool { return now.Sub(at) > deletedMemory })
	s.deleted[id] = now
}

// deletedLately reports an endpoint this process deleted within
// deletedMemory: a DELETE sent again would cost a call and change nothing.
func (o *remoteView) deletedLately(cred krosai.Credentials, id string) bool {
	s := o.snapshot(cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.deleted[id]
	return ok && o.now().Sub(at) <= deletedMemory
}
