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

package v1alpha1_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

var objectCount atomic.Int64

// newEndpoint builds an unstructured KrosEndpoint from a YAML spec, so cases
// can carry what the Go types cannot: wrong value types and unknown fields.
func newEndpoint(spec string) *unstructured.Unstructured {
	var specMap map[string]any
	Expect(yaml.Unmarshal([]byte(spec), &specMap)).To(Succeed())
	u := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	u.SetAPIVersion(cockpitv1alpha1.GroupVersion.String())
	u.SetKind("KrosEndpoint")
	u.SetNamespace(namespace)
	u.SetName(fmt.Sprintf("case-%d", objectCount.Add(1)))
	return u
}

// expectRejected asserts an admission error naming the field and saying why.
func expectRejected(err error, field, message string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the API server accepted the object")
	Expect(apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)).To(BeTrue(), "unexpected error kind: %v", err)
	Expect(err.Error()).To(ContainSubstring(field))
	Expect(err.Error()).To(ContainSubstring(message))
}

const vogentSpec = `
type: vogent
vogent:
  sipPrefix: p
  credentialsSecretRef: {name: sip}
`

var _ = Describe("KrosEndpoint admission", func() {
	It("accepts every sample in config/samples", func() {
		paths, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "cockpit_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(paths).To(HaveLen(7), "one sample per endpoint type")
		types := map[string]bool{}
		for _, path := range paths {
			for _, obj := range readManifests(path) {
				obj.SetNamespace(namespace)
				Expect(k8sClient.Create(ctx, obj)).To(Succeed(), "sample %s, %s %s", path, obj.GetKind(), obj.GetName())
				if obj.GetKind() == "KrosEndpoint" {
					t, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
					types[t] = true
				}
			}
		}
		Expect(types).To(HaveLen(7), "the samples cover every endpoint type")
	})

	It("defaults enabled to true and deletionPolicy to Delete", func() {
		obj := newEndpoint("{type: elevenlabs, elevenLabs: {agentID: a}}")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		var got cockpitv1alpha1.KrosEndpoint
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got)).To(Succeed())
		Expect(got.Spec.Enabled).To(HaveValue(BeTrue()))
		Expect(got.Spec.DeletionPolicy).To(Equal(cockpitv1alpha1.DeletionPolicyDelete))
	})

	DescribeTable("rejects an invalid spec, naming the field",
		func(spec, field, message string) {
			expectRejected(k8sClient.Create(ctx, newEndpoint(spec)), field, message)
		},
		Entry("type missing", "{webhook: {url: 'https://x.example'}}", "spec.type", "Required value"),
		Entry("unknown type", "{type: twilio}", "spec.type", "Unsupported value"),
		Entry("webhook block missing for type webhook", "{type: webhook}",
			"spec.webhook", "webhook must be set when type is webhook, and only then"),
		Entry("webhook url missing", "{type: webhook, webhook: {}}", "spec.webhook.url", "Required value"),
		Entry("http:// webhook url", "{type: webhook, webhook: {url: 'http://hooks.example.com/x'}}",
			"spec.webhook.url", "url must be an absolute https:// URL"),
		Entry("webhook url that is not a URL", "{type: webhook, webhook: {url: 'https://exa mple.com/%zz'}}",
			"spec.webhook.url", "url must be an absolute https:// URL"),
		Entry("vapi assistantID missing", "{type: vapi, vapi: {credentialID: c}}", "spec.vapi.assistantID", "Required value"),
		Entry("retell agentID missing", "{type: retell, retell: {phoneNumber: '+14155550100'}}",
			"spec.retell.agentID", "Required value"),
		Entry("retell phoneNumber not E.164", "{type: retell, retell: {agentID: a, phoneNumber: '4155550100'}}",
			"spec.retell.phoneNumber", "phoneNumber must be in E.164 form"),
		Entry("elevenLabs agentID missing", "{type: elevenlabs, elevenLabs: {}}", "spec.elevenLabs.agentID", "Required value"),
		Entry("liveKit sipTrunkID missing", "{type: livekit, liveKit: {sipURI: 'sip:a.sip.livekit.cloud'}}",
			"spec.liveKit.sipTrunkID", "Required value"),
		Entry("liveKit sipURI missing", "{type: livekit, liveKit: {sipTrunkID: t}}", "spec.liveKit.sipURI", "Required value"),
		Entry("liveKit sipURI without sip:", "{type: livekit, liveKit: {sipTrunkID: t, sipURI: 'https://a.livekit.cloud'}}",
			"spec.liveKit.sipURI", "sipURI must be a SIP URI starting with sip: or sips:"),
		Entry("vogent sipPrefix missing", "{type: vogent, vogent: {credentialsSecretRef: {name: sip}}}",
			"spec.vogent.sipPrefix", "Required value"),
		Entry("vogent credentialsSecretRef missing", "{type: vogent, vogent: {sipPrefix: p}}",
			"spec.vogent.credentialsSecretRef", "Required value"),
		Entry("customSIP sipURI missing", "{type: custom_sip, customSIP: {credentialsSecretRef: {name: sip}}}",
			"spec.customSIP.sipURI", "Required value"),
		Entry("customSIP sipURI without sip:", "{type: custom_sip, customSIP: {sipURI: 'pbx.example.com'}}",
			"spec.customSIP.sipURI", "sipURI must be a SIP URI starting with sip: or sips:"),
		Entry("customSIP sipURI carrying a header injection", "{type: custom_sip, customSIP: {sipURI: \"sip:a@b\\r\\nVia: x\"}}",
			"spec.customSIP.sipURI", "sipURI must be a SIP URI starting with sip: or sips:"),
		Entry("two provider blocks", "{type: vapi, vapi: {assistantID: a}, webhook: {url: 'https://x.example'}}",
			"spec.webhook", "webhook must be set when type is webhook, and only then"),
		Entry("a block that does not match type", "{type: vapi, retell: {agentID: a}}",
			"spec.retell", "retell must be set when type is retell, and only then"),
		Entry("the block matching type missing when another is set", "{type: vapi, retell: {agentID: a}}",
			"spec.vapi", "vapi must be set when type is vapi, and only then"),
		Entry("displayName of 101 characters", "{type: elevenlabs, elevenLabs: {agentID: a}, displayName: "+strings.Repeat("x", 101)+"}",
			"spec.displayName", "Too long"),
		Entry("empty displayName", "{type: elevenlabs, elevenLabs: {agentID: a}, displayName: ''}",
			"spec.displayName", "at least 1 chars long"),
		Entry("displayName with a control character", "{type: elevenlabs, elevenLabs: {agentID: a}, displayName: \"bell\\a\"}",
			"spec.displayName", "displayName must not contain control characters"),
		Entry("agentID of 256 characters", "{type: elevenlabs, elevenLabs: {agentID: "+strings.Repeat("a", 256)+"}}",
			"spec.elevenLabs.agentID", "Too long"),
		Entry("non-UUID organizationID", "{type: elevenlabs, elevenLabs: {agentID: a}, organizationID: acme}",
			"spec.organizationID", "organizationID must be a UUID"),
		Entry("non-UUID phoneNumberID", "{type: elevenlabs, elevenLabs: {agentID: a}, phoneNumberID: '+14155550100'}",
			"spec.phoneNumberID", "phoneNumberID must be a UUID"),
		Entry("invalid deletionPolicy", "{type: elevenlabs, elevenLabs: {agentID: a}, deletionPolicy: Retain}",
			"spec.deletionPolicy", "Unsupported value"),
		Entry("bad Secret name", "{type: vogent, vogent: {sipPrefix: p, credentialsSecretRef: {name: Bad_Name}}}",
			"spec.vogent.credentialsSecretRef.name", "should match"),
		Entry("empty Secret name", "{type: elevenlabs, elevenLabs: {agentID: a}, apiKeySecretRef: {name: ''}}",
			"spec.apiKeySecretRef.name", "at least 1 chars long"),
		Entry("a namespace on a Secret reference", "{type: elevenlabs, elevenLabs: {agentID: a}, apiKeySecretRef: {name: k, namespace: other}}",
			"spec.apiKeySecretRef.namespace", "unknown field"),
		Entry("enabled that is not a boolean", "{type: elevenlabs, elevenLabs: {agentID: a}, enabled: 'yes'}",
			"spec.enabled", "must be of type boolean"),
		Entry("an unknown spec field", "{type: elevenlabs, elevenLabs: {agentID: a}, region: eu}",
			"spec.region", "unknown field"),
	)

	DescribeTable("rejects changes to immutable fields",
		func(original, changed, field, message string) {
			obj := newEndpoint(original)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			updated := newEndpoint(changed)
			updated.SetName(obj.GetName())
			updated.SetResourceVersion(obj.GetResourceVersion())
			expectRejected(k8sClient.Update(ctx, updated), field, message)
		},
		Entry("changing type",
			"{type: webhook, webhook: {url: 'https://x.example'}}",
			"{type: vapi, vapi: {assistantID: a}}",
			"spec.type", "type is immutable"),
		Entry("changing phoneNumberID",
			"{type: elevenlabs, elevenLabs: {agentID: a}, phoneNumberID: 6f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d}",
			"{type: elevenlabs, elevenLabs: {agentID: a}, phoneNumberID: 00000000-3e4f-4a5b-8c6d-7e8f9a0b1c2d}",
			"spec.phoneNumberID", "phoneNumberID is immutable once set"),
		Entry("removing phoneNumberID",
			"{type: elevenlabs, elevenLabs: {agentID: a}, phoneNumberID: 6f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d}",
			"{type: elevenlabs, elevenLabs: {agentID: a}}",
			"spec.phoneNumberID", "phoneNumberID is immutable once set"),
		Entry("changing organizationID, which would leave the endpoint behind in the first organization",
			"{type: elevenlabs, elevenLabs: {agentID: a}, organizationID: 6f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d}",
			"{type: elevenlabs, elevenLabs: {agentID: a}, organizationID: 00000000-3e4f-4a5b-8c6d-7e8f9a0b1c2d}",
			"spec.organizationID", "organizationID is immutable once set: an endpoint cannot move between organizations. "+
				"To move it, set deletionPolicy: Orphan and delete this resource"),
		Entry("removing organizationID",
			"{type: elevenlabs, elevenLabs: {agentID: a}, organizationID: 6f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d}",
			"{type: elevenlabs, elevenLabs: {agentID: a}}",
			"spec.organizationID", "organizationID is immutable once set"),
	)

	DescribeTable("accepts changes to mutable fields",
		func(original, changed string) {
			obj := newEndpoint(original)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			updated := newEndpoint(changed)
			updated.SetName(obj.GetName())
			updated.SetResourceVersion(obj.GetResourceVersion())
			Expect(k8sClient.Update(ctx, updated)).To(Succeed())
		},
		Entry("setting phoneNumberID for the first time",
			"{type: elevenlabs, elevenLabs: {agentID: a}}",
			"{type: elevenlabs, elevenLabs: {agentID: a}, phoneNumberID: 6f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d}"),
		Entry("editing the provider block, displayName, enabled and deletionPolicy",
			vogentSpec,
			"{type: vogent, vogent: {sipPrefix: q, credentialsSecretRef: {name: other}}, displayName: New, enabled: false, deletionPolicy: Orphan}"),
	)
})

// readManifests splits a multi-document YAML file into objects.
func readManifests(path string) []*unstructured.Unstructured {
	GinkgoHelper()
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); err != nil {
			Expect(err).To(MatchError(io.EOF))
			return objs
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}
