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

package plan

import (
	"context"
	"fmt"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/decide"
	"github.com/krosai/kros-operator/internal/mapping"
)

// describe is the step `kubectl krosai plan` prints for decision d about
// the resource of f. It adds words, never a rule: what the operator would do
// is d.
func (p *planRun) describe(ctx context.Context, f decide.Facts, d decide.Decision) (Step, error) {
	deleting := !f.Resource.DeletionTimestamp.IsZero()
	var listing decide.Listing
	switch d.Action {
	case decide.ActionCreate, decide.ActionRecreate, decide.ActionDelete:
		// The write goes to KrosAI without a read first: it meets what the
		// organization's list met, a refused key above all.
		var err error
		if listing, err = p.list(ctx, f.Secrets.Credentials); err != nil {
			return Step{}, err
		}
		if listing.Err != nil {
			d = decide.Fail(f, listing.Err)
		}
	}
	step := Step{EndpointID: d.EndpointID, Changes: changes(d.Diffs)}
	switch d.Action {
	case decide.ActionStall:
		return Step{Action: ActionBlocked, Reason: d.Failure.Reason, Message: d.Failure.Message}, nil
	case decide.ActionRetry:
		// The plan could not read what the operator would need: no step.
		return Step{}, d.Failure.Err
	case decide.ActionCreate:
		step.Action, step.Message = ActionCreate, "create the endpoint"
	case decide.ActionRecreate:
		step.Action = ActionRecreate
		step.Message = fmt.Sprintf("endpoint %s was deleted outside Kubernetes; create it again", d.EndpointID)
	case decide.ActionRecover:
		step.Action, step.Message = ActionAdopt, "adopt the endpoint an interrupted create made; "+correction(d)
	case decide.ActionAdopt:
		step.Action, step.Message = ActionAdopt, "adopt the existing endpoint; "+correction(d)
	case decide.ActionUpdate:
		step.Action, step.Message = ActionUpdate, correction(d)
	case decide.ActionDelete:
		step.Action, step.Message = ActionDelete, fmt.Sprintf("delete endpoint %s from KrosAI", d.EndpointID)
		if _, listed := find(listing.Endpoints, d.EndpointID); !listed {
			step.Message = fmt.Sprintf("endpoint %s is already gone from KrosAI: its DELETE will find nothing, "+
				"and the resource is released", d.EndpointID)
		}
	case decide.ActionOrphan:
		step.Action, step.Message = ActionOrphan, orphanMessages[d.Why]
	default:
		step.Action, step.Changes, step.Message = ActionNone, nil, quiet(d, deleting)
	}
	return step, nil
}

var orphanMessages = map[decide.Why]string{
	decide.WhyObserveOnly:      "managementPolicy ObserveOnly leaves the endpoint in KrosAI whatever deletionPolicy says",
	decide.WhyDeletionPolicy:   "deletionPolicy Orphan leaves the endpoint in KrosAI",
	decide.WhyClaimedByAnother: "never adopted and claimed by another KrosEndpoint: the operator deletes nothing it does not own",
	decide.WhyNotGranted: "never adopted, and no KrosGrant gives it to this namespace: the operator deletes nothing a " +
		"namespace was not granted",
}

// quiet says why a decision writes nothing.
func quiet(d decide.Decision, deleting bool) string {
	switch d.Why {
	case decide.WhyPaused:
		if deleting {
			return fmt.Sprintf("being deleted but paused: the operator does nothing until the annotation %s is removed",
				cockpitv1alpha1.AnnotationPaused)
		}
		return fmt.Sprintf("paused: the operator does nothing until the annotation %s is removed", cockpitv1alpha1.AnnotationPaused)
	case decide.WhyNoFinalizer:
		return "being deleted; the operator's finalizer is gone, nothing left to do"
	case decide.WhyNothingCreated:
		return "being deleted; no endpoint was ever created"
	case decide.WhyCreateMadeNothing:
		return "being deleted; its interrupted create made no endpoint"
	case decide.WhyDeleted: // only a running operator remembers its deletions
		return "being deleted; its endpoint was deleted already"
	case decide.WhyRemoteError:
		return "the endpoint matches the spec but KrosAI reports it in state error"
	case decide.WhyObserveOnly:
		if len(d.Diffs) == 0 {
			return "observed only (managementPolicy ObserveOnly); the endpoint matches the spec"
		}
		return "observed only (managementPolicy ObserveOnly); status.drift would list: " + mapping.FieldNames(d.Diffs)
	}
	return "the endpoint matches the spec"
}

// correction is what a PATCH of d's diffs would change, or that none is needed.
func correction(d decide.Decision) string {
	if len(d.Diffs) == 0 {
		return "the endpoint matches the spec"
	}
	return "update " + mapping.FieldNames(d.Diffs)
}

func changes(diffs []mapping.FieldDiff) []Change {
	if len(diffs) == 0 {
		return nil
	}
	out := make([]Change, 0, len(diffs))
	for _, d := range diffs {
		out = append(out, Change{Field: d.APIField, SpecField: d.SpecField, Old: d.Remote, New: d.Desired, Secret: d.WriteOnly})
	}
	return out
}
