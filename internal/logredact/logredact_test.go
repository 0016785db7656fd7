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

package logredact

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
)

func TestNew(t *testing.T) {
	const secret = `{"kind":"Secret","data":{"password":"c2VjcmV0LXBhc3N3b3Jk"}}`
	tests := []struct {
		name          string
		log           func(l logr.Logger)
		want, notWant []string
	}{
		{
			name:    "a JSON response body",
			log:     func(l logr.Logger) { l.V(8).Info("Response Body", "body", secret) },
			want:    []string{`"Response Body"`, `"body"="[60 bytes redacted]"`},
			notWant: []string{"c2VjcmV0"},
		},
		{
			name:    "a protobuf request body, as a hex dump",
			log:     func(l logr.Logger) { l.V(8).Info("Request Body", "body", hex.Dump([]byte("k8s\x00"+secret))) },
			want:    []string{`"Request Body"`, `bytes redacted]"`},
			notWant: []string{"c2VjcmV0", "63 32 56 6a"},
		},
		{
			name: "another message with a body key",
			log:  func(l logr.Logger) { l.Info("webhook", "body", "kept") },
			want: []string{`"body"="kept"`},
		},
		{
			name: "values and names added before",
			log: func(l logr.Logger) {
				l.WithName("ctrl").WithValues("ns", "a").V(9).Info("Response Body", "body", secret, "after", 1)
			},
			want:    []string{"ctrl \"caller\"", `"ns"="a"`, `"after"=1`, `[60 bytes redacted]`},
			notWant: []string{"c2VjcmV0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			var out bytes.Buffer
			base := funcr.New(func(prefix, args string) { out.WriteString(prefix + " " + args + "\n") },
				funcr.Options{Verbosity: 10, LogCaller: funcr.All})
			tt.log(New(base))
			for _, s := range tt.want {
				g.Expect(out.String()).To(ContainSubstring(s))
			}
			for _, s := range tt.notWant {
				g.Expect(out.String()).NotTo(ContainSubstring(s))
			}
			g.Expect(out.String()).To(ContainSubstring(`"caller"={"file"="logredact_test.go"`),
				"the caller is the one who logged, not this package")
		})
	}
}
