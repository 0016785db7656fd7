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
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	tests := []struct {
		name, content, env string
		want               int64
	}{
		{"a limit", "1073741824\n", "", 966367638},
		{"no limit (cgroup v2)", "max\n", "", 0},
		{"no limit (cgroup v1)", "9223372036854771712\n", "", 0},
		{"GOMEMLIMIT wins", "1073741824\n", "200MiB", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "memory.max")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			defer func(files []string) { cgroupMemoryFiles = files }(cgroupMemoryFiles)
			cgroupMemoryFiles = []string{filepath.Join(t.TempDir(), "absent"), path}
			t.Setenv("GOMEMLIMIT", tt.env)
			if got := setMemoryLimit(); got != tt.want {
				t.Fatalf("setMemoryLimit() = %d, want %d", got, tt.want)
			}
			if tt.want > 0 && debug.SetMemoryLimit(-1) != tt.want {
				t.Fatalf("the runtime's limit is %d, want %d", debug.SetMemoryLimit(-1), tt.want)
			}
		})
	}
}
