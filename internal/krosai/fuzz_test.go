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

package krosai

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var decodeSeeds = []string{
	`[]`,
	`[{"id":"ep_abc123","name":"a","type":"webhook","url":"https://x","status":"active","secret":"whsec_1"}]`,
	`{"endpoints":[{"id":"3f0c6f1e-2b1a-4c6e-9a4e-1b2c3d4e5f60","type":"vapi","provider_config":{"assistant_id":"as"}}],"total":1}`,
	`{"endpoints":[{"id":"e","type":"elevenlabs","provider_config":{"agent_id":"el"}}]}`,
	`{"endpoints":[],"total":0}`,
	`{"endpoints":null,"total":3}`,
	`{"endpoints":[],"total":-1}`,
	`{"endpoints":[],"total":1e400}`,
	`{"endpoints":[],"total":99999999999999999999999999}`,
	`[{"id":"x","created_at":"9999-12-31T23:59:59.999999999+23:59"}]`,
	`[{"id":"x","created_at":"2026-13-45T00:00:00Z"}]`,
	`[{"id":"\u0000\ud800"}]`,
	`{"total":1}`,
	`null`, ``, `}{`, `"endpoints"`, `[1,2,3]`, `{"endpoints":{"id":"x"}}`,
	strings.Repeat("[", 100000), strings.Repeat(`{"endpoints":`, 20000),
}

// FuzzDecodeEndpoints feeds the list decoder anything: it must not panic, and
// what it accepts must be sane and survive a round trip.
func FuzzDecodeEndpoints(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p listPage
		if json.Unmarshal(b, &p) != nil {
			return
		}
		if p.total < -1 {
			t.Fatalf("total %d", p.total)
		}
		for _, e := range p.items {
			checkEndpoint(t, e)
		}
	})
}

// FuzzDecodeEndpoint does the same for one endpoint, as get, create and
// update read it.
func FuzzDecodeEndpoint(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Endpoint
		if json.Unmarshal(b, &e) != nil {
			return
		}
		checkEndpoint(t, e)
	})
}

func checkEndpoint(t *testing.T, e Endpoint) {
	t.Helper()
	if e.ID == "" {
		t.Fatal("decoded an endpoint without id")
	}
	if e.Type == TypeElevenLabs && e.ProviderConfig.ElevenLabsAgentID == "" && e.ProviderConfig.AgentID != "" {
		t.Fatal("an ElevenLabs agent_id was not moved to elevenlabs_agent_id")
	}
	once, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("a decoded endpoint does not encode: %v", err)
	}
	var again Endpoint
	if err := json.Unmarshal(once, &again); err != nil {
		t.Fatalf("an encoded endpoint does not decode: %v\n%s", err, once)
	}
	twice, _ := json.Marshal(again)
	if !bytes.Equal(once, twice) {
		t.Fatalf("round trip changed the endpoint:\n%s\n%s", once, twice)
	}
}
