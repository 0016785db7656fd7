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

// Package krosai is the client of the KrosAI Cockpit API's endpoint
// operations (list, create, get, update, delete), whose contract is the merged
// OpenAPI document in the openapi subpackage.
//
// The package never reads Kubernetes: callers pass plain Credentials on every
// call, so one Client serves every API key and organization in the cluster.
//
// # Types
//
// The request and response types are written by hand. oapi-codegen renders the
// ProviderConfig oneOf as an opaque union (a json.RawMessage with an As/From
// method pair per provider) that is clumsier to build, diff and read than one
// flat struct of optional fields. A contract test keeps every struct's JSON
// field names equal to the schema's property names, so the document remains
// the source of truth.
//
// # Failures
//
// Every error returned is an *Error whose Kind says what the caller should do:
// fix the spec or the key (IsTerminal), wait (RetryAfterOf), recreate
// (IsNotFound), retry with backoff (KindTransient), or find out by listing
// whether a create happened (KindOutcomeUnknown). An error string never holds
// the request body, and at most ~200 printable bytes of the response, with the
// API key and the request's passwords redacted.
//
// # Retries and rate limits
//
// GET, PATCH and DELETE are retried on 5xx, network errors and timeouts with
// jittered exponential backoff. POST is retried only when it cannot have
// reached the server (no connection was made): the API documents no
// idempotency key, so a second POST could create a duplicate. A 429 on any
// method was refused without being executed, so it is retried after the wait
// the API asks for. Requests with the same API key share one token bucket, and
// a 429 pauses all of them: a call that would wait longer than BackoffCap is
// refused unsent (Error.NotSent, RetryAtOf, IsDailyLimit).
//
// # The request budget
//
// The client paces each key from the API's X-RateLimit-* figures, keeping a
// fifth of the limit for the key's other users; during an outage of a key and
// organization it sends one probe per backoff step and refuses the other calls
// unsent (IsUnavailable); it counts each key's requests per UTC day
// (Client.Budget). docs/reliability.md, "The request budget", has the rules.
//
// # Tolerance
//
// The vendor's narrative pages and its OpenAPI disagree in places; the OpenAPI
// wins for what is sent, and the client accepts both when decoding: a list is
// a bare array or a wrapped, paged {"endpoints": [...], "total": N}; an
// ElevenLabs agent may arrive as agent_id; IDs are opaque strings, UUID or
// not, but an answer whose id is empty, longer than 255 bytes or not printable
// is refused as malformed, as an answer that is not JSON is.
package krosai
