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

package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Hint is all that is read from a verified delivery. Nothing in it is
// written anywhere: it only says what to read from KrosAI, and when a read
// can be skipped.
type Hint struct {
	// EventID identifies the delivery, for the replay memory; empty when the
	// payload has none (its digest stands in).
	EventID string
	// Type is the event's type ("endpoint.updated"); empty if unsaid.
	Type string
	// At is when the event says it happened; zero if unsaid.
	At time.Time
	// EndpointID is the endpoint it names; empty: read the organization's
	// list instead.
	EndpointID string
	// UpdatedAt is the endpoint's updated_at as the event carries it; zero
	// if unsaid. The operator's own write answered with the same one is the
	// change this event reports: no read is needed.
	UpdatedAt time.Time
	// Delivered is when the delivery was taken.
	Delivered time.Time
}

// EndpointEvent reports whether the event may concern an endpoint: its type
// is endpoint.* or unsaid. Webhooks also receive call events, which must
// not cost a list each.
func (h Hint) EndpointEvent() bool { return h.Type == "" || strings.HasPrefix(h.Type, "endpoint.") }

// payload is the part of a delivery's body that is read. The vendor
// documents the event names and the signature, not the body: these are
// the common field names, each optional.
type payload struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	CreatedAt  json.RawMessage `json:"created_at"`
	Timestamp  json.RawMessage `json:"timestamp"`
	EndpointID string          `json:"endpoint_id"`
	Data       json.RawMessage `json:"data"`
}

type payloadData struct {
	ID         string          `json:"id"`
	EndpointID string          `json:"endpoint_id"`
	UpdatedAt  json.RawMessage `json:"updated_at"`
}

var errMalformed = errors.New("malformed event")

// readHint reads the hint of a verified body: a JSON object whose fields,
// where present, have the types above and sane values.
func readHint(body []byte) (Hint, error) {
	var p payload
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) || json.Unmarshal(body, &p) != nil {
		return Hint{}, errMalformed
	}
	var d payloadData
	if len(p.Data) > 0 && bytes.HasPrefix(bytes.TrimSpace(p.Data), []byte("{")) {
		if json.Unmarshal(p.Data, &d) != nil {
			return Hint{}, errMalformed
		}
	}
	h := Hint{EventID: p.ID, Type: p.Type, EndpointID: firstOf(d.ID, d.EndpointID, p.EndpointID)}
	var ok bool
	if h.At, ok = readTime(firstRaw(p.CreatedAt, p.Timestamp)); !ok {
		return Hint{}, errMalformed
	}
	if h.UpdatedAt, ok = readTime(d.UpdatedAt); !ok {
		return Hint{}, errMalformed
	}
	if !token(h.EventID) || !token(h.EndpointID) || len(h.Type) > 64 {
		return Hint{}, errMalformed
	}
	return h, nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstRaw(values ...json.RawMessage) json.RawMessage {
	for _, v := range values {
		if len(v) > 0 && string(v) != "null" {
			return v
		}
	}
	return nil
}

// readTime reads an RFC 3339 string or Unix seconds (milliseconds above
// 1e12). Absent is the zero time; ok is false for anything else.
func readTime(raw json.RawMessage) (time.Time, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		return t, err == nil
	}
	n, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n > 1e12 {
		return time.UnixMilli(int64(n)), true
	}
	return time.Unix(int64(n), 0), true
}

// token accepts an opaque id: empty, or up to 128 letters, digits, '-', '_'
// and '.'; the API's ids are UUIDs or "ep_abc123".
func token(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}
