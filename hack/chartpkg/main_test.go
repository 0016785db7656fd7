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

package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// TestRunIsReproducible packages the real chart twice, a second apart, and
// requires the same bytes, and a chart Helm loads at the version asked for.
func TestRunIsReproducible(t *testing.T) {
	g := NewWithT(t)
	const date = "2026-01-02T03:04:05Z"
	first, err := run("../../dist/chart", "1.2.3", date, t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	time.Sleep(1100 * time.Millisecond) // a clock that leaked in would now differ
	second, err := run("../../dist/chart", "1.2.3", date, t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(filepath.Base(first)).To(Equal("kros-operator-1.2.3.tgz"))

	a, err := os.ReadFile(first)
	g.Expect(err).NotTo(HaveOccurred())
	b, err := os.ReadFile(second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b).To(Equal(a), "two packagings of one chart differ")

	chrt, err := loader.Load(first)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(chrt.Metadata.Version).To(Equal("1.2.3"))
	g.Expect(chrt.Metadata.AppVersion).To(Equal("1.2.3"))
	g.Expect(chrt.Templates).NotTo(BeEmpty())

	other, err := run("../../dist/chart", "1.2.3", "2026-01-02T03:04:06Z", t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	c, err := os.ReadFile(other)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c).NotTo(Equal(a), "the date must reach the archive")
}
