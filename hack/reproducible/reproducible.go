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

// Package reproducible writes archives whose bytes depend only on what they
// hold, so that one commit gives the same digest wherever it is built: the
// image's layer (hack/image), the plugin's release archives
// (hack/krewmanifest) and the chart's package (hack/chartpkg).
package reproducible

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"time"
)

// Entry is one file or directory of an archive.
type Entry struct {
	Name string
	Mode int64
	Dir  bool
	// Owner is the entry's uid and gid; no user or group name is written.
	Owner int
	Data  []byte
}

// GzipTar is entries, in the order given, as a gzip-compressed tar dated
// mtime throughout. Nothing else goes in: not the clock, the builder's
// users, or the gzip header's name, time and OS (compress/gzip leaves them
// unset).
func GzipTar(entries []Entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.Name, Mode: e.Mode, ModTime: mtime, Uid: e.Owner, Gid: e.Owner,
			Typeflag: tar.TypeReg, Size: int64(len(e.Data)), Format: tar.FormatPAX,
		}
		if e.Dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, err
		}
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
