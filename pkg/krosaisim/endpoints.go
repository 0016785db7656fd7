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
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
)

// The five operations. Each validates its request first: the prose rules
// where they give a more precise answer than the schema, then the schema.

func (s *Simulator) listEndpoints(r *http.Request, c *call) reply {
	if err := s.contract.check(r, c); err != nil {
		return err.reply()
	}
	switch c.faults.ListFault {
	case ListFaultNotFound:
		return errNoRoute.reply()
	case ListFaultServerError:
		return errInternal.reply()
	case ListFaultGarbage:
		return reply{status: http.StatusOK, body: rawBody{contentType: "text/html", text: "<html><body>Bad gateway</body></html>\n"}}
	}
	if c.faults.ListShape == ListShapeArray {
		// The contract's shape: everything, no paging, no filters.
		all, _ := s.store.page(c.org, c.faults.listed(listQuery{}.keep), 0, -1)
		return reply{status: http.StatusOK, body: views(all, c.faults.PasswordMode)}
	}
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		return err.reply()
	}
	page, total := s.store.page(c.org, c.faults.listed(q.keep), q.offset, q.limit)
	return reply{status: http.StatusOK, body: wrappedList{Endpoints: views(page, c.faults.PasswordMode), Total: total}}
}

// listed wraps a list's filter with ListFaultIncomplete, which keeps only
// the first, third, fifth... endpoint the filter keeps. The store asks in
// creation order, once per endpoint.
func (f Faults) listed(keep func(*Endpoint) bool) func(*Endpoint) bool {
	if f.ListFault != ListFaultIncomplete {
		return keep
	}
	n := 0
	return func(e *Endpoint) bool {
		if !keep(e) {
			return false
		}
		n++
		return n%2 == 1
	}
}

// wrappedList is the narrative's list shape.
type wrappedList struct {
	Endpoints []endpointView `json:"endpoints"`
	Total     int            `json:"total"`
}

// listQuery is the narrative's paging (limit defaults to 50, at most 100:
// more is clamped) and filters.
type listQuery struct {
	limit, offset int
	typ, status   string
}

func parseListQuery(v url.Values) (listQuery, *apiError) {
	q := listQuery{limit: 50, typ: v.Get("type"), status: v.Get("status")}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, invalid("limit", "limit must be a positive integer")
		}
		q.limit = min(n, 100)
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, invalid("offset", "offset must be a non-negative integer")
		}
		q.offset = n
	}
	if _, known := requiredConfig[q.typ]; q.typ != "" && !known {
		return q, invalid("type", "type %q is not an endpoint type", q.typ)
	}
	if q.status != "" && !validStatus(q.status) {
		return q, invalid("status", "status %q is not an endpoint status", q.status)
	}
	return q, nil
}

func (q listQuery) keep(e *Endpoint) bool {
	return (q.typ == "" || e.Type == q.typ) && (q.status == "" || e.Status == q.status)
}

func (s *Simulator) createEndpoint(r *http.Request, c *call) reply {
	body, err := decodeObject(c.body)
	if err == nil {
		err = checkCreate(body)
	}
	if err == nil {
		err = s.contract.check(r, c)
	}
	if err != nil {
		return err.reply()
	}
	var req struct {
		Name           string         `json:"name"`
		Type           string         `json:"type"`
		URL            string         `json:"url"`
		ProviderConfig map[string]any `json:"provider_config"`
		PhoneNumberID  string         `json:"phone_number_id"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return invalid("", "%v", err).reply()
	}
	at := now()
	e := Endpoint{
		OrganizationID: c.org,
		Name:           req.Name,
		Type:           req.Type,
		URL:            req.URL,
		Status:         "active",
		ProviderConfig: req.ProviderConfig,
		PhoneNumberID:  req.PhoneNumberID,
		CreatedAt:      at,
		UpdatedAt:      at,
	}
	if e.Type == typeWebhook {
		e.Secret = s.rng.text("whsec_", 32)
	}
	for {
		e.ID = s.newID(c.faults.IDFormat)
		if generatesSIPURI(e.Type) {
			e.URL = "sip:" + e.ID + "@sip.krosai.com"
		}
		if s.store.add(e) {
			break
		}
	}
	s.changed()
	s.emit(EventEndpointCreated, e)
	c.created = e.ID
	return reply{status: http.StatusCreated, body: view(e, c.faults.PasswordMode), committed: true}
}

func (s *Simulator) getEndpoint(r *http.Request, c *call) reply {
	if err := s.contract.check(r, c); err != nil {
		return err.reply()
	}
	e, ok := s.store.get(c.org, c.id)
	if !ok {
		return errEndpointNotFound.reply()
	}
	return reply{status: http.StatusOK, body: view(e, c.faults.PasswordMode)}
}

// updateEndpoint looks the endpoint up first: its type decides which
// provider_config fields are required.
func (s *Simulator) updateEndpoint(r *http.Request, c *call) reply {
	stored, ok := s.store.get(c.org, c.id)
	if !ok {
		return errEndpointNotFound.reply()
	}
	body, err := decodeObject(c.body)
	if cfg, given := body["provider_config"]; err == nil && given {
		err = checkConfig(stored.Type, cfg)
	}
	if err == nil {
		err = s.contract.check(r, c)
	}
	if err != nil {
		return err.reply()
	}
	var p EndpointPatch
	if body != nil {
		if err := json.Unmarshal(c.body, &p); err != nil {
			return invalid("", "%v", err).reply()
		}
	}
	e, ok := s.store.update(c.org, c.id, p, now())
	if !ok { // deleted in the meantime
		return errEndpointNotFound.reply()
	}
	s.changed()
	s.emit(EventEndpointUpdated, e)
	return reply{status: http.StatusOK, body: view(e, c.faults.PasswordMode), committed: true}
}

func (s *Simulator) deleteEndpoint(r *http.Request, c *call) reply {
	if err := s.contract.check(r, c); err != nil {
		return err.reply()
	}
	e, ok := s.store.remove(c.org, c.id)
	if !ok {
		return errEndpointNotFound.reply()
	}
	s.changed()
	s.emit(EventEndpointDeleted, e)
	return reply{status: http.StatusNoContent, committed: true}
}

func (s *Simulator) newID(format string) string {
	if format == IDFormatPrefixed {
		return s.rng.text("ep_", 24)
	}
	id, _ := uuid.NewRandomFromReader(s.rng) // the source never fails
	return id.String()
}

// endpointView is an endpoint as the API returns it: the contract's Endpoint
// plus the webhook signing secret the prose documents, its passwords as the
// password mode says.
type endpointView struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	URL            string         `json:"url"`
	Status         string         `json:"status"`
	ProviderConfig map[string]any `json:"provider_config,omitempty"`
	OrganizationID string         `json:"organization_id"`
	Secret         string         `json:"secret,omitempty"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
}

// timeFormat is RFC 3339 with milliseconds, the precision stored.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// view renders e with its stored passwords masked, omitted or echoed as
// passwordMode (one of the PasswordMode constants) says.
func view(e Endpoint, passwordMode string) endpointView {
	v := endpointView{
		ID: e.ID, Name: e.Name, Type: e.Type, URL: e.URL, Status: e.Status,
		OrganizationID: e.OrganizationID, Secret: e.Secret,
		CreatedAt: e.CreatedAt.Format(timeFormat), UpdatedAt: e.UpdatedAt.Format(timeFormat),
	}
	if e.ProviderConfig != nil {
		v.ProviderConfig = make(map[string]any, len(e.ProviderConfig))
		for k, val := range e.ProviderConfig {
			switch {
			case !writeOnly[k] || passwordMode == PasswordModeEcho:
				v.ProviderConfig[k] = val
			case passwordMode == PasswordModeMask:
				v.ProviderConfig[k] = PasswordMask
			}
		}
	}
	return v
}

func views(es []Endpoint, passwordMode string) []endpointView {
	out := make([]endpointView, len(es))
	for i, e := range es {
		out[i] = view(e, passwordMode)
	}
	return out
}
