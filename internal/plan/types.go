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

// Package plan says what the operator would do next for each KrosEndpoint,
// without doing it: the read-only prediction behind `kubectl krosai plan`.
// It reads the facts the controller reads, decides with the controller's
// own function (decide.Next) and describes the decision: a rule lives in
// internal/decide or internal/mapping, never here. It only reads: a list of
// each organization's endpoints, and KrosEndpoints and Secrets (the
// signing Secret's metadata only) from the cluster.
package plan

// Action is what the operator would do next for one resource.
type Action string

// The actions, as `kubectl krosai plan` prints them and its -o json carries.
const (
	// ActionCreate: no remote endpoint yet; the operator would POST one.
	ActionCreate Action = "create"
	// ActionAdopt: the operator would take over the existing endpoint the
	// resource names (or that its interrupted create made), then correct
	// Changes, if any.
	ActionAdopt Action = "adopt"
	// ActionUpdate: the operator would PATCH Changes.
	ActionUpdate Action = "update"
	// ActionRecreate: the endpoint was deleted in KrosAI; the operator would
	// create it again.
	ActionRecreate Action = "recreate"
	// ActionDelete: the resource is being deleted; the operator would delete
	// the endpoint in KrosAI.
	ActionDelete Action = "delete"
	// ActionOrphan: the resource is being deleted; the operator would leave
	// the endpoint in KrosAI.
	ActionOrphan Action = "orphan"
	// ActionNone: nothing to write.
	ActionNone Action = "none"
	// ActionBlocked: the operator would stop until a person acts; Reason and
	// Message say why.
	ActionBlocked Action = "blocked"
)

// Change is one field the operator would set. Secret fields (SIP
// credentials) carry no values, only that they would be sent.
type Change struct {
	// Field is the API's field, e.g. provider_config.assistant_id.
	Field string `json:"field"`
	// SpecField is the spec field that sets it.
	SpecField string `json:"specField"`
	Old       string `json:"old,omitempty"`
	New       string `json:"new,omitempty"`
	Secret    bool   `json:"secret,omitempty"`
}

// Step is the plan for one KrosEndpoint.
type Step struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Action    Action `json:"action"`
	// EndpointID is the remote endpoint acted on, when there is one.
	EndpointID string   `json:"endpointID,omitempty"`
	Changes    []Change `json:"changes,omitempty"`
	// Reason is the condition reason the operator would set when blocked
	// (e.g. SecretNotFound, AmbiguousCreate, EndpointOwnedByAnother).
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

// A Plan's JSON identifies itself, so that a script can check what it reads.
const (
	APIVersion = "cockpit.krosai.com/plan/v1alpha1"
	Kind       = "Plan"
)

// Plan is the plan for a set of KrosEndpoints, sorted by namespace and name.
type Plan struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []Step `json:"items"`
}

// InSync reports whether every step is none: nothing would be written and
// nothing is blocked. The CLI exits 0 then, and 2 otherwise.
func (p Plan) InSync() bool {
	for _, s := range p.Items {
		if s.Action != ActionNone {
			return false
		}
	}
	return true
}
