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

// Command krosai-sim serves the KrosAI API simulator (pkg/krosaisim) over
// HTTP, for tests that run the operator as a process: flags to
// krosaisim.Options, krosaisim.New, and Close on a signal.
//
//	krosai-sim --listen 127.0.0.1:0 --api-key KEY[=ORG_UUID] [--api-key ...] [faults]
//
// The faults flags set krosaisim.Faults; among them --password-mode=mask|omit|echo
// picks what API responses carry for a stored SIP password (mask, the
// default, answers "********"; see pkg/krosaisim).
//
// The event flags set krosaisim.Events and where endpoint events go: every
// create, update and delete is POSTed, signed, to the organization's webhook
// endpoints whose URL names an --event-host (default 127.0.0.1, localhost and
// ::1, any port), https ones trusting the system's CAs and --event-ca-file's;
// --events=false turns delivery off. The body is the simulator's assumption
// (see pkg/krosaisim), not the vendor's documented contract.
//
// Its first line on stdout is "listening on http://HOST:PORT"; clients use
// the base URL http://HOST:PORT/v1, tests the admin API under /_sim/. Logs go
// to stderr. SIGINT or SIGTERM shuts it down, saving --state-file, with exit
// status 0; bad flags exit with status 2.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// keysFlag collects repeated --api-key KEY[=ORG_UUID].
type keysFlag []krosaisim.APIKey

func (k *keysFlag) String() string { return fmt.Sprintf("%d keys", len(*k)) }

func (k *keysFlag) Set(v string) error {
	key, org, _ := strings.Cut(v, "=")
	if key == "" {
		return errors.New("want KEY or KEY=ORG_UUID")
	}
	*k = append(*k, krosaisim.APIKey{Key: key, Org: org})
	return nil
}

// hostsFlag collects repeated --event-host HOST; never set, it stays nil,
// which means krosaisim.DefaultEventHosts.
type hostsFlag []string

func (h *hostsFlag) String() string { return strings.Join(*h, ",") }

func (h *hostsFlag) Set(v string) error {
	*h = append(*h, v)
	return nil
}

// eventRoots is the system's CA pool plus the certificates of the PEM file
// at path; nil (the system's) without one.
func eventRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--event-ca-file %s: no PEM certificate in it", path)
	}
	return roots, nil
}

// run is main with its outside world passed in; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("krosai-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		keys       keysFlag
		f          krosaisim.Faults
		ev         krosaisim.Events
		eventHosts hostsFlag
		listen     = fs.String("listen", "127.0.0.1:8089", "address to serve on; port 0 picks a free one")
		stateFile  = fs.String("state-file", "", "file to keep endpoints in across restarts")
		seed       = fs.Uint64("seed", 0, "seed of the faults and generated ids (0: time-based, logged)")
		events     = fs.Bool("events", true, "deliver endpoint events to webhook endpoints whose URL names an --event-host")
		eventCA    = fs.String("event-ca-file", "", "PEM file of CAs trusted, besides the system's, for https webhook URLs")
	)
	fs.Var(&keys, "api-key", "accepted API key, KEY or KEY=ORG_UUID (repeatable; a key given with several "+
		"organizations belongs to all, the first being its default)")
	fs.DurationVar(&f.Latency, "latency", 0, "delay added to every API request")
	fs.DurationVar(&f.LatencyJitter, "latency-jitter", 0, "uniform ± spread of the latency")
	fs.Float64Var(&f.FailRate, "fail-rate", 0, "probability of a 500 without doing the operation")
	fs.Float64Var(&f.HangRate, "hang-rate", 0, "probability of holding a request until the client gives up")
	fs.Float64Var(&f.CommitThenFailRate, "commit-then-fail-rate", 0,
		"probability that a create, update or delete is done, then answered with a 500 or a dropped connection")
	fs.Float64Var(&f.RateLimit, "rate-limit", 0, "requests per second per key (0: unlimited)")
	fs.IntVar(&f.Burst, "burst", 0, "burst size of the rate limit (0: the rate, rounded up)")
	fs.IntVar(&f.DailyLimit, "daily-limit", 0, "requests per key per UTC day (0: unlimited)")
	fs.Float64Var(&f.SharedKeyLoad, "shared-key-load", 0,
		"requests per second another system sends with every key in use, against the same limits (0: none)")
	fs.StringVar(&f.ListShape, "list-shape", krosaisim.ListShapeArray,
		"list response: array (the OpenAPI document) or wrapped (the narrative, with paging and filters)")
	fs.StringVar(&f.IDFormat, "id-format", krosaisim.IDFormatUUID, "endpoint ids: uuid or prefixed (ep_...)")
	fs.StringVar(&f.PasswordMode, "password-mode", krosaisim.PasswordModeMask,
		"what API responses carry for a stored SIP password: mask (\""+krosaisim.PasswordMask+"\", valid against "+
			"the OpenAPI document), omit (the field left out, which the document forbids for vogent) or echo (the "+
			"password itself); the admin API always shows stored passwords")
	fs.Var(&eventHosts, "event-host", "host (name or IP, any port) endpoint events may be delivered to (repeatable; "+
		"default "+strings.Join(krosaisim.DefaultEventHosts(), ", ")+"); webhooks elsewhere are skipped")
	fs.DurationVar(&ev.Delay, "event-delay", 0, "delay before each event delivery")
	fs.DurationVar(&ev.DelayJitter, "event-delay-jitter", 0, "uniform ± spread of the event delay")
	fs.Float64Var(&ev.DropRate, "event-drop-rate", 0, "probability that an event delivery is never sent")
	fs.Float64Var(&ev.DuplicateRate, "event-duplicate-rate", 0, "probability that an event delivery is sent twice")
	fs.DurationVar(&ev.Reorder, "event-reorder", 0,
		"longest random extra delay of each event delivery, so that later events can overtake earlier ones (0: in order)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	complain := func(format string, a ...any) {
		_, _ = fmt.Fprintf(stderr, "krosai-sim: "+format+"\n", a...) // nowhere left to report a failure
	}
	usageError := func(format string, a ...any) int {
		complain(format, a...)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageError("unexpected arguments %q", fs.Args())
	case len(keys) == 0:
		return usageError("at least one --api-key is required: requests without a configured key are refused")
	}
	ev.Disabled = !*events
	if err := errors.Join(f.Validate(), ev.Validate()); err != nil {
		return usageError("%v", err)
	}
	roots, err := eventRoots(*eventCA)
	if err != nil {
		return usageError("%v", err)
	}

	// Before serving: a client answered before the handler is installed
	// could signal a process that would die of it, unsaved.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	sim, err := krosaisim.New(krosaisim.Options{
		Keys: keys, Faults: f, Seed: *seed, StateFile: *stateFile, Logger: log, Addr: *listen,
		Events: ev, EventHosts: eventHosts, EventRootCAs: roots,
	})
	if err != nil {
		complain("%v", err)
		if _, listening := errors.AsType[*net.OpError](err); listening {
			return 1 // the address is taken or not ours: not a usage error
		}
		// What the checks above leave: an --api-key organization that is not
		// a UUID, an --event-host that is not a host, or a --state-file that
		// cannot be read.
		return 2
	}
	if _, err := fmt.Fprintf(stdout, "listening on %s\n", sim.URL); err != nil {
		complain("%v", err) // whoever started us cannot learn the address
		_ = sim.Close()
		return 1
	}
	log.Info("serving the KrosAI API simulator", "api", sim.APIURL(),
		"seed", sim.Seed(), "keys", len(keys), "stateFile", *stateFile)

	<-ctx.Done()
	log.Info("shutting down")
	status := 0
	if err := sim.Close(); err != nil {
		log.Error("shutting down failed", "err", err)
		status = 1
	}
	return status
}
