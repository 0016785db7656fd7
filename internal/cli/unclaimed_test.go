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

package cli

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestUnclaimedGolden(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, append(everyType(), collisions()...)...)
	h.objects = append(h.objects, claimants()...)
	stdout, stderr, code := h.run("unclaimed")
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(stderr).To(BeEmpty())
	expectNoSecrets(g, stdout)
	golden(t, "unclaimed.out", stdout)
	g.Expect(stdout).NotTo(ContainSubstring(id(2)), "claimed by annotation")
	g.Expect(stdout).NotTo(ContainSubstring(id(3)), "claimed by status")
	g.Expect(stdout).NotTo(ContainSubstring(id(4)), "claimed by an interrupted create's record")
}

// TestUnclaimedManifestsAreImports: unclaimed -o yaml|json is import
// --skip-claimed, flags and all.
func TestUnclaimedManifestsAreImports(t *testing.T) {
	for _, output := range []string{"yaml", "json"} {
		t.Run(output, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, append(everyType(), collisions()...)...)
			h.objects = append(h.objects, claimants()...)
			flags := []string{"-o", output, "-n", "voice", "--name-prefix", "x-", "--observe-only"}
			gotOut, gotErr, code := h.run(append([]string{"unclaimed"}, flags...)...)
			g.Expect(code).To(Equal(0), gotErr)
			wantOut, wantErr, code := h.run(append([]string{"import", "--skip-claimed"}, flags...)...)
			g.Expect(code).To(Equal(0), wantErr)
			g.Expect(gotOut).To(Equal(wantOut))
			g.Expect(gotErr).To(Equal(wantErr))
		})
	}
}

// TestUnclaimedTableIsSafe: what the API says is printed without control
// characters or bidirectional overrides, one row per endpoint.
func TestUnclaimedTableIsSafe(t *testing.T) {
	g := NewWithT(t)
	e := everyType()[3]
	e.Name = "evil\x1b[31m\tname\n\u202eoverride\x07"
	h := newHarness(t, e)
	stdout, stderr, code := h.run("unclaimed")
	g.Expect(code).To(Equal(0), stderr)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	g.Expect(lines).To(HaveLen(2))
	g.Expect(strings.Fields(lines[1])).To(Equal([]string{id(4), "elevenlabs", "active", "evil[31m", "name", "override",
		"sip:" + id(4) + "@sip.krosai.com"}))
	g.Expect(stdout).NotTo(ContainSubstring("\x1b"))
	g.Expect(stdout).NotTo(ContainSubstring("\u202e"))
	g.Expect(stdout).NotTo(ContainSubstring("\a"))
}

func TestUnclaimedNone(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	stdout, stderr, code := h.run("unclaimed")
	g.Expect(code).To(Equal(0))
	g.Expect(stdout).To(BeEmpty())
	g.Expect(stderr).To(Equal("No unclaimed endpoints found.\n"))
}
