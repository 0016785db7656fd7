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

package mapping

// Stalled is a reason the operator stops until a person changes the spec, a
// Secret or the endpoints in KrosAI: no retry helps. Reason and Message are
// the Stalled condition's; Message never holds a secret value.
type Stalled struct {
	Reason, Message string
}

func (s *Stalled) Error() string { return s.Message }
