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
	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/mapping"
)

// credentialsChanged reports whether the SIP credentials must be pushed.
// This process knows what its own writes carried; after a restart, a moved
// resourceVersion of the credentials Secret is the only sign.
func (r *KrosEndpointReconciler) credentialsChanged(ep *cockpitv1alpha1.KrosEndpoint, res *resolved, obs observation) bool {
	if obs.writtenFor == ep.UID {
		return obs.credentials != res.credentialsDigest()
	}
	return mapping.CredentialsSecretChanged(ep, res.Versions)
}
