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

import (
	"fmt"
	"strings"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// signingSecretSuffix names a webhook's signing Secret after the webhook.
const signingSecretSuffix = "-webhook-signing"

// SigningSecretName is the Secret a webhook's signing secret is written to,
// in the webhook's namespace.
func SigningSecretName(ep *cockpitv1alpha1.KrosEndpoint) string {
	name := ep.Name
	if len(name)+len(signingSecretSuffix) > 253 {
		name = name[:253-len(signingSecretSuffix)]
	}
	return name + signingSecretSuffix
}

// SigningWebhookName is the webhook whose signing Secret would be named
// secretName, if any: a Secret of that name in the way of a webhook keeps
// it from writing its own.
func SigningWebhookName(secretName string) (string, bool) {
	return strings.CutSuffix(secretName, signingSecretSuffix)
}

// SigningSecretConflict stalls a webhook whose signing Secret's name is held
// by a Secret it does not own.
func SigningSecretConflict(name string) *Stalled {
	return &Stalled{Reason: cockpitv1alpha1.ReasonSigningSecretConflict, Message: fmt.Sprintf(
		"Secret %q exists and is not owned by this KrosEndpoint; the webhook signing secret cannot be written there", name)}
}
