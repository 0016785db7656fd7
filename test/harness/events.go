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

package harness

import (
	"encoding/json"
	"time"
)

// EndpointEvent is a KrosAI endpoint event in the simulator's shape
// (pkg/krosaisim): eventID, its type ("endpoint.updated") and time, and the
// endpoint it names, with its updated_at when not zero. The suites that
// deliver events by hand build them here, so that they send what the
// simulator sends.
func EndpointEvent(eventID, eventType, endpointID string, at, updatedAt time.Time) []byte {
	data := map[string]any{"id": endpointID}
	if !updatedAt.IsZero() {
		data["updated_at"] = updatedAt.UTC().Format(time.RFC3339Nano)
	}
	body, err := json.Marshal(map[string]any{"id": eventID, "type": eventType,
		"created_at": at.UTC().Format(time.RFC3339Nano), "data": data})
	if err != nil {
		panic(err) // strings and maps of strings always marshal
	}
	return body
}
