// Command buildkite-peer is a stand-in for the stock `buildkite-agent
// kubernetes-bootstrap` client and the stock kubernetes Runner of the
// Buildkite agent. It was written only from the reference's documented
// behaviour (package docs and a byte-level wire transcript), using nothing but
// Go's standard library net/rpc + encoding/gob, so that baton's integration
// tests and benchmarks can talk to a peer that speaks the real Go protocol.
//
//	buildkite-peer client [flags] -- COMMAND [ARGS...]   (like kubernetes-bootstrap)
//	buildkite-peer runner [flags]                        (like the agent's Runner)
package main

import (
	"fmt"
	"os"
	"time"
)

// The RPC message types, declared exactly as the reference declares them:
// gob sends type and field names on the wire, so these must not be renamed.

// RunState tells a client whether to wait, start, or stop.
type RunState int

const (
	RunStateWait RunState = iota
	RunStateStart
	RunStateInterrupt
)

// RegisterResponse carries the job environment to a registering client.
type RegisterResponse struct{ Env []string }

// Logs is a chunk of job output.
type Logs struct{ Data []byte }

// ExitCode reports a client's final status.
type ExitCode struct{ ID, ExitStatus int }

// Empty is the reply of WriteLogs and Exit.
type Empty struct{}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "client":
		os.Exit(runClient(os.Args[2:]))
	case "runner":
		os.Exit(runRunner(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: buildkite-peer client [--socket PATH] [--id N] [--connect-timeout D] [--poll D] -- COMMAND [ARGS...]")
	fmt.Fprintln(os.Stderr, "       buildkite-peer runner --socket PATH --containers N [--env-file FILE] [--log-file FILE] [--lost-timeout D] [--grace D] [--start-timeout D]")
	os.Exit(2)
}

// logf writes one event line to stderr, prefixed so that interleaved output
// from several peers in one test log stays readable.
func logf(who, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", time.Now().Format("15:04:05.000"), who, fmt.Sprintf(format, args...))
}
