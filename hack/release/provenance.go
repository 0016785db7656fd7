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
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// buildType names how this project builds a release: `make release`, whose
// steps the repository at the commit defines.
const buildType = "https://github.com/krosai/kros-operator/blob/main/Makefile#release/v1"

// ProvenanceOptions say what was built, from what and by whom.
type ProvenanceOptions struct {
	Version, Commit, Source, ImageRepo string
	// BuilderID is who ran the build: a GitHub workflow run's URL in CI.
	BuilderID, InvocationID string
	// ImageDir is the OCI layout; Files the other artifacts.
	ImageDir string
	Files    []string
}

type provenancePredicate struct {
	BuildDefinition struct {
		BuildType            string               `json:"buildType"`
		ExternalParameters   map[string]any       `json:"externalParameters"`
		InternalParameters   map[string]any       `json:"internalParameters"`
		ResolvedDependencies []resourceDescriptor `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata struct {
			InvocationID string `json:"invocationId,omitempty"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

type resourceDescriptor struct {
	Name   string            `json:"name,omitempty"`
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest,omitempty"`
}

// goBuild is how one binary was compiled, from its build information.
type goBuild struct {
	Artifact  string            `json:"artifact"`
	GoVersion string            `json:"goVersion"`
	Settings  map[string]string `json:"settings"`
}

// Provenance is the SLSA v1 provenance of a release: its subjects are the
// image index and each platform's image (by digest) and every file of
// o.Files (by sha256); its build definition names the commit, and the Go
// version and build settings read from each binary built.
func Provenance(o ProvenanceOptions) (Statement, error) {
	idx, err := imageIndex(o.ImageDir)
	if err != nil {
		return Statement{}, err
	}
	digest, err := idx.Digest()
	if err != nil {
		return Statement{}, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return Statement{}, err
	}
	subjects := []Subject{subject(o.ImageRepo, digest.Hex)}
	for _, d := range m.Manifests {
		subjects = append(subjects, subject(o.ImageRepo, d.Digest.Hex))
	}
	bins, err := ImageBinaries(o.ImageDir)
	if err != nil {
		return Statement{}, err
	}
	var builds []goBuild
	for _, platform := range slices.Sorted(maps.Keys(bins)) {
		b, err := describeBuild("manager "+platform, bins[platform])
		if err != nil {
			return Statement{}, err
		}
		builds = append(builds, b)
	}
	for _, f := range o.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			return Statement{}, err
		}
		subjects = append(subjects, subject(filepath.Base(f), sha256Hex(data)))
		if strings.HasPrefix(filepath.Base(f), pluginBin+"_") && strings.HasSuffix(f, ".tar.gz") {
			bin, err := ArchiveBinary(f)
			if err != nil {
				return Statement{}, err
			}
			b, err := describeBuild(filepath.Base(f), bin)
			if err != nil {
				return Statement{}, err
			}
			builds = append(builds, b)
		}
	}

	var p provenancePredicate
	p.BuildDefinition.BuildType = buildType
	p.BuildDefinition.ExternalParameters = map[string]any{
		"version":         o.Version,
		"source":          o.Source + "@" + o.Commit,
		"imageRepository": o.ImageRepo,
	}
	p.BuildDefinition.InternalParameters = map[string]any{"goBuilds": builds}
	p.BuildDefinition.ResolvedDependencies = []resourceDescriptor{{
		URI: "git+" + o.Source, Digest: map[string]string{"gitCommit": o.Commit},
	}}
	if len(builds) > 0 {
		p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies, resourceDescriptor{
			Name: "go", URI: "pkg:golang/std@" + builds[0].GoVersion,
		})
	}
	p.RunDetails.Builder.ID = o.BuilderID
	p.RunDetails.Metadata.InvocationID = o.InvocationID
	predicate, err := json.Marshal(p)
	if err != nil {
		return Statement{}, err
	}
	return Statement{Type: statementType, Subject: subjects, PredicateType: slsaProvenance, Predicate: predicate}, nil
}

func describeBuild(artifact string, bin []byte) (goBuild, error) {
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return goBuild{}, fmt.Errorf("%s: %w", artifact, err)
	}
	b := goBuild{Artifact: artifact, GoVersion: info.GoVersion, Settings: map[string]string{}}
	for _, s := range info.Settings {
		b.Settings[s.Key] = s.Value
	}
	return b, nil
}
