package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

type clientState int

const (
	stateNotYetConnected clientState = iota
	stateConnected
	stateExited
	stateLost
)

type clientInfo struct {
	state         clientState
	exitStatus    int
	lastHeartbeat time.Time
}

// Runner is the RPC service. Only the four RPC methods are exported, because
// net/rpc publishes every exported method of a suitable shape.
type Runner struct {
	mu          sync.Mutex // one lock around everything, including the log
	clients     []clientInfo
	env         []string
	log         io.Writer
	interrupted bool
	done        chan struct{}
	reason      string
}

func errUnknown(id int) error { return fmt.Errorf("unrecognized client id: %d", id) }

// Register hands the job env to a client, once per id.
func (r *Runner) Register(id int, reply *RegisterResponse) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 0 || id >= len(r.clients) {
		return errUnknown(id)
	}
	c := &r.clients[id]
	if c.state != stateNotYetConnected {
		return fmt.Errorf("client id %d already registered", id)
	}
	c.state, c.lastHeartbeat = stateConnected, time.Now()
	reply.Env = r.env
	logf("runner", "client %d registered", id)
	return nil
}

// Status is the heartbeat and the turn-taking: client id starts once id-1 exited.
func (r *Runner) Status(id int, reply *RunState) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.isDone() {
		return rpc.ErrShutdown // travels as "connection is shut down"
	}
	if id < 0 || id >= len(r.clients) {
		return errUnknown(id)
	}
	// Accepted before Register too; it only refreshes the heartbeat.
	r.clients[id].lastHeartbeat = time.Now()
	switch {
	case r.interrupted:
		*reply = RunStateInterrupt
	case id == 0 || r.clients[id-1].state == stateExited:
		*reply = RunStateStart
	default:
		*reply = RunStateWait
	}
	return nil
}

// WriteLogs appends to the job log. The message carries no client id.
func (r *Runner) WriteLogs(args Logs, reply *Empty) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.log.Write(args.Data)
	return err
}

// Exit records a client's status. It is accepted even after the job is done.
func (r *Runner) Exit(args ExitCode, reply *Empty) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if args.ID < 0 || args.ID >= len(r.clients) {
		return errUnknown(args.ID)
	}
	c := &r.clients[args.ID]
	c.state, c.exitStatus = stateExited, args.ExitStatus
	logf("runner", "client %d exited with status %d", args.ID, args.ExitStatus)
	if args.ExitStatus != 0 {
		r.terminate(fmt.Sprintf("client %d exited with status %d", args.ID, args.ExitStatus))
		return nil
	}
	for _, c := range r.clients {
		if c.state != stateExited && c.state != stateLost {
			return nil
		}
	}
	r.terminate("all clients exited")
	return nil
}

// isDone and terminate must be called with r.mu held.
func (r *Runner) isDone() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *Runner) terminate(reason string) {
	if !r.isDone() {
		r.reason = reason
		close(r.done)
	}
}

// waitStatus folds the clients into one status, scanning in id order.
func (r *Runner) waitStatus() int {
	for _, c := range r.clients {
		switch c.state {
		case stateExited:
			if c.exitStatus != 0 {
				return c.exitStatus
			}
		case stateLost:
			return -7
		case stateNotYetConnected:
			return -10
		case stateConnected:
			return 137
		}
	}
	return 0
}

// watch runs the timers: lost clients (every 100 ms), the start timeout, and
// the interrupt-then-terminate handling of SIGTERM/SIGINT.
func (r *Runner) watch(sigs <-chan os.Signal, lostTimeout, grace, startTimeout time.Duration) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var startDeadline, graceDeadline <-chan time.Time
	if startTimeout > 0 {
		startDeadline = time.After(startTimeout)
	}
	for {
		select {
		case <-r.done:
			return
		case s := <-sigs:
			r.mu.Lock()
			if !r.interrupted {
				r.interrupted = true
				graceDeadline = time.After(grace)
				logf("runner", "got %v: job interrupted, terminating in %v", s, grace)
			} else {
				r.terminate(fmt.Sprintf("second signal (%v)", s))
			}
			r.mu.Unlock()
		case <-graceDeadline:
			r.mu.Lock()
			r.terminate(fmt.Sprintf("grace period %v expired after interrupt", grace))
			r.mu.Unlock()
		case <-startDeadline:
			r.mu.Lock()
			for _, c := range r.clients {
				if c.state == stateNotYetConnected {
					r.terminate(fmt.Sprintf("timed out waiting %v for all containers to connect", startTimeout))
					break
				}
			}
			r.mu.Unlock()
		case now := <-tick.C:
			r.mu.Lock()
			for id := range r.clients {
				c := &r.clients[id]
				if c.state == stateConnected && now.Sub(c.lastHeartbeat) > lostTimeout {
					c.state = stateLost
					logf("runner", "client %d lost (no status for %v)", id, lostTimeout)
					r.terminate(fmt.Sprintf("client %d lost", id))
				}
			}
			r.mu.Unlock()
		}
	}
}

func runRunner(args []string) int {
	fset := flag.NewFlagSet("runner", flag.ContinueOnError)
	socket := fset.String("socket", "", "socket path to listen on (required)")
	n := fset.Int("containers", 0, "number of client containers (required)")
	envFile := fset.String("env-file", "", "KEY=VALUE lines handed to clients as Env")
	logFile := fset.String("log-file", "", "job log file (default stdout)")
	lostTimeout := fset.Duration("lost-timeout", 30*time.Second, "declare a client lost after this long without Status")
	grace := fset.Duration("grace", 10*time.Second, "cancel grace period between interrupt and terminate")
	startTimeout := fset.Duration("start-timeout", 5*time.Minute, "all clients must register within this (0 disables)")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	if *socket == "" || *n <= 0 || fset.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "runner: need --socket PATH and --containers N (N > 0)")
		return 2
	}
	// Catch signals before the socket appears: a test may signal as soon as it does.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	r := &Runner{clients: make([]clientInfo, *n), env: []string{}, log: os.Stdout, done: make(chan struct{})}
	l, err := r.setup(*socket, *envFile, *logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runner: %v\n", err)
		return 2
	}
	defer os.Remove(*socket)
	logf("runner", "listening on %s for %d containers", *socket, *n)

	go r.watch(sigs, *lostTimeout, *grace, *startTimeout)
	<-r.done

	r.mu.Lock()
	ws, reason := r.waitStatus(), r.reason
	r.mu.Unlock()
	fmt.Fprintf(os.Stderr, "job done with status %d: %s\n", ws, reason)
	// Let in-flight replies (e.g. the Exit that ended the job) reach clients.
	time.Sleep(100 * time.Millisecond)
	l.Close()
	if ws < 0 || ws > 255 {
		return 255
	}
	return ws
}

// setup reads the env file, opens the job log and starts serving on socket.
func (r *Runner) setup(socket, envFile, logFile string) (net.Listener, error) {
	if envFile != "" {
		env, err := readEnvFile(envFile)
		if err != nil {
			return nil, err
		}
		r.env = env
	}
	if logFile != "" {
		f, err := os.Create(logFile) // closed by process exit
		if err != nil {
			return nil, err
		}
		r.log = f
	}
	// A socket file left by an earlier run would make Listen fail.
	if err := os.Remove(socket); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	// Containers may run as other users: everyone in the pod may connect.
	if err := os.Chmod(socket, 0o777); err != nil {
		return nil, err
	}
	server := rpc.NewServer()
	if err := server.RegisterName("Runner", r); err != nil {
		return nil, err
	}
	// Our own mux rather than http.DefaultServeMux: net/rpc over HTTP CONNECT
	// on rpc.DefaultRPCPath ("/_goRPC_"), which is what rpc.DialHTTP asks for.
	mux := http.NewServeMux()
	mux.Handle(rpc.DefaultRPCPath, server)
	go func() { _ = (&http.Server{Handler: mux}).Serve(l) }()
	return l, nil
}

func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := []string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		env = append(env, strings.TrimSuffix(sc.Text(), "\r"))
	}
	return env, sc.Err()
}
