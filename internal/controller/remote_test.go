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
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/krosai/kros-operator/internal/krosai"
)

// TestListPeriodKeepsWithinTheQuotaShare pins how often an organization is
// listed when the API key's daily quota is known: never more often than the
// sync period, and never so often that the lists of all the key's
// organizations spend more than the observation share of the quota a day.
func TestListPeriodKeepsWithinTheQuotaShare(t *testing.T) {
	const syncPeriod = 10 * time.Minute
	endpoints := func(n int) []krosai.Endpoint {
		out := make([]krosai.Endpoint, n)
		for i := range out {
			out[i] = krosai.Endpoint{ID: fmt.Sprintf("e-%d", i)}
		}
		return out
	}
	listsPerDay := func(pages int, period time.Duration) float64 {
		return float64(pages) * float64(24*time.Hour) / float64(period)
	}
	free, other := krosai.Credentials{APIKey: "free"}, krosai.Credentials{APIKey: "business"}
	quotas := map[string]int{"free": 1_000, "business": 500_000}
	sizes := map[string]int{"": 1_000, "org-b": 150}

	tests := []struct {
		name        string
		quota       func(krosai.Credentials) int
		orgs        []string
		want        time.Duration
		pagesPerDay float64
	}{
		{name: "quota unknown: the sync period", quota: func(krosai.Credentials) int { return 0 },
			orgs: []string{""}, want: syncPeriod},
		{name: "1,000 endpoints on the Free plan: 11 pages, within half of 1,000 a day",
			quota: func(c krosai.Credentials) int { return quotas[c.APIKey] }, orgs: []string{""},
			want: 31*time.Minute + 41*time.Second, pagesPerDay: 11},
		{name: "two organizations on one key share its quota: 13 pages",
			quota: func(c krosai.Credentials) int { return quotas[c.APIKey] }, orgs: []string{"", "org-b"},
			want: 37*time.Minute + 27*time.Second, pagesPerDay: 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			view := newRemoteView(func(_ context.Context, c krosai.Credentials) ([]krosai.Endpoint, error) {
				return endpoints(sizes[c.OrganizationID]), nil
			}, syncPeriod)
			view.dailyQuota, view.observationShare = tt.quota, 0.5
			for _, org := range tt.orgs {
				cred := free
				cred.OrganizationID = org
				_, _, err := view.lookup(context.Background(), cred, "e-1")
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(view.period(free)).To(Equal(tt.want))
			if tt.pagesPerDay > 0 {
				g.Expect(listsPerDay(int(tt.pagesPerDay), view.period(free))).To(BeNumerically("<=", 500))
			}
			_, _, err := view.lookup(context.Background(), other, "e-1")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(view.period(other)).To(Equal(syncPeriod), "another key has its own quota: 11 pages of 250,000")
		})
	}
}
