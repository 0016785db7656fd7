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
//	go run ./hack/chartpkg -chart dist/chart -version 0.1.0 -out dist
//
// It prints the path of the .tgz it wrote.
package main

import (
	"flag"
	"fmt"
	"os"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

func main() {
	dir := flag.String("chart", "dist/chart", "the chart's directory")
	version := flag.String("version", "", "the chart's version and appVersion (the image tag it defaults to)")
	out := flag.String("out", "dist", "where to write NAME-VERSION.tgz")
	flag.Parse()
	if err := run(*dir, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "chartpkg:", err)
		os.Exit(1)
	}
}

func run(dir, version, out string) error {
	if version == "" {
		return fmt.Errorf("-version is required")
	}
	chrt, err := loader.Load(dir)
	if err != nil {
		return err
	}
	chrt.Metadata.Version = version
	chrt.Metadata.AppVersion = version
	if err := chrt.Validate(); err != nil {
		return err
	}
	path, err := chartutil.Save(chrt, out)
	if err != nil {
		return err
	}
	fmt.Println(path)
	return nil
}
