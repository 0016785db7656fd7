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

//nolint:goconst // test fixtures and JSON field names read better as literals
package krosaisim_test

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	opts := krosaisim.Options{StateFile: path, Seed: 3}

	first, err := krosaisim.NewSimulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{keyA, keyB} {
		if err := first.AddKey(k, orgB); err != nil {
			t.Fatal(err)
		}
	}
	e := envFor(t, first)
	vogent := e.create(createBody("vogent", "persisted"))
	e.create(createBody("webhook", "also persisted"))
	want := first.Endpoints()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	// Same seed: the first id drawn is taken, and must be drawn again.
	second, err := krosaisim.NewSimulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Close() }()
	if got := second.Endpoints(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart:\n%+v\nwant\n%+v", got, want)
	}
	if got, _ := second.Endpoint(vogent.ID); got.ProviderConfig["vogent_sip_password"] != "vogent-secret-pw" {
		t.Errorf("password not kept: %v", got.ProviderConfig)
	}
	if err := second.AddKey(keyA, orgB); err != nil {
		t.Fatal(err)
	}
	e = envFor(t, second)
	wantStatus(t, e.request(http.MethodGet, endpointsPath+"/"+vogent.ID, nil, nil), 200)
	if again := e.create(createBody("retell", "new")); again.ID == vogent.ID {
		t.Error("a restart with the same seed handed out a stored id again")
	}
	if n := second.Stats().Endpoints; n != 3 {
		t.Errorf("%d endpoints, want 3", n)
	}
}

func TestStateFileIsSavedSoonAfterAChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	e := newEnv(t, krosaisim.Options{StateFile: path})
	e.create(createBody("webhook", "saved"))
	eventually(t, "the state file", func() bool {
		data, err := os.ReadFile(path)
		return err == nil && strings.Contains(string(data), `"saved"`)
	})
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v, want the state file alone (no temporary files left)", entries)
	}

	e.sim.Reset()
	eventually(t, "the reset to be saved", func() bool {
		data, err := os.ReadFile(path)
		return err == nil && !strings.Contains(string(data), `"saved"`)
	})
}

func TestCorruptStateFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	for _, content := range []string{`{"version":1,"organizations":`, `{"version":99,"organizations":{}}`} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := krosaisim.NewSimulator(krosaisim.Options{StateFile: path}); err == nil {
			t.Errorf("New accepted the state file %s", content)
		}
	}
}
