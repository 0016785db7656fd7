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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// ValidateResponse checks an API response to the operation op against the
// merged OpenAPI document, for the external tests. It reuses the contract
// the simulator validates requests with, and so its uuid and uri format
// checks, which kin-openapi does not apply by default.
//
// Two answers the document does not describe are checked against the
// document's own schemas instead of being let through unchecked:
//
//   - The narrative's wrapped list, {"endpoints": [...], "total": N}: the
//     document says listEndpoints returns a bare array, so each item is
//     checked against the Endpoint schema and total must be a count.
//   - Error statuses an operation does not declare (the document gives 401
//     only to list and create, 404 only to get, update and delete, and 429
//     to none): the body is checked against the Error schema, the shape the
//     narrative gives every error.
func ValidateResponse(op string, status int, header http.Header, body []byte) error {
	c, err := loadContract()
	if err != nil {
		return err
	}
	route := c.routes[op]
	if route == nil {
		return fmt.Errorf("the document has no operation %q", op)
	}
	schemas := route.Spec.Components.Schemas
	switch {
	case op == "listEndpoints" && status == http.StatusOK && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		return c.validateWrappedList(schemas["Endpoint"].Value, body)
	case route.Operation.Responses.Status(status) == nil && status >= http.StatusBadRequest:
		if ct := header.Get("Content-Type"); ct != "application/json" {
			return fmt.Errorf("error response content type %q, want application/json", ct)
		}
		return c.validateJSON(schemas["Error"].Value, body)
	}
	options := *c.options
	options.IncludeResponseStatus = true // an undeclared success status is a violation too
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: httptest.NewRequestWithContext(context.Background(), route.Method, "/v1"+route.Path, nil),
			Route:   route,
			Options: &options,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &options,
	}
	return openapi3filter.ValidateResponse(context.Background(), input)
}

func (c *contract) validateWrappedList(endpoint *openapi3.Schema, body []byte) error {
	var list struct {
		Endpoints []json.RawMessage `json:"endpoints"`
		Total     *int              `json:"total"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("wrapped list: %w", err)
	}
	if list.Endpoints == nil || list.Total == nil || *list.Total < len(list.Endpoints) {
		return fmt.Errorf("wrapped list %s: want an endpoints array and a total counting at least its items", body)
	}
	for i, item := range list.Endpoints {
		if err := c.validateJSON(endpoint, item); err != nil {
			return fmt.Errorf("endpoints[%d]: %w", i, err)
		}
	}
	return nil
}

func (c *contract) validateJSON(schema *openapi3.Schema, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	if v == nil {
		return errors.New("null body")
	}
	return schema.VisitJSON(v, c.options.SchemaValidationOptions...)
}
