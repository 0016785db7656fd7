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

// Package logredact keeps request and response bodies out of the manager's
// log. client-go logs every body it sends or receives at V(8) and above
// (k8s.io/client-go/rest, "Request Body" and "Response Body"), through the
// logger in the request's context: for the reconciler, the manager's own.
// A Secret read is then its data in the log, in JSON or, for protobuf, as a
// hex dump. New wraps the manager's logger so that those entries keep their
// place and their size but lose the body.
package logredact

import (
	"fmt"

	"github.com/go-logr/logr"
)

// bodyMessages are the messages under which client-go logs a body, in its
// "body" value.
var bodyMessages = map[string]bool{"Request Body": true, "Response Body": true}

// New is l with client-go's request and response bodies replaced by their
// length. Everything else is logged as l logs it, from the same caller.
func New(l logr.Logger) logr.Logger {
	inner := l.GetSink()
	if inner == nil {
		return l
	}
	// This sink is one more frame between the caller and inner.
	if cd, ok := inner.(logr.CallDepthLogSink); ok {
		inner = cd.WithCallDepth(1)
	}
	return logr.New(sink{inner})
}

type sink struct{ inner logr.LogSink }

var _ logr.CallDepthLogSink = sink{}

// Init does nothing: inner was initialized by the logger New was given.
func (s sink) Init(logr.RuntimeInfo) {}

func (s sink) Enabled(level int) bool { return s.inner.Enabled(level) }

func (s sink) Info(level int, msg string, kv ...any) { s.inner.Info(level, msg, redact(msg, kv)...) }

func (s sink) Error(err error, msg string, kv ...any) { s.inner.Error(err, msg, redact(msg, kv)...) }

func (s sink) WithValues(kv ...any) logr.LogSink { return sink{s.inner.WithValues(kv...)} }

func (s sink) WithName(name string) logr.LogSink { return sink{s.inner.WithName(name)} }

func (s sink) WithCallDepth(depth int) logr.LogSink {
	if cd, ok := s.inner.(logr.CallDepthLogSink); ok {
		return sink{cd.WithCallDepth(depth)}
	}
	return s
}

// redact is kv with the body of a body message replaced by its length.
func redact(msg string, kv []any) []any {
	if !bodyMessages[msg] {
		return kv
	}
	out := make([]any, len(kv))
	copy(out, kv)
	for i := 0; i+1 < len(out); i += 2 {
		if out[i] == "body" {
			out[i+1] = fmt.Sprintf("[%d bytes redacted]", len(fmt.Sprint(out[i+1])))
		}
	}
	return out
}
