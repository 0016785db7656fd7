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

package harness

import (
	"context"
	"flag"
	"strconv"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/krosai/kros-operator/internal/logredact"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

// Manager is a controller-runtime manager running in the test's process,
// with controllers added by the suite's setup callback: internal/controller's
// suite wires its own reconciler (it cannot import pkg/operator, which
// imports it), test/hostile calls operator.Setup. The harness imports
// neither, so either suite may import the harness.
type Manager struct {
	ctrl.Manager
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// StartManager creates a manager on cfg with the harness's Scheme and no
// metrics server (metrics are read from the registry), lets setup add the
// controllers, and starts it.
func StartManager(cfg *rest.Config, setup func(ctrl.Manager) error) (*Manager, error) {
	return StartManagerWithOptions(cfg, ctrl.Options{}, setup)
}

// StartManagerWithOptions is StartManager with the manager's options (a
// cache or a leader election of its own, say); their Scheme and metrics
// server are the harness's.
func StartManagerWithOptions(cfg *rest.Config, opts ctrl.Options, setup func(ctrl.Manager) error) (*Manager, error) {
	opts.Scheme, opts.Metrics = Scheme, metricsserver.Options{BindAddress: "0"}
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return nil, err
	}
	if err := setup(mgr); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{Manager: mgr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.err = mgr.Start(ctx)
	}()
	return m, nil
}

// Done is closed when the manager has stopped, by Stop or by failing.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Err is what the manager's Start returned; valid once Done is closed.
func (m *Manager) Err() error { return m.err }

// Stop stops the manager, waits for it and returns what Start returned.
func (m *Manager) Stop() error {
	m.cancel()
	<-m.done
	return m.err
}

// LogToBuffer sends controller-runtime's logger, up to verbosity V(v), to
// a buffer the suite can scan for secrets afterwards. The logger is wrapped
// as the manager's is (internal/logredact).
func LogToBuffer(v int) *operatortest.LogBuffer {
	logs := &operatortest.LogBuffer{}
	// The level is set through zap's own flag, as the manager's is, which
	// spares the harness a direct dependency on zapcore.
	opts := zap.Options{Development: true}
	fs := flag.NewFlagSet("zap", flag.PanicOnError)
	opts.BindFlags(fs)
	_ = fs.Parse([]string{"--zap-log-level=" + strconv.Itoa(v)}) // PanicOnError: a bad flag is a bug here
	logf.SetLogger(logredact.New(zap.New(zap.UseFlagOptions(&opts), zap.WriteTo(logs))))
	return logs
}
