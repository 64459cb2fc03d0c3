package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/rpc"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// runClient behaves like the stock kubernetes-bootstrap: connect, register,
// merge the env, wait for Start, run the command while streaming its output,
// then report the exit status.
func runClient(args []string) int {
	ctxDir := os.Getenv("BUILDKITE_JOB_CONTEXT_DIR")
	if ctxDir == "" {
		ctxDir = "/workspace"
	}
	connTimeout := 2 * time.Minute
	if s := os.Getenv("BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT: %v\n", err)
			return 1
		}
		connTimeout = d
	}
	fset := flag.NewFlagSet("client", flag.ContinueOnError)
	socket := fset.String("socket", filepath.Join(ctxDir, "buildkite.sock"), "runner socket path")
	idStr := fset.String("id", os.Getenv("BUILDKITE_CONTAINER_ID"), "container id (default $BUILDKITE_CONTAINER_ID)")
	fset.DurationVar(&connTimeout, "connect-timeout", connTimeout, "give up connecting after this long")
	poll := fset.Duration("poll", time.Second, "status poll interval")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	argv := fset.Args()
	id, err := strconv.Atoi(*idStr)
	if err != nil || len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "client: need --id N (or BUILDKITE_CONTAINER_ID) and -- COMMAND [ARGS...]")
		return 2
	}
	who := fmt.Sprintf("client %d", id)

	// The container itself does not act on SIGTERM/SIGINT: the runner decides
	// (through Status) when the command should be interrupted.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sigs {
			logf(who, "ignoring signal %v; waiting for the runner to decide", s)
		}
	}()

	// 1. Connect (with retry) and 2. register.
	client, err := dialRetry(*socket, connTimeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "client %d: could not connect to %s within %v: %v\n", id, *socket, connTimeout, err)
		return 1
	}
	defer client.Close()
	var reg RegisterResponse
	if err := client.Call("Runner.Register", id, &reg); err != nil {
		fmt.Fprintf(os.Stderr, "client %d: register: %v\n", id, err)
		return 1
	}
	env := mergeEnv(os.Environ(), reg.Env)

	// 4. Wait for our turn. The poller keeps running after Start: its calls
	// are the heartbeats that stop the runner declaring us lost.
	started := make(chan error, 1)
	interrupt := make(chan struct{})
	stopPoll := make(chan struct{})
	go statusLoop(client, id, *poll, started, interrupt, stopPoll)
	if err := <-started; err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	status := runCommand(client, who, argv, env, interrupt)

	// 7. Report. Polling goes on until Exit has been answered, as the stock
	// client's does (its interrupt has no effect once the command is done).
	if err := client.Call("Runner.Exit", ExitCode{ID: id, ExitStatus: status}, &Empty{}); err != nil {
		logf(who, "exit: %v", err)
	}
	close(stopPoll)
	logf(who, "command finished with status %d", status)
	return status
}

// dialRetry retries every second until the timeout, like the stock Connect
// (k8s may start this container before the agent container's socket exists).
func dialRetry(socket string, timeout time.Duration) (*rpc.Client, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := rpc.DialHTTP("unix", socket)
		if err == nil {
			return c, nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, err
		}
		if wait > time.Second {
			wait = time.Second
		}
		time.Sleep(wait)
	}
}

// mergeEnv applies the runner's Env over our own, except for names that
// describe this container, where the container's own value wins.
func mergeEnv(own, fromRunner []string) []string {
	keys := []string{}
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	for _, kv := range own {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	containerOwned := map[string]bool{
		"BUILDKITE_BOOTSTRAP_PHASES": true, "BUILDKITE_COMMAND": true, "BUILDKITE_CONTAINER_ID": true,
		"BUILDKITE_JOB_CONTEXT_DIR": true, "BUILDKITE_SOCKETS_PATH": true, "HOME": true, "HOSTNAME": true,
		"PATH": true, "PWD": true, "SHLVL": true, "TERM": true,
	}
	for _, kv := range fromRunner {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" || containerOwned[k] || strings.HasPrefix(k, "KUBERNETES_") {
			continue
		}
		if k == "BUILDKITE_SHELL" || k == "BUILDKITE_HOOKS_SHELL" {
			if _, ok := os.LookupEnv(k); ok {
				continue
			}
		}
		set(k, v)
	}
	set("BUILDKITE_KUBERNETES_EXEC", "true")
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+vals[k])
	}
	return out
}

// statusLoop polls Runner.Status every interval (first poll after one
// interval, like the stock StatusLoop). Before Start it reports the outcome
// on started; afterwards an Interrupt or an error closes interrupt once.
func statusLoop(c *rpc.Client, id int, every time.Duration, started chan<- error, interrupt chan struct{}, stop <-chan struct{}) {
	isStarted, interrupted := false, false
	for {
		select {
		case <-stop:
			return
		case <-time.After(every):
		}
		var st RunState
		err := c.Call("Runner.Status", id, &st)
		switch {
		case !isStarted && err != nil:
			started <- err
			return
		case !isStarted && st == RunStateInterrupt:
			started <- errors.New("job interrupted before starting")
			return
		case !isStarted && st == RunStateStart:
			isStarted = true
			started <- nil
		case isStarted && (err != nil || st == RunStateInterrupt):
			if !interrupted {
				interrupted = true
				close(interrupt)
			}
			if err != nil {
				return // the connection or the job is gone: nothing to poll
			}
		}
	}
}

// runCommand runs argv in its own process group, streams its output to our
// stdout and to Runner.WriteLogs, and returns its exit status (128+signal if
// it was killed by a signal).
func runCommand(c *rpc.Client, who string, argv, env []string, interrupt <-chan struct{}) int {
	var sendFailed atomic.Bool
	send := func(b []byte) {
		if sendFailed.Load() {
			return
		}
		if err := c.Call("Runner.WriteLogs", Logs{Data: b}, &Empty{}); err != nil {
			sendFailed.Store(true)
			logf(who, "write logs: %v (no longer sending logs)", err)
		}
	}
	send([]byte("~~~ Bootstrapping phases (unknown)\n"))

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	var stderr io.ReadCloser
	if err == nil {
		stderr, err = cmd.StderrPipe()
	}
	if err == nil {
		err = cmd.Start() // stdin left nil: exec gives the child /dev/null
	}
	if err != nil {
		msg := fmt.Sprintf("%s: could not start %q: %v\n", who, argv[0], err)
		os.Stderr.WriteString(msg)
		send([]byte(msg))
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return 127
		}
		return 126
	}

	// 6. On interrupt: SIGTERM the group once, SIGKILL after 10 s if needed.
	exited := make(chan struct{})
	go func() {
		select {
		case <-exited:
			return
		case <-interrupt:
		}
		select { // both ready: prefer "exited", the pid may already be reused
		case <-exited:
			return
		default:
		}
		logf(who, "interrupted: sending SIGTERM to process group %d", cmd.Process.Pid)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			logf(who, "still running after 10s: sending SIGKILL")
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()

	// 5. Two copiers, so stdout and stderr WriteLogs calls may overlap on the
	// one connection, as the stock client's do.
	var wg sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		wg.Add(1)
		go func(r io.Reader) {
			defer wg.Done()
			buf := make([]byte, 32*1024)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					chunk := append([]byte(nil), buf[:n]...)
					os.Stdout.Write(chunk)
					send(chunk)
				}
				if err != nil {
					return
				}
			}
		}(r)
	}
	wg.Wait() // exec's rule: finish reading the pipes before Wait
	waitErr := cmd.Wait()
	close(exited)

	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		return 128 + int(ws.Signal())
	case ok:
		return ws.ExitStatus()
	case waitErr != nil:
		return 1
	}
	return 0
}
