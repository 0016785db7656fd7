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

// Package hostile feeds the operator what an attacker or a careless user
// would: invalid manifests (manifests_test.go) and a KrosAI API that answers
// badly (responses_test.go).
package hostile

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/test/harness"
)

// The manifest tests run a kube-apiserver with the CRD and no manager: they
// prove admission alone. No KrosAI API call can happen, since nothing runs
// that would make one; a manifest that got through would still be a bug,
// which the final "nothing was created" check catches.

const manifestNamespace = "hostile-manifests"

// expectLine is the first line of every corpus file.
var expectLine = regexp.MustCompile(`^# expect: (\S+) \| (.+)$`)

// admission is the control plane the manifest tests share, started by the
// first that needs it and stopped by TestMain.
var admission struct {
	once sync.Once
	cp   *harness.ControlPlane
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if admission.cp != nil {
		_ = admission.cp.Stop()
	}
	os.Exit(code)
}

// admissionPlane returns a control plane without kube-controller-manager or
// manager, with the namespace the manifests are applied in.
func admissionPlane(t *testing.T) *harness.ControlPlane {
	t.Helper()
	admission.once.Do(func() {
		if admission.cp, admission.err = harness.StartControlPlane(harness.ControlPlaneOptions{}); admission.err != nil {
			return
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: manifestNamespace}}
		admission.err = admission.cp.Admin.Create(context.Background(), ns)
	})
	NewWithT(t).Expect(admission.err).NotTo(HaveOccurred())
	return admission.cp
}

// TestManifestCorpus applies every manifest of manifests/ with kubectl, as a
// user would, and expects admission to refuse each one, naming the field and
// saying why.
func TestManifestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("manifests", "*.yaml"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	NewWithT(t).Expect(len(files)).To(BeNumerically(">=", 50), "the corpus is too small")
	cp := admissionPlane(t)

	t.Run("rejected", func(t *testing.T) {
		for _, file := range files {
			t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
				t.Parallel()
				g := NewWithT(t)
				field, message := readExpectation(t, file)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				out, err := cp.Kubectl(ctx, "apply", "--namespace", manifestNamespace, "-f", file)
				exitErr, ok := errors.AsType[*exec.ExitError](err)
				g.Expect(ok).To(BeTrue(), "kubectl apply did not fail: %v\n%s", err, out)
				g.Expect(exitErr.ExitCode()).NotTo(BeZero())
				g.Expect(out).To(Or(ContainSubstring(" is invalid: "), ContainSubstring("Error from server")),
					"the refusal must come from the API server, not from kubectl:\n%s", out)
				g.Expect(mentions(out, field, message)).To(BeTrue(),
					"no line of kubectl's output names %s with %q:\n%s", field, message, out)
			})
		}
	})

	g := NewWithT(t)
	out, err := cp.Kubectl(context.Background(), "get", "krosendpoints", "--all-namespaces", "-o", "name")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).NotTo(ContainSubstring("krosendpoint"), "a hostile manifest was admitted")
	var all cockpitv1alpha1.KrosEndpointList
	g.Expect(cp.Admin.List(context.Background(), &all)).To(Succeed())
	g.Expect(all.Items).To(BeEmpty())
}

// readExpectation reads the "# expect: <field path> | <message>" line.
func readExpectation(t *testing.T, file string) (field, message string) {
	t.Helper()
	g := NewWithT(t)
	f, err := os.Open(file)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	line, _ := bufio.NewReader(f).ReadString('\n')
	m := expectLine.FindStringSubmatch(strings.TrimRight(line, "\n"))
	g.Expect(m).NotTo(BeNil(), "%s must start with '# expect: <field path> | <message substring>', not %q", file, line)
	return m[1], m[2]
}

// mentions reports whether one line of out names field, as the API server
// writes it ("spec.x: ..." or `unknown field "spec.x"`), and has message.
func mentions(out, field, message string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		named := strings.Contains(line, " "+field+": ") || strings.Contains(line, `"`+field+`"`)
		if named && strings.Contains(line, message) {
			return true
		}
	}
	return false
}

// TestHostileLookingButValid pins the other side of the corpus: values that
// look dangerous but are valid are admitted, and so are the neighbours of
// every rule the corpus relies on.
//
// https://x/$(id) is a valid https URL: $, ( and ) are RFC 3986 sub-delims.
// The operator never hands the URL to a shell, only to json.Marshal, so
// refusing it would refuse real URLs without protecting anything. What is
// refused (see the corpus) is what no RFC 3986 URL contains unencoded:
// whitespace, controls, quotes and <>\^`{|}.
func TestHostileLookingButValid(t *testing.T) {
	cp := admissionPlane(t)
	for _, tc := range []struct{ name, spec, field, stored string }{
		{name: "shell-substitution-in-url", spec: "{type: webhook, webhook: {url: 'https://hooks.example.com/$(id)'}}"},
		{
			name: "sub-delims-in-url",
			spec: "{type: webhook, webhook: {url: \"https://hooks.example.com/a;b=c,d?e=$f&g='h'(i)*+!\"}}",
		},
		{
			name: "percent-encoded-url",
			spec: "{type: webhook, webhook: {url: 'https://hooks.example.com/a%20b%22c?q=%7Bx%7D#frag'}}",
		},
		{name: "at-sign-in-path", spec: "{type: webhook, webhook: {url: 'https://hooks.example.com/users/@me?x=a@b'}}"},
		{
			name: "unicode-displayname",
			spec: "{type: elevenlabs, elevenLabs: {agentID: a}, displayName: 'Vente — Ünïcødé 日本語 ☎ 👋'}",
		},
		{name: "arabic-displayname", spec: "{type: elevenlabs, elevenLabs: {agentID: a}, displayName: 'مبيعات'}"},
		{
			name: "sip-uri-with-params",
			spec: "{type: custom_sip, customSIP: {sipURI: 'sips:agent@pbx.example.com:5061;transport=tls'}}",
		},
		{
			// The file's bytes are not UTF-8; the decoder replaces them
			// with U+FFFD before admission, so no raw byte gets through.
			name: "raw-invalid-utf8", spec: "{type: elevenlabs, elevenLabs: {agentID: \"a\xffb\"}}",
			field: "{.spec.elevenLabs.agentID}", stored: "a\uFFFDb",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			manifest := "apiVersion: cockpit.krosai.com/v1alpha1\nkind: KrosEndpoint\nmetadata:\n  name: " + tc.name +
				"\nspec: " + tc.spec + "\n"
			file := filepath.Join(t.TempDir(), tc.name+".yaml")
			g.Expect(os.WriteFile(file, []byte(manifest), 0o600)).To(Succeed())
			args := []string{"apply", "--dry-run=server", "--namespace", manifestNamespace, "-f", file}
			if tc.field != "" {
				args = append(args, "-o", "jsonpath="+tc.field)
			}
			out, err := cp.Kubectl(context.Background(), args...)
			g.Expect(err).NotTo(HaveOccurred(), out)
			if tc.field != "" {
				g.Expect(out).To(Equal(tc.stored))
			}
		})
	}
}

// TestSecretRefsStayInNamespace finds every Secret reference in the CRD's
// schema and tries to point each at another namespace's Secret: with a
// namespace field, and with names that smuggle a namespace or a path. None
// may be admitted, and no field anywhere in spec may be called namespace.
func TestSecretRefsStayInNamespace(t *testing.T) {
	g := NewWithT(t)
	root, err := harness.Root()
	g.Expect(err).NotTo(HaveOccurred())
	crd, err := os.ReadFile(filepath.Join(root, "config", "crd", "bases", "cockpit.krosai.com_krosendpoints.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var doc struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema schema `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	g.Expect(yaml.Unmarshal(crd, &doc)).To(Succeed())
	g.Expect(doc.Spec.Versions).To(HaveLen(1))
	spec := doc.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]

	var refs, namespaces []string
	walk(spec, "spec", func(path string, s schema) {
		if strings.HasSuffix(path, "SecretRef") {
			refs = append(refs, path)
			keys := make([]string, 0, len(s.Properties))
			for k := range s.Properties {
				keys = append(keys, k)
			}
			g.Expect(keys).To(ConsistOf("name"), "%s may hold only a name", path)
			g.Expect(s.PreserveUnknownFields).To(BeFalse(), "%s must not keep unknown fields", path)
			g.Expect(s.AdditionalProperties).To(BeNil(), "%s must not allow additional properties", path)
		}
		if strings.HasSuffix(path, ".namespace") {
			namespaces = append(namespaces, path)
		}
	})
	slices.Sort(refs)
	// A new reference field must be added here, and so to this test.
	g.Expect(refs).To(Equal([]string{
		"spec.apiKeySecretRef", "spec.customSIP.credentialsSecretRef", "spec.vogent.credentialsSecretRef",
	}))
	g.Expect(namespaces).To(BeEmpty(), "no spec field may name a namespace")

	cp := admissionPlane(t)
	strict := client.WithFieldValidation(cp.Admin, metav1.FieldValidationStrict)
	bases := map[string]string{
		"spec.apiKeySecretRef":                "{type: elevenlabs, elevenLabs: {agentID: a}}",
		"spec.vogent.credentialsSecretRef":    "{type: vogent, vogent: {sipPrefix: p}}",
		"spec.customSIP.credentialsSecretRef": "{type: custom_sip, customSIP: {sipURI: 'sip:agent@pbx.example.com'}}",
	}
	hostile := []struct {
		ref            map[string]any
		field, message string
	}{
		{map[string]any{"name": "krosai", "namespace": "kube-system"}, ".namespace", "unknown field"},
		{map[string]any{"name": "kube-system/krosai-credentials"}, ".name", "should match"},
		{map[string]any{"name": "../krosai"}, ".name", "should match"},
		{map[string]any{"name": ".."}, ".name", "should match"},
		{map[string]any{"name": "a/../../kube-system/b"}, ".name", "should match"},
		{map[string]any{"name": "kube-system%2Fkrosai"}, ".name", "should match"},
		{
			map[string]any{"name": "krosai", "secretRef": map[string]any{"namespace": "kube-system"}},
			".secretRef", "unknown field",
		},
	}
	for _, path := range refs {
		for _, h := range hostile {
			var specMap map[string]any
			g.Expect(yaml.Unmarshal([]byte(bases[path]), &specMap)).To(Succeed())
			obj := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
			obj.SetAPIVersion(cockpitv1alpha1.GroupVersion.String())
			obj.SetKind("KrosEndpoint")
			obj.SetNamespace(manifestNamespace)
			obj.SetName("cross-namespace")
			fields := strings.Split(strings.TrimPrefix(path, "spec."), ".")
			g.Expect(unstructured.SetNestedField(specMap, h.ref, fields...)).To(Succeed())
			err := strict.Create(context.Background(), obj)
			g.Expect(err).To(HaveOccurred(), "%s = %v was admitted", path, h.ref)
			g.Expect(apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)).To(BeTrue(), "%v", err)
			g.Expect(err.Error()).To(ContainSubstring(path+h.field), "%s = %v", path, h.ref)
			g.Expect(err.Error()).To(ContainSubstring(h.message), "%s = %v", path, h.ref)
		}
	}
	var all cockpitv1alpha1.KrosEndpointList
	g.Expect(cp.Admin.List(context.Background(), &all)).To(Succeed())
	g.Expect(all.Items).To(BeEmpty())
}

// schema is the part of an OpenAPI v3 schema the walk needs.
type schema struct {
	Type                  string            `json:"type"`
	Properties            map[string]schema `json:"properties"`
	Items                 *schema           `json:"items"`
	AdditionalProperties  any               `json:"additionalProperties"`
	PreserveUnknownFields bool              `json:"x-kubernetes-preserve-unknown-fields"`
}

// walk calls visit for every property under s, depth first.
func walk(s schema, path string, visit func(path string, s schema)) {
	for name, p := range s.Properties {
		child := path + "." + name
		visit(child, p)
		walk(p, child, visit)
	}
	if s.Items != nil {
		walk(*s.Items, path+"[]", visit)
	}
}
