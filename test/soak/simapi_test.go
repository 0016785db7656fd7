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
	"time"
)

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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.p.APIURL()+"/endpoints", bytes.NewReader(payload))
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
