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

package reproducible

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestGzipTar(t *testing.T) {
	g := NewWithT(t)
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	entries := []Entry{
		{Name: "home/", Mode: 0o700, Dir: true, Owner: 65532},
		{Name: "home/file", Mode: 0o644, Data: []byte("data")},
	}
	first, err := GzipTar(entries, mtime)
	g.Expect(err).NotTo(HaveOccurred())
	time.Sleep(1100 * time.Millisecond) // a clock that leaked in would now differ
	second, err := GzipTar(entries, mtime)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(second).To(Equal(first))

	zr, err := gzip.NewReader(bytes.NewReader(first))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(zr.Name).To(BeEmpty())
	g.Expect(zr.ModTime.IsZero()).To(BeTrue())
	g.Expect(zr.OS).To(Equal(byte(255)), "unknown, not the builder's")
	tr := tar.NewReader(zr)
	var got []tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		g.Expect(err).NotTo(HaveOccurred())
		got = append(got, *h)
	}
	g.Expect(got).To(HaveLen(2))
	g.Expect(got[0].Typeflag).To(Equal(byte(tar.TypeDir)))
	g.Expect(got[0].Uid).To(Equal(65532))
	g.Expect(got[0].Gid).To(Equal(65532))
	g.Expect(got[1].Typeflag).To(Equal(byte(tar.TypeReg)))
	g.Expect(got[1].Size).To(Equal(int64(4)))
	for _, h := range got {
		g.Expect(h.ModTime.Equal(mtime)).To(BeTrue())
		g.Expect(h.Uname).To(BeEmpty())
		g.Expect(h.Gname).To(BeEmpty())
	}
}
