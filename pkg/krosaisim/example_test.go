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

package krosaisim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// New serves the simulator on a loopback port; the operator (or any client)
// is pointed at APIURL, and the test reads what the API received.
func ExampleNew() {
	sim, err := krosaisim.New(krosaisim.Options{
		Keys: []krosaisim.APIKey{{Key: "kros_example_key", Org: "11111111-1111-4111-8111-111111111111"}},
	})
	if err != nil {
		panic(err)
	}
	defer func() { _ = sim.Close() }()

	req, _ := http.NewRequest(http.MethodPost, sim.APIURL()+"/endpoints",
		strings.NewReader(`{"name":"support line","type":"retell","provider_config":{"agent_id":"agent_1"}}`))
	req.Header.Set("Authorization", "Bearer kros_example_key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	_ = resp.Body.Close()

	fmt.Println(resp.StatusCode)
	fmt.Println(sim.Stats().Count("createEndpoint", http.StatusCreated))
	for _, e := range sim.Endpoints()["11111111-1111-4111-8111-111111111111"] {
		fmt.Println(e.Name, e.Type, e.Status)
	}
	// Output:
	// 201
	// 1
	// support line retell active
}

// SetFaults changes how the API misbehaves while a test runs: here every
// key may make a burst of two requests and then one every quarter of an
// hour, so the third request in a row is answered 429.
func ExampleSimulator_SetFaults() {
	sim, err := krosaisim.New(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: "kros_example_key"}}})
	if err != nil {
		panic(err)
	}
	defer func() { _ = sim.Close() }()
	if err := sim.SetFaults(krosaisim.Faults{RateLimit: 1.0 / 900, Burst: 2}); err != nil {
		panic(err)
	}
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, sim.APIURL()+"/endpoints", nil)
		req.Header.Set("Authorization", "Bearer kros_example_key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		_ = resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 200
	// 200
	// 429
}

// A suite that runs krosai-sim as a process steers it with an AdminClient;
// code written against Admin works with either.
func ExampleNewAdminClient() {
	// Stands in for a krosai-sim process; its first line of output,
	// "listening on http://HOST:PORT", gives the URL.
	process, err := krosaisim.New(krosaisim.Options{})
	if err != nil {
		panic(err)
	}
	defer func() { _ = process.Close() }()

	var admin krosaisim.Admin = krosaisim.NewAdminClient(process.URL, nil)
	ctx := context.Background()
	if err := admin.AddKey(ctx, "kros_example_key", "22222222-2222-4222-8222-222222222222"); err != nil {
		panic(err)
	}
	f, err := admin.Faults(ctx)
	if err != nil {
		panic(err)
	}
	f.CommitThenFailRate = 1 // every write is done, then its answer lost
	if err := admin.SetFaults(ctx, f); err != nil {
		panic(err)
	}
	got, _ := admin.Faults(ctx)
	fmt.Println(got.CommitThenFailRate, got.PasswordMode)
	// Output: 1 mask
}
