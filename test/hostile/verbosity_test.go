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

package hostile

import (
	"encoding/hex"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// The suite logs at V(10), the most client-go has: at V(8) and above it logs
// the body of every request and response, the Secrets the reconciler reads
// among them (internal/logredact takes them out).
var _ = Describe("The log at the highest verbosity", func() {
	It("holds no API key or SIP password over a create, a rotation and a failed request", func() {
		ns, key, org := fx.Isolated()
		ep, _ := readySIPEndpoint(ns)

		By("rotating the SIP password")
		rotated := fx.NewSecretValue("pw")
		updateSecret(ns, "sip", func(s *corev1.Secret) { s.Data["password"] = []byte(rotated) })
		Eventually(func(g Gomega) {
			remote := sim.Endpoints()[org]
			g.Expect(remote).To(HaveLen(1))
			g.Expect(remote[0].ProviderConfig).To(HaveKeyWithValue("password", rotated))
		}, timeout, interval).Should(Succeed())

		By("failing a request, then recovering")
		api.set(key, modeHTML)
		patchEndpoint(ep, func(e *cockpitv1alpha1.KrosEndpoint) { e.Spec.DisplayName = "Renamed" })
		expectReconciling(ep, `decode response: invalid character '<'`, key)
		api.set(key, modeGood)
		requestSync(ep)
		fx.WaitReady(ep)

		By("finding no secret in the log, hex dumps read back")
		Expect(suite.Logs.String()).To(ContainSubstring("Response Body"), "client-go logged no body: verbosity too low")
		expectNoSecretLeaked()
		Expect(suite.Logs.String()).To(MatchRegexp(`Response Body.*bytes redacted\]`),
			"client-go's bodies are logged as their length")
	})
})

// hexDumpLine is one line of encoding/hex.Dump: an offset, then up to 16
// bytes in hex.
var hexDumpLine = regexp.MustCompile(`[0-9a-f]{8}  ((?:[0-9a-f]{2}  ?){1,16})`)

// hexDumped is the bytes of every hex.Dump line in text, in order, so that
// a value cut across lines is whole again.
func hexDumped(text []byte) []byte {
	var out []byte
	for _, m := range hexDumpLine.FindAllSubmatch(text, -1) {
		b, err := hex.DecodeString(strings.ReplaceAll(string(m[1]), " ", ""))
		if err == nil {
			out = append(out, b...)
		}
	}
	return out
}
