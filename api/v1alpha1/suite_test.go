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
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/krosai/kros-operator/test/harness"
)

// These suites run the generated CRD in a real kube-apiserver: the CEL and
// OpenAPI rules are only proven by admission itself, not by unit tests.
var (
	ctx       context.Context
	cancel    context.CancelFunc
	cp        *harness.ControlPlane
	k8sClient client.Client
	namespace = "validation"
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "KrosEndpoint API Suite")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())

	// The CRD as generated: pkg/crds embeds config/crd/bases, copied by
	// make manifests.
	var err error
	cp, err = harness.StartControlPlane(harness.ControlPlaneOptions{})
	Expect(err).NotTo(HaveOccurred())
	// Strict, as kubectl apply is: unknown fields are rejected, not pruned.
	k8sClient = client.WithFieldValidation(cp.Admin, metav1.FieldValidationStrict)

	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})).To(Succeed())
})

var _ = AfterSuite(func() {
	cancel()
	Expect(cp.Stop()).To(Succeed())
})
