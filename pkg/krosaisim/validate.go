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

package krosaisim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/krosai/kros-operator/internal/krosai/openapi"
)

// contract is the merged OpenAPI document with a route per operationId.
//
// Routes are built here rather than by a kin-openapi router because those
// match the document's server, https://api.krosai.com/v1, and the simulator
// serves on whatever address it is given.
type contract struct {
	routes  map[string]*routers.Route
	options *openapi3filter.Options
}

// loadContract parses the embedded document once; the result is read-only
// and shared by every Simulator.
var loadContract = sync.OnceValues(func() (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	c := &contract{
		routes: map[string]*routers.Route{},
		options: &openapi3filter.Options{
			// Keys and organizations are the simulator's own business.
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults: true,
			// kin-openapi checks neither format by default.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
					"uuid": openapi3.NewCallbackValidator(func(v string) error {
						if !uuidPattern.MatchString(v) {
							return errors.New("not a UUID")
						}
						return nil
					}),
					"uri": openapi3.NewCallbackValidator(func(v string) error {
						if u, err := url.Parse(v); err != nil || u.Scheme == "" {
							return errors.New("not an absolute URI")
						}
						return nil
					}),
				}),
			},
		},
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				// The document says endpoint ids are UUIDs, the vendor's
				// narrative shows "ep_abc123": ids are opaque, so the id in
				// the path is any string.
				if p.Value.In == openapi3.ParameterInPath && p.Value.Name == "id" {
					p.Value.Schema.Value.Format = ""
				}
			}
			c.routes[op.OperationID] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return c, nil
})

// check validates the request's parameters and body against the contract.
func (c *contract) check(r *http.Request, call *call) *apiError {
	route := c.routes[call.op]
	params := map[string]string{}
	if call.id != "" {
		params["id"] = call.id
	}
	r.Body = io.NopCloser(bytes.NewReader(call.body))
	err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: route, Options: c.options,
	})
	if err == nil {
		return nil
	}
	field := ""
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) && reqErr.Parameter != nil {
		field = reqErr.Parameter.Name
	}
	var schemaErr *openapi3.SchemaError
	if !errors.As(err, &schemaErr) {
		return invalid(field, "%s", err.Error())
	}
	if field == "" {
		field = strings.Join(schemaErr.JSONPointer(), ".")
	}
	if field == "" {
		return invalid("", "request body: %s", schemaErr.Reason)
	}
	return invalid(field, "%s: %s", field, schemaErr.Reason)
}

// The rules below are the vendor's prose, which the schema cannot express.

// The endpoint types with rules of their own.
const (
	typeWebhook   = "webhook"
	typeCustomSIP = "custom_sip"
)

// requiredConfig lists, per endpoint type, the provider_config fields a
// create must give (and a replacing PATCH too); each requirement lists the
// names it accepts, the contract's first: ElevenLabs also takes the
// narrative's agent_id.
var requiredConfig = map[string][][]string{
	typeWebhook:   nil,
	"vapi":        {{"assistant_id"}},
	"retell":      {{"agent_id"}},
	"elevenlabs":  {{"elevenlabs_agent_id", "agent_id"}},
	"livekit":     {{"livekit_sip_trunk_id"}, {"livekit_sip_uri"}},
	"vogent":      {{"vogent_sip_prefix"}, {"vogent_sip_username"}, {"vogent_sip_password"}},
	typeCustomSIP: {{"sip_uri"}},
}

// writeOnly are the provider_config fields holding SIP passwords: the API
// answers them as Faults.PasswordMode says, never in the request log.
var writeOnly = map[string]bool{"vogent_sip_password": true, "password": true}

// needsURL reports whether a create of type t must give the url.
func needsURL(t string) bool { return t == typeWebhook || t == typeCustomSIP }

// generatesSIPURI reports whether the API makes up the url of type t: the
// AI providers get a SIP URI of their own.
func generatesSIPURI(t string) bool {
	_, known := requiredConfig[t]
	return known && !needsURL(t)
}

func validStatus(s string) bool { return s == "active" || s == "inactive" || s == "error" }

// decodeObject parses a JSON request body. A body that is JSON but not an
// object comes back nil, for the schema check to reject in its own words.
func decodeObject(body []byte) (map[string]any, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, &apiError{status: http.StatusBadRequest, Message: "Malformed JSON body: " + err.Error(), Code: codeValidation}
	}
	obj, _ := v.(map[string]any)
	return obj, nil
}

// checkCreate applies the prose rules to a create body. A missing or unknown
// type is left to the schema check.
func checkCreate(body map[string]any) *apiError {
	t, _ := body["type"].(string)
	if _, known := requiredConfig[t]; !known {
		return nil
	}
	if needsURL(t) && !nonEmpty(body["url"]) {
		return invalid("url", "url is required for %s endpoints", t)
	}
	return checkConfig(t, body["provider_config"])
}

// checkConfig checks that cfg has the fields type t requires. A cfg that is
// there but not an object is left to the schema check.
func checkConfig(t string, cfg any) *apiError {
	fields, isObject := cfg.(map[string]any)
	if cfg != nil && !isObject {
		return nil
	}
	for _, names := range requiredConfig[t] {
		given := false
		for _, name := range names {
			given = given || nonEmpty(fields[name])
		}
		if !given {
			field := "provider_config." + names[0]
			return invalid(field, "%s is required for %s endpoints", field, t)
		}
	}
	return nil
}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && s != ""
}
