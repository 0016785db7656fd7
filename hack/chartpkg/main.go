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

// Command chartpkg packages dist/chart as `helm package --version V
// --app-version V` would, with the Helm SDK (no helm binary needed):
//
//	go run ./hack/chartpkg -chart dist/chart -version 0.1.0 -date 2026-01-02T03:04:05Z -out dist
//
// The Helm SDK dates every entry with the clock; chartpkg rewrites its
// archive with hack/reproducible (entries sorted, mode 0644, owner 0, every
// mtime the commit's date, a gzip header without name or time), so one
// commit packaged twice gives the same bytes. It prints the path of the .tgz
// it wrote.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/krosai/kros-operator/hack/reproducible"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

func main() {
	dir := flag.String("chart", "dist/chart", "the chart's directory")
	version := flag.String("version", "", "the chart's version and appVersion (the image tag it defaults to)")
	date := flag.String("date", "", "the commit's date (RFC 3339), every entry's mtime; the Unix epoch if empty")
	out := flag.String("out", "dist", "where to write NAME-VERSION.tgz")
	flag.Parse()
	path, err := run(*dir, *version, *date, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chartpkg:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

func run(dir, version, date, out string) (string, error) {
	if version == "" {
		return "", errors.New("-version is required")
	}
	mtime := time.Unix(0, 0).UTC()
	if date != "" {
		t, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return "", fmt.Errorf("-date: %w", err)
		}
		mtime = t.UTC()
	}
	chrt, err := loader.Load(dir)
	if err != nil {
		return "", err
	}
	chrt.Metadata.Version = version
	chrt.Metadata.AppVersion = version
	if err := chrt.Validate(); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "chartpkg-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	saved, err := chartutil.Save(chrt, tmp)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		return "", err
	}
	if data, err = normalize(data, mtime); err != nil {
		return "", fmt.Errorf("%s: %w", saved, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(out, filepath.Base(saved))
	return path, os.WriteFile(path, data, 0o644)
}

// normalize rewrites the Helm SDK's .tgz with what it holds and nothing of
// when or by whom it was written.
func normalize(tgz []byte, mtime time.Time) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	var entries []reproducible.Entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s: not a regular file (type %q)", h.Name, h.Typeflag)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		entries = append(entries, reproducible.Entry{Name: h.Name, Mode: 0o644, Data: data})
	}
	slices.SortFunc(entries, func(a, b reproducible.Entry) int { return strings.Compare(a.Name, b.Name) })
	return reproducible.GzipTar(entries, mtime)
}
