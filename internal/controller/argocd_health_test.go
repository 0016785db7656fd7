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

package controller

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

const (
	argoHealthScript = "../../config/argocd/krosendpoint-health.lua"
	argoCMPatch      = "../../config/argocd/argocd-cm-patch.yaml"
	// argoHealthKey is where Argo CD looks for the health check of
	// cockpit.krosai.com/KrosEndpoint: resource.customizations.health.<group>_<kind>.
	argoHealthKey = "resource.customizations.health.cockpit.krosai.com_KrosEndpoint"

	pausedMessage = "reconciliation is paused by the " + cockpitv1alpha1.AnnotationPaused + " annotation; no API calls are made"
)

// argoHealth is what Argo CD reads back from a health script.
type argoHealth struct {
	Status  string
	Message string
}

// runArgoHealth runs script the way Argo CD 2.x/3.x does (util/lua): a state
// without the standard libraries except base, package and table (Argo CD adds
// a restricted os, which the script does not use), a one-second deadline, the
// object as the global obj, and the table left on the stack as the result.
func runArgoHealth(t *testing.T, script string, object map[string]any) argoHealth {
	t.Helper()
	g := NewWithT(t)
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		g.Expect(state.CallByParam(lua.P{Fn: state.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name))).
			To(Succeed(), "open Lua library %q", lib.name)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	state.SetGlobal("obj", luaValue(t, state, object))
	g.Expect(state.DoString(script)).To(Succeed(), "health script failed")
	result, ok := state.Get(-1).(*lua.LTable)
	g.Expect(ok).To(BeTrue(), "health script returned %s, not a table", state.Get(-1).Type())
	code, codeOK := result.RawGetString("status").(lua.LString)
	message, messageOK := result.RawGetString("message").(lua.LString)
	g.Expect(codeOK && messageOK).To(BeTrue(), "health script returned status %v and message %v; want two strings",
		result.RawGetString("status"), result.RawGetString("message"))
	return argoHealth{Status: string(code), Message: string(message)}
}

// luaValue converts decoded JSON (or an unstructured object, whose integers
// are int64) to Lua as Argo CD does: objects to tables, arrays to 1-based
// tables, numbers, strings, booleans, and null to nil.
func luaValue(t *testing.T, state *lua.LState, value any) lua.LValue {
	t.Helper()
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case map[string]any:
		table := state.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetString(key, luaValue(t, state, item))
		}
		return table
	case []any:
		table := state.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(luaValue(t, state, item))
		}
		return table
	}
	NewWithT(t).Expect(false).To(BeTrue(), "no Lua value for %T", value)
	return lua.LNil
}

// asJSON is the object as JSON decodes it: every number a float64.
func asJSON(t *testing.T, ep *cockpitv1alpha1.KrosEndpoint) map[string]any {
	t.Helper()
	data, err := json.Marshal(ep)
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), "marshal")
	return decodeJSON(t, string(data))
}

func decodeJSON(t *testing.T, data string) map[string]any {
	t.Helper()
	var object map[string]any
	NewWithT(t).Expect(json.Unmarshal([]byte(data), &object)).To(Succeed(), "unmarshal %s", data)
	return object
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), "read %s", path)
	return string(data)
}

// withCondition writes a condition no setter would write next to the others:
// the status an older operator version, or a hand edit, could leave.
func withCondition(conditionType string, status metav1.ConditionStatus, reason, message string) step {
	return func(ep *cockpitv1alpha1.KrosEndpoint) {
		meta.SetStatusCondition(&ep.Status.Conditions, metav1.Condition{
			Type: conditionType, Status: status, Reason: reason, Message: message, ObservedGeneration: ep.Generation,
		})
	}
}

// claimGeneration sets status.observedGeneration to the current generation
// without touching the conditions.
func claimGeneration(ep *cockpitv1alpha1.KrosEndpoint) { ep.Status.ObservedGeneration = ep.Generation }

func TestArgoCDHealthCheck(t *testing.T) {
	script := readFile(t, argoHealthScript)
	const (
		unauthorized   = "the API rejected the API key (401); check the apiKey in Secret team-a/krosai (apiKeySecretRef)"
		secretNotFound = "Secret team-a/krosai not found"
		ambiguous      = "an interrupted create left 2 candidate endpoints (ep-1, ep-2); set cockpit.krosai.com/endpoint-id"
		noStatus       = "waiting for kros-operator to report status"
		kind           = `"apiVersion": "cockpit.krosai.com/v1alpha1", "kind": "KrosEndpoint"`
	)
	// Built once: their messages carry the time the error was first seen.
	remoteError := endpointAt(1, ready, remoteErrorFor(time.Minute))
	remoteErrorLasting := endpointAt(1, ready, remoteErrorFor(3*time.Minute))
	tests := []struct {
		name string
		// Exactly one of ep (built with the setters) and raw (JSON, for
		// shapes the setters never produce) is set.
		ep      *cockpitv1alpha1.KrosEndpoint
		raw     string
		want    string
		message string
	}{
		// Healthy: Ready=True for the current generation, and only that.
		{name: "ready", ep: endpointAt(1, ready), want: "Healthy", message: readyMessage},
		{name: "ready after an update", ep: endpointAt(5, ready), want: "Healthy", message: readyMessage},
		{name: "ready, paused annotation false", ep: endpointAt(1, ready, annotate(cockpitv1alpha1.AnnotationPaused, "false")),
			want: "Healthy", message: readyMessage},

		// Never Healthy on a stale, partial or missing status.
		{name: "ready, spec edited since", ep: endpointAt(1, ready, editSpec), want: "Progressing",
			message: "waiting for kros-operator to handle generation 2 (last handled: 1): " + readyMessage},
		{name: "Ready=True for an older generation than status.observedGeneration", ep: endpointAt(1, ready, editSpec, claimGeneration),
			want: "Progressing", message: "the Ready condition is for generation 1, not the current 2"},
		{name: "Ready=True without status.observedGeneration",
			raw: `{` + kind + `, "metadata": {"name": "x", "generation": 1},
				"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Synced", "message": "ok"}]}}`,
			want: "Progressing", message: "waiting for kros-operator to handle generation 1 (last handled: unknown): ok"},
		{name: "Ready=True without metadata.generation",
			raw: `{` + kind + `, "metadata": {"name": "x"},
				"status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True", "reason": "Synced", "message": "ok"}]}}`,
			want: "Progressing", message: "waiting for kros-operator to handle generation unknown (last handled: 1): ok"},
		{name: "no status at all", ep: endpointAt(1), want: "Progressing", message: noStatus},
		{name: "no status, no generation", raw: `{` + kind + `, "metadata": {"name": "x"}}`, want: "Progressing", message: noStatus},
		{name: "empty status", raw: `{` + kind + `, "metadata": {"name": "x", "generation": 1}, "status": {}}`,
			want: "Progressing", message: noStatus},
		{name: "null conditions", raw: `{` + kind + `, "metadata": {"name": "x", "generation": 1}, "status": {"conditions": null}}`,
			want: "Progressing", message: noStatus},
		{name: "status of the wrong shape", raw: `{` + kind + `, "metadata": {"name": "x", "generation": 1}, "status": "ok"}`,
			want: "Progressing", message: noStatus},
		{name: "conditions of the wrong shape",
			raw:  `{` + kind + `, "metadata": {"name": "x", "generation": 1}, "status": {"observedGeneration": 1, "conditions": {"type": "Ready"}}}`,
			want: "Progressing", message: "waiting for the Ready condition"},
		{name: "null metadata and status", raw: `{` + kind + `, "metadata": null, "status": null}`, want: "Progressing", message: noStatus},

		// Progressing with the operator's message.
		{name: "creating", ep: endpointAt(1, reconciling(cockpitv1alpha1.ReasonProgressing, creatingMessage)),
			want: "Progressing", message: creatingMessage},
		{name: "retrying after an outage", ep: endpointAt(1, reconciling(cockpitv1alpha1.ReasonAPIUnavailable, "503 from the API")),
			want: "Progressing", message: "503 from the API"},
		{name: "updating a ready endpoint", ep: endpointAt(2, ready, editSpec, reconciling(cockpitv1alpha1.ReasonProgressing, "updating")),
			want: "Progressing", message: "updating"},
		{name: "stale: KrosAI not read for two syncs", ep: endpointAt(1, ready, reconciling(cockpitv1alpha1.ReasonStale, "not read since")),
			want: "Progressing", message: "not read since"},
		{name: "observed only, with drift", ep: endpointAt(1, observedWithDrift), want: "Healthy", message: readyMessage},
		{name: "remote endpoint in state error", ep: remoteError,
			want: "Progressing", message: readyConditionMessage(remoteError)},
		{name: "remote endpoint in state error for three syncs", ep: remoteErrorLasting,
			want: "Degraded", message: readyConditionMessage(remoteErrorLasting)},
		{name: "Ready=False alone",
			raw: `{` + kind + `, "metadata": {"name": "x", "generation": 3},
				"status": {"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "False", "reason": "Other", "message": "not yet"}]}}`,
			want: "Progressing", message: "not yet"},
		{name: "Ready=Unknown",
			raw: `{` + kind + `, "metadata": {"name": "x", "generation": 3},
				"status": {"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "Unknown", "reason": "Other", "message": "checking"}]}}`,
			want: "Progressing", message: "checking"},

		// Degraded: Stalled=True for the current generation, whatever Ready says.
		{name: "stalled: Unauthorized", ep: endpointAt(1, stalled(cockpitv1alpha1.ReasonUnauthorized, unauthorized)),
			want: "Degraded", message: unauthorized},
		{name: "stalled: SecretNotFound", ep: endpointAt(1, reconciling(cockpitv1alpha1.ReasonProgressing, creatingMessage),
			stalled(cockpitv1alpha1.ReasonSecretNotFound, secretNotFound)),
			want: "Degraded", message: secretNotFound},
		{name: "stalled: AmbiguousCreate", ep: endpointAt(1, stalled(cockpitv1alpha1.ReasonAmbiguousCreate, ambiguous)),
			want: "Degraded", message: ambiguous},
		{name: "stalled after an edit of a ready endpoint", ep: endpointAt(1, ready, editSpec, stalled(cockpitv1alpha1.ReasonInvalidRequest, "400: bad url")),
			want: "Degraded", message: "400: bad url"},
		{name: "Stalled=True beside a stale Ready=True",
			ep: endpointAt(1, ready, editSpec, withCondition(cockpitv1alpha1.ConditionStalled, metav1.ConditionTrue,
				cockpitv1alpha1.ReasonForbidden, "403"), claimGeneration),
			want: "Degraded", message: "403"},
		// An edit since the stall may be the fix: wait for the operator.
		{name: "stalled, spec edited since", ep: endpointAt(1, stalled(cockpitv1alpha1.ReasonInvalidRequest, "400: bad url"), editSpec),
			want: "Progressing", message: "waiting for kros-operator to handle generation 2 (last handled: 1): 400: bad url"},

		// Suspended: the paused annotation, whatever the status says.
		{name: "paused after ready", ep: endpointAt(1, ready, paused), want: "Suspended", message: pausedMessage},
		{name: "paused from creation", ep: endpointAt(1, paused), want: "Suspended", message: pausedMessage},
		{name: "paused, spec edited while paused", ep: endpointAt(1, ready, paused, editSpec), want: "Suspended", message: pausedMessage},
		{name: "paused while stalled", ep: endpointAt(1, stalled(cockpitv1alpha1.ReasonUnauthorized, unauthorized), paused),
			want: "Suspended", message: pausedMessage},
		{name: "paused annotation the operator has not seen yet", ep: endpointAt(1, ready, annotate(cockpitv1alpha1.AnnotationPaused, "true")),
			want: "Suspended", message: "reconciliation is paused by the cockpit.krosai.com/paused annotation"},

		// Being deleted: Progressing (Argo CD says so before running the script).
		{name: "deleting a ready endpoint", ep: endpointAt(1, ready, deleting), want: "Progressing", message: "being deleted: " + readyMessage},
		{name: "deleting, remote delete stalled", ep: endpointAt(1, ready, deleting, stalled(cockpitv1alpha1.ReasonUnauthorized, unauthorized)),
			want: "Progressing", message: "being deleted: " + unauthorized},
		{name: "deleting a paused endpoint", ep: endpointAt(1, ready, paused, deleting), want: "Progressing", message: "being deleted: " + pausedMessage},
		{name: "deleting before any status", ep: endpointAt(1, deleting), want: "Progressing", message: "being deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			objects := map[string]map[string]any{}
			if tt.ep != nil {
				// Argo CD hands the script an unstructured object (int64
				// numbers); JSON gives float64. Both must read the same.
				objects["unstructured"] = toUnstructured(t, tt.ep).Object
				objects["json"] = asJSON(t, tt.ep)
			} else {
				objects["json"] = decodeJSON(t, tt.raw)
			}
			for form, object := range objects {
				got := runArgoHealth(t, script, object)
				g.Expect(got).To(Equal(argoHealth{Status: tt.want, Message: tt.message}), "from the %s form", form)
				if got.Status == "Healthy" && tt.ep != nil {
					g.Expect(tt.ep).To(operatortest.BeReady(), "Healthy needs Ready=True for the current generation")
				}
			}
		})
	}
}

// TestArgoCDHealthCheckSnippetMatchesScript keeps the ready-to-apply argocd-cm
// patch and the script identical.
func TestArgoCDHealthCheckSnippetMatchesScript(t *testing.T) {
	g := NewWithT(t)
	script := readFile(t, argoHealthScript)
	var cm corev1.ConfigMap
	g.Expect(yaml.UnmarshalStrict([]byte(readFile(t, argoCMPatch)), &cm)).To(Succeed())
	g.Expect(cm.APIVersion).To(Equal("v1"))
	g.Expect(cm.Kind).To(Equal("ConfigMap"))
	g.Expect(cm.Name).To(Equal("argocd-cm"))
	g.Expect(cm.Data).To(HaveLen(1))
	g.Expect(cm.Data).To(HaveKey(argoHealthKey))
	// YAML's literal block strips the indentation; what is left must be the
	// file, byte for byte.
	g.Expect(cm.Data[argoHealthKey]).To(Equal(script),
		"%s embeds a different script than %s; paste the .lua file into it, indented by 4 spaces", argoCMPatch, argoHealthScript)
	// Argo CD does not load Lua's string library.
	g.Expect(strings.Contains(script, "string.")).To(BeFalse(), "the script must not use the string library")
}
