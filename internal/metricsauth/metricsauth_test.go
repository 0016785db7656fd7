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

package metricsauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/krosai/kros-operator/pkg/operatortest"
	"github.com/krosai/kros-operator/test/harness"
)

// The guard is tested against a real API server: TokenReview and
// SubjectAccessReview answers are the API server's, for ServiceAccount
// tokens it issued.

var (
	cp                     *harness.ControlPlane
	scraperToken, stranger string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if cp, err = harness.StartControlPlane(harness.ControlPlaneOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cp.Stop() }()
	if scraperToken, stranger, err = setUpIdentities(context.Background(), cp.Admin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// setUpIdentities makes two ServiceAccounts and returns a token of each: the
// scraper is allowed get on /metrics, as config/rbac's metrics-reader role
// allows, the stranger nothing.
func setUpIdentities(ctx context.Context, admin client.Client) (string, string, error) {
	const ns = "monitoring"
	objects := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "prometheus"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stranger"}},
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
			Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "prometheus-metrics-reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "metrics-reader"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "prometheus"}},
		},
	}
	for _, o := range objects {
		if err := admin.Create(ctx, o); err != nil {
			return "", "", err
		}
	}
	token := func(name string) (string, error) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		req := &authenticationv1.TokenRequest{}
		if err := admin.SubResource("token").Create(ctx, sa, req); err != nil {
			return "", err
		}
		return req.Status.Token, nil
	}
	scraper, err := token("prometheus")
	if err != nil {
		return "", "", err
	}
	other, err := token("stranger")
	return scraper, other, err
}

// countingTransport counts the review requests the guard sends.
type countingTransport struct {
	next    http.RoundTripper
	reviews atomic.Int32
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.reviews.Add(1)
	return t.next.RoundTrip(req)
}

// newServer serves "metrics" behind a guard built as Filter builds it, and
// returns the guard, its review counter and its log.
func newServer(t *testing.T) (*httptest.Server, *guard, *countingTransport, *operatortest.LogBuffer) {
	t.Helper()
	cfg := rest.CopyConfig(cp.Env.Config)
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingTransport{next: httpClient.Transport}
	httpClient.Transport = counter
	g, err := newGuardFor(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	logs := &operatortest.LogBuffer{}
	log := funcr.New(func(prefix, args string) {
		_, _ = fmt.Fprintln(logs, prefix, args)
	}, funcr.Options{Verbosity: 10})
	server := httptest.NewServer(g.handler(log, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "kros_operator_endpoints 1\n")
	})))
	t.Cleanup(server.Close)
	return server, g, counter, logs
}

func get(t *testing.T, url, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestGuard(t *testing.T) {
	server, _, counter, logs := newServer(t)
	cases := []struct {
		name          string
		path          string
		authorization string
		status        int
		reviews       int32 // API calls the request costs, none from the cache
	}{
		{"no credentials", "/metrics", "", http.StatusUnauthorized, 0},
		{"not a bearer token", "/metrics", "Basic cHJvbWV0aGV1czpwYXNz", http.StatusUnauthorized, 0},
		{"an empty bearer token", "/metrics", "Bearer ", http.StatusUnauthorized, 0},
		{"a token the API server did not issue", "/metrics", "Bearer not-a-real-token", http.StatusUnauthorized, 1},
		{"a ServiceAccount without the role", "/metrics", "Bearer " + stranger, http.StatusForbidden, 2},
		{"a ServiceAccount with the role", "/metrics", "Bearer " + scraperToken, http.StatusOK, 2},
		{"the same scrape again, from the cache", "/metrics", "Bearer " + scraperToken, http.StatusOK, 0},
		{"the bearer scheme in lower case", "/metrics", "bearer " + scraperToken, http.StatusOK, 0},
		{"a path the role does not allow", "/debug/pprof/", "Bearer " + scraperToken, http.StatusForbidden, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := counter.reviews.Load()
			status, body := get(t, server.URL+tc.path, tc.authorization)
			if status != tc.status {
				t.Fatalf("status %d (%q), want %d", status, body, tc.status)
			}
			if status == http.StatusOK && body != "kros_operator_endpoints 1\n" {
				t.Fatalf("body %q", body)
			}
			if got := counter.reviews.Load() - before; got != tc.reviews {
				t.Fatalf("%d review requests, want %d", got, tc.reviews)
			}
		})
	}
	for _, token := range []string{scraperToken, stranger} {
		if strings.Contains(logs.String(), token) {
			t.Fatal("a token was logged")
		}
	}
}

func TestGuardForgetsAnswersWhenTheyExpire(t *testing.T) {
	server, g, counter, _ := newServer(t)
	now := time.Now()
	var mu sync.Mutex
	g.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	scrape := func(token string, wantStatus int, wantReviews int32) {
		t.Helper()
		before := counter.reviews.Load()
		if status, body := get(t, server.URL+"/metrics", "Bearer "+token); status != wantStatus {
			t.Fatalf("status %d (%q), want %d", status, body, wantStatus)
		}
		if got := counter.reviews.Load() - before; got != wantReviews {
			t.Fatalf("%d review requests, want %d", got, wantReviews)
		}
	}

	scrape(scraperToken, http.StatusOK, 2)
	advance(authenticatedTTL - time.Second)
	scrape(scraperToken, http.StatusOK, 0)
	advance(2 * time.Second) // the token is reviewed again, the decision still cached
	scrape(scraperToken, http.StatusOK, 1)
	advance(allowTTL) // both expired
	scrape(scraperToken, http.StatusOK, 2)

	// A refusal is remembered for less time than a permission, so that a
	// new binding takes effect quickly.
	scrape(stranger, http.StatusForbidden, 2)
	scrape(stranger, http.StatusForbidden, 0)
	advance(denyTTL) // the token still known, the refusal asked again
	scrape(stranger, http.StatusForbidden, 1)
}

func TestGuardCacheIsBounded(t *testing.T) {
	_, g, _, _ := newServer(t)
	now := time.Now()
	g.now = func() time.Time { return now }
	for i := range maxCached + 10 {
		store(g, g.decisions, fmt.Sprint(i), true, time.Minute)
	}
	if len(g.decisions) != maxCached {
		t.Fatalf("%d entries, want the bound %d", len(g.decisions), maxCached)
	}
	now = now.Add(time.Minute)
	store(g, g.decisions, "after expiry", true, time.Minute)
	if len(g.decisions) != 1 {
		t.Fatalf("%d entries after all expired, want 1", len(g.decisions))
	}
}

func TestFilterWiresTheGuard(t *testing.T) {
	filter, err := Filter(cp.Env.Config, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	// http.DefaultClient cannot reach the API server's TLS, but the
	// handler must refuse an anonymous request before any call.
	h, err := filter(funcr.New(func(string, string) {}, funcr.Options{}), http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
}

func TestDecisionKeyDistinguishesEveryInput(t *testing.T) {
	base := authenticationv1.UserInfo{Username: "u", UID: "1", Groups: []string{"a", "b"},
		Extra: map[string]authenticationv1.ExtraValue{"scope": {"x"}}}
	key := decisionKey(&base, "get", "/metrics")
	variants := map[string]func(u *authenticationv1.UserInfo) (string, string){
		"user": func(u *authenticationv1.UserInfo) (string, string) { u.Username = "v"; return "get", "/metrics" },
		"uid":  func(u *authenticationv1.UserInfo) (string, string) { u.UID = "2"; return "get", "/metrics" },
		"group": func(u *authenticationv1.UserInfo) (string, string) {
			u.Groups = []string{"a"}
			return "get", "/metrics"
		},
		"extra": func(u *authenticationv1.UserInfo) (string, string) {
			u.Extra = map[string]authenticationv1.ExtraValue{"scope": {"y"}}
			return "get", "/metrics"
		},
		"verb": func(*authenticationv1.UserInfo) (string, string) { return "post", "/metrics" },
		"path": func(*authenticationv1.UserInfo) (string, string) { return "get", "/metrics/extra" },
		// Delimiters inside a name cannot make two users' keys collide.
		"user spelling another's key": func(u *authenticationv1.UserInfo) (string, string) {
			u.Username, u.UID = "u;1:1", ""
			return "get", "/metrics"
		},
	}
	for name, vary := range variants {
		u := base
		u.Groups = append([]string(nil), base.Groups...)
		verb, path := vary(&u)
		if decisionKey(&u, verb, path) == key {
			t.Errorf("a different %s gives the same key", name)
		}
	}
	reordered := base
	reordered.Groups = []string{"b", "a"}
	if decisionKey(&reordered, "get", "/metrics") != key {
		t.Error("the order of groups changes the key")
	}
}
