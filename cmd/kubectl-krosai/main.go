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

// Command kubectl-krosai is the kubectl plugin `kubectl krosai` (put it on
// PATH; kubectl finds it by its name). The commands are internal/cli's;
// this is their process: signals, arguments, and the exit status.
//
// Exit status: 0 success (plan: nothing would change); 1 an error, printed
// on stderr as one line "error: ..."; 2 plan found changes or blocked
// resources.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/krosai/kros-operator/internal/cli"
)

// version, commit and date are set at build time with -ldflags
// "-X main.version=... -X main.commit=... -X main.date=..."
// (hack/krewmanifest, as hack/build-manager.sh does for the manager).
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	// controller-runtime's client logs through a global logger; the
	// plugin's output is its streams alone.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	o := cli.DefaultOptions()
	o.Version = fmt.Sprintf("%s (commit %s, built %s)", version, commit, date)
	code := run(ctx, os.Args[1:], o)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit status, having printed
// the error line, if any.
func run(ctx context.Context, args []string, o cli.Options) int {
	cmd := cli.NewRootCommand(o)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if line := cli.ErrorLine(err); line != "" {
		report(o.IOStreams.ErrOut, line)
	}
	return cli.ExitCode(err)
}

func report(w io.Writer, line string) {
	_, _ = fmt.Fprintln(w, line) // stderr is the last place to report to
}
