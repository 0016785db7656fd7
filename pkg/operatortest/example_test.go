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

package operatortest_test

import (
	"context"
	"fmt"

	"github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/operator"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

// In a suite, k8sClient talks to envtest's API server and the operator
// writes the status; here a fake client holds a status already written.
func ExampleBeReady() {
	ep := &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "support", Generation: 1},
		Status: cockpitv1alpha1.KrosEndpointStatus{ObservedGeneration: 1, Conditions: []metav1.Condition{{
			Type: cockpitv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: cockpitv1alpha1.ReasonSynced,
			ObservedGeneration: 1,
		}}},
	}
	k8sClient := fake.NewClientBuilder().WithScheme(operator.NewScheme()).WithObjects(ep).Build()

	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(message) }) // gomega.NewWithT(t) in a test
	g.Eventually(operatortest.Get(context.Background(), k8sClient, ep)).Should(operatortest.BeReady())
	g.Expect(ep).NotTo(operatortest.BeStalled(cockpitv1alpha1.ReasonUnauthorized))
	fmt.Println("ready")
	// Output: ready
}

// A Leak says what was found and where, never the value itself.
func ExampleSecrets_Find() {
	var secrets operatortest.Secrets
	secrets.Add("kros_live_0123456789abcdef", "API key of team-a")
	logs := []byte("level=info msg=reconciled\nlevel=error msg=\"401 for kros_live_0123456789abcdef\"\n")
	for _, leak := range secrets.Find("manager log", logs) {
		fmt.Println(leak)
	}
	// Output: API key of team-a in manager log: level=error msg="401 for <API key of team-a>"
}
