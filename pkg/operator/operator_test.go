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

package operator_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/operator"
)

func TestSetupNeedsDefaultCredentials(t *testing.T) {
	// The manager is not touched before the options are checked.
	if err := operator.Setup(nil, operator.Options{}); err == nil {
		t.Error("Setup without DefaultCredentials: no error")
	}
}

func TestNewSchemeKnowsKrosEndpointAndSecret(t *testing.T) {
	s := operator.NewScheme()
	for _, kind := range []string{"KrosEndpoint", "KrosEndpointList"} {
		if !s.Recognizes(cockpitv1alpha1.GroupVersion.WithKind(kind)) {
			t.Errorf("%s unknown", kind)
		}
	}
	if !s.Recognizes(corev1.SchemeGroupVersion.WithKind("Secret")) {
		t.Error("Secret unknown")
	}
}

func TestWatchLabelSelectorMustParse(t *testing.T) {
	const bad = "sharding.krosai.com/key in shard1"
	if _, err := operator.ShardCacheOptions("kros-system", nil, bad); err == nil {
		t.Errorf("ShardCacheOptions(%q): no error", bad)
	}
	// The manager is not touched before the options are checked.
	err := operator.Setup(nil, operator.Options{
		DefaultCredentials: types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"},
		WatchLabelSelector: bad,
	})
	if err == nil {
		t.Errorf("Setup with WatchLabelSelector %q: no error", bad)
	}
}

func TestShardCacheOptionsWithoutSelectorAreCacheOptions(t *testing.T) {
	got, err := operator.ShardCacheOptions("kros-system", []string{"team-a"}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := operator.CacheOptions("kros-system", []string{"team-a"})
	if len(got.ByObject) != len(want.ByObject) || len(got.DefaultNamespaces) != len(want.DefaultNamespaces) {
		t.Errorf("ShardCacheOptions without a selector = %+v, want %+v", got, want)
	}
	sharded, err := operator.ShardCacheOptions("kros-system", []string{"team-a"}, "sharding.krosai.com/key=shard1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sharded.ByObject) != len(want.ByObject)+1 {
		t.Errorf("a selector adds the KrosEndpoints' own cache settings: %+v", sharded.ByObject)
	}
}
