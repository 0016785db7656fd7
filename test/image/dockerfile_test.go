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

package image

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// dockerignore is the Dockerfile's build context filter: each pattern in
// order, the last that matches a path deciding (a leading ! keeps it).
type dockerignore []struct {
	keep bool
	re   *regexp.Regexp
}

func readDockerignore(t *testing.T, path string) dockerignore {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keep := strings.HasPrefix(line, "!")
		pattern := strings.TrimPrefix(line, "!")
		// Docker's matching: ** any number of directories, * and ? within one.
		var re strings.Builder
		for i := 0; i < len(pattern); i++ {
			switch {
			case strings.HasPrefix(pattern[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(pattern[i:], "**"):
				re.WriteString(".*")
				i++
			case pattern[i] == '*':
				re.WriteString("[^/]*")
			case pattern[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			}
		}
		d = append(d, struct {
			keep bool
			re   *regexp.Regexp
		}{keep, regexp.MustCompile("^" + re.String() + "$")})
	}
	return d
}

func (d dockerignore) sends(path string) bool {
	send := true
	for _, p := range d {
		if p.re.MatchString(path) {
			send = p.keep
		}
	}
	return send
}

// The Dockerfile's build (hack/build-manager.sh on the context .dockerignore
// lets through, without .git) gives the very binary that is in the image.
func TestDockerfileBuildsTheImagesManager(t *testing.T) {
	b, rootfs := hostImage(t)
	g := NewWithT(t)
	labels := imageLabels(t, b)

	ignore := readDockerignore(t, filepath.Join(repoRoot, ".dockerignore"))
	ls, err := exec.Command("git", "-C", repoRoot, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	g.Expect(err).NotTo(HaveOccurred())
	context := t.TempDir()
	for path := range strings.FieldsSeq(string(ls)) {
		if !ignore.sends(path) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, path))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree
		}
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(os.MkdirAll(filepath.Join(context, filepath.Dir(path)), 0o755)).To(Succeed())
		g.Expect(os.WriteFile(filepath.Join(context, path), data, 0o644)).To(Succeed())
	}

	out := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("sh", "hack/build-manager.sh", out)
	build.Dir = context
	build.Env = append(os.Environ(), "GOARCH="+runtime.GOARCH, "VERSION="+b.version,
		"COMMIT="+labels["org.opencontainers.image.revision"], "DATE="+labels["org.opencontainers.image.created"])
	output, err := build.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "the Dockerfile's build:\n%s", output)

	want, err := os.ReadFile(filepath.Join(rootfs, "manager"))
	g.Expect(err).NotTo(HaveOccurred())
	got, err := os.ReadFile(out)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bytes.Equal(got, want)).To(BeTrue(),
		"the Dockerfile's manager (%d bytes) differs from the image's (%d bytes)", len(got), len(want))
}
