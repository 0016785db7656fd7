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

// Package metricsauth guards the metrics endpoint as the API server guards
// its own: the caller's bearer token is checked with a TokenReview, and the
// request authorized with a SubjectAccessReview for the non-resource URL
// (get /metrics), so a Prometheus needs a ServiceAccount bound to a role
// allowing it.
//
// controller-runtime's metrics/filters does the same through k8s.io/apiserver,
// which adds some 250 packages to the manager and 16 MiB to its resident
// memory (docs/benchmarks.md); two create-only API calls and a small cache
// need none of it.
package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long answers are trusted, as the API server's delegating
// authenticator and authorizer trust them: a scrape every 15 to 30 seconds
// costs two API calls every few minutes, and a revoked binding stops
// working within five.
const (
	authenticatedTTL   = time.Minute
	unauthenticatedTTL = 10 * time.Second
	allowTTL           = 5 * time.Minute
	denyTTL            = 30 * time.Second
	reviewTimeout      = 10 * time.Second
	// maxCached bounds each cache: a flood of random tokens costs API
	// calls, never memory.
	maxCached = 1024
)

// Filter is a metricsserver.FilterProvider: it builds the guard from the
// manager's rest.Config and HTTP client.
func Filter(config *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	g, err := newGuardFor(config, httpClient)
	if err != nil {
		return nil, err
	}
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return g.handler(log, next), nil
	}, nil
}

func newGuardFor(config *rest.Config, httpClient *http.Client) (*guard, error) {
	scheme := runtime.NewScheme()
	if err := authenticationv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := authorizationv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(config, client.Options{HTTPClient: httpClient, Scheme: scheme, Mapper: reviewMapper()})
	if err != nil {
		return nil, fmt.Errorf("metrics authentication client: %w", err)
	}
	return newGuard(c), nil
}

// reviewMapper maps the two review kinds statically: a scrape costs no
// discovery request.
func reviewMapper() meta.RESTMapper {
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(authenticationv1.SchemeGroupVersion.WithKind("TokenReview"), meta.RESTScopeRoot)
	mapper.Add(authorizationv1.SchemeGroupVersion.WithKind("SubjectAccessReview"), meta.RESTScopeRoot)
	return mapper
}

// guard reviews requests, remembering answers for a while.
type guard struct {
	client client.Client
	now    func() time.Time

	mu        sync.Mutex
	users     map[[sha256.Size]byte]cached[*authenticationv1.UserInfo] // by token digest; nil: not authenticated
	decisions map[string]cached[bool]                                  // by user and request
}

type cached[T any] struct {
	value   T
	expires time.Time
}

func newGuard(c client.Client) *guard {
	return &guard{
		client: c, now: time.Now,
		users:     map[[sha256.Size]byte]cached[*authenticationv1.UserInfo]{},
		decisions: map[string]cached[bool]{},
	}
}

func (g *guard) handler(log logr.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		token, ok := bearerToken(req)
		if !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), reviewTimeout)
		defer cancel()
		user, err := g.authenticate(ctx, token)
		if err != nil {
			log.Error(err, "Metrics authentication failed")
			http.Error(w, "Authentication failed", http.StatusInternalServerError)
			return
		}
		if user == nil {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		verb, path := strings.ToLower(req.Method), req.URL.Path
		allowed, err := g.authorize(ctx, user, verb, path)
		if err != nil {
			log.Error(err, "Metrics authorization failed", "user", user.Username)
			http.Error(w, "Authorization failed", http.StatusInternalServerError)
			return
		}
		if !allowed {
			log.V(4).Info("Metrics request denied", "user", user.Username, "verb", verb, "path", path)
			http.Error(w, fmt.Sprintf("Authorization denied for user %s", user.Username), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// bearerToken reads "Authorization: Bearer <token>".
func bearerToken(req *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// authenticate returns who the token belongs to, or nil when the API server
// does not recognize it. The token is held only as a digest.
func (g *guard) authenticate(ctx context.Context, token string) (*authenticationv1.UserInfo, error) {
	key := sha256.Sum256([]byte(token))
	if user, ok := lookup(g, g.users, key); ok {
		return user, nil
	}
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := g.client.Create(ctx, review); err != nil {
		// The error names the request, never the token, which travels in the body.
		return nil, fmt.Errorf("TokenReview: %w", err)
	}
	if !review.Status.Authenticated {
		// A refusal that gives a reason may be passing (an authenticator
		// the API server could not reach): it is not remembered.
		if review.Status.Error == "" {
			store(g, g.users, key, nil, unauthenticatedTTL)
		}
		return nil, nil
	}
	store(g, g.users, key, &review.Status.User, authenticatedTTL)
	return &review.Status.User, nil
}

// authorize asks whether user may use verb on the non-resource URL path.
func (g *guard) authorize(ctx context.Context, user *authenticationv1.UserInfo, verb, path string) (bool, error) {
	key := decisionKey(user, verb, path)
	if allowed, ok := lookup(g, g.decisions, key); ok {
		return allowed, nil
	}
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	if err := g.client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("SubjectAccessReview: %w", err)
	}
	allowed, ttl := review.Status.Allowed, denyTTL
	if allowed {
		ttl = allowTTL
	}
	store(g, g.decisions, key, allowed, ttl)
	return allowed, nil
}

// decisionKey names everything an authorization depends on.
func decisionKey(user *authenticationv1.UserInfo, verb, path string) string {
	var b strings.Builder
	for _, s := range []string{user.Username, user.UID, verb, path} {
		fmt.Fprintf(&b, "%d:%s;", len(s), s)
	}
	groups := slices.Sorted(slices.Values(user.Groups))
	fmt.Fprintf(&b, "%q;", groups)
	keys := make([]string, 0, len(user.Extra))
	for k := range user.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%q;", k, []string(user.Extra[k]))
	}
	return b.String()
}

func lookup[K comparable, V any](g *guard, m map[K]cached[V], key K) (V, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	entry, ok := m[key]
	if !ok || !g.now().Before(entry.expires) {
		var zero V
		return zero, false
	}
	return entry.value, true
}

// store remembers an answer; when the cache is full of live entries it
// drops the expired ones, and if none are, remembers nothing.
func store[K comparable, V any](g *guard, m map[K]cached[V], key K, value V, ttl time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(m) >= maxCached {
		for k, e := range m {
			if !now.Before(e.expires) {
				delete(m, k)
			}
		}
		if len(m) >= maxCached {
			return
		}
	}
	m[key] = cached[V]{value: value, expires: now.Add(ttl)}
}
