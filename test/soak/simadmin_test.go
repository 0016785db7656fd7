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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// The simulator's admin API (/_sim/), which has no key, no limits and no faults.

func (s *sim) stats(ctx context.Context) (krosaisim.Stats, error) {
	var st krosaisim.Stats
	data, err := httpDo(ctx, http.MethodGet, s.url()+"/_sim/stats", nil)
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	return st, err
}

// endpoints returns every stored endpoint by organization, passwords included.
func (s *sim) endpoints(ctx context.Context) (map[string][]krosaisim.Endpoint, error) {
	var byOrg map[string][]krosaisim.Endpoint
	data, err := httpDo(ctx, http.MethodGet, s.url()+"/_sim/endpoints", nil)
	if err == nil {
		err = json.Unmarshal(data, &byOrg)
	}
	return byOrg, err
}

// endpoint returns one stored endpoint, or false.
func (s *sim) endpoint(ctx context.Context, id string) (krosaisim.Endpoint, bool, error) {
	byOrg, err := s.endpoints(ctx)
	if err != nil {
		return krosaisim.Endpoint{}, false, err
	}
	for _, group := range byOrg {
		for _, e := range group {
			if e.ID == id {
				return e, true, nil
			}
		}
	}
	return krosaisim.Endpoint{}, false, nil
}

// setFaults changes the faults; fields absent from the JSON stay as they are.
func (s *sim) setFaults(ctx context.Context, faults string) error {
	_, err := httpDo(ctx, http.MethodPut, s.url()+"/_sim/faults", strings.NewReader(faults))
	return err
}

// dashboardEdit changes an endpoint out of band, as the vendor's dashboard would.
func (s *sim) dashboardEdit(ctx context.Context, id string, patch map[string]any) error {
	body, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = httpDo(ctx, http.MethodPatch, s.url()+"/_sim/endpoints/"+id, bytes.NewReader(body))
	return err
}

// dashboardDelete deletes an endpoint out of band.
func (s *sim) dashboardDelete(ctx context.Context, id string) error {
	_, err := httpDo(ctx, http.MethodDelete, s.url()+"/_sim/endpoints/"+id, nil)
	return err
}

// addKey makes the simulator accept another key for org.
func (s *sim) addKey(ctx context.Context, key, org string) error {
	body, err := json.Marshal(map[string]string{"key": key, "org": org})
	if err != nil {
		return err
	}
	_, err = httpDo(ctx, http.MethodPost, s.url()+"/_sim/keys", bytes.NewReader(body))
	return err
}

// createThroughAPI creates an endpoint through the API itself, with key, as
// another tool of the user's would: the source of an adoption. It returns
// the id, or "" when the API answered but did not create one.
func (s *sim) createThroughAPI(ctx context.Context, key string, body map[string]any) (string, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url()+"/v1/endpoints", bytes.NewReader(payload))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create through the API: %d", resp.StatusCode)
	}
	var e struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return "", err
	}
	return e.ID, nil
}

// requests returns the simulator's remembered API requests, oldest first.
func (s *sim) requests(ctx context.Context) ([]krosaisim.RequestRecord, error) {
	var recs []krosaisim.RequestRecord
	data, err := httpDo(ctx, http.MethodGet, s.url()+"/_sim/requests?limit=1000", nil)
	if err == nil {
		err = json.Unmarshal(data, &recs)
	}
	return recs, err
}

// addStats adds b's counts to a.
func addStats(a map[string]map[string]int, b map[string]map[string]int) {
	for op, byOutcome := range b {
		if a[op] == nil {
			a[op] = map[string]int{}
		}
		for outcome, n := range byOutcome {
			a[op][outcome] += n
		}
	}
}

// countOutcome sums one outcome over every operation.
func countOutcome(ops map[string]map[string]int, outcome string) int {
	n := 0
	for _, byOutcome := range ops {
		n += byOutcome[outcome]
	}
	return n
}

func countAll(ops map[string]map[string]int) int {
	n := 0
	for _, byOutcome := range ops {
		for _, c := range byOutcome {
			n += c
		}
	}
	return n
}
