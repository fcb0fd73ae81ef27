package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pids runs n requests for /pid one after another and returns the pids
// that answered, failing the test on any error.
func pids(t *testing.T, g *Group, n int) []string {
	t.Helper()
	var out []string
	for range n {
		body, err := do(t, g, "/pid", "")
		if err != nil {
			t.Fatalf("request %d: %v", len(out)+1, err)
		}
		out = append(out, body)
	}
	return out
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMaximumRequests(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.MaximumRequests = 3 })
	got := pids(t, g, 7)
	// Below 10 there is no jitter: exactly 3 requests per process.
	for i := range got {
		same := got[i] == got[i/3*3]
		if !same || (i%3 == 0 && i > 0 && got[i] == got[i-1]) {
			t.Fatalf("pids %v: want a new process every 3 requests", got)
		}
	}
	if !strings.Contains(logs.String(), "maximum-requests reached, replacing process 'fake' gracefully") {
		t.Errorf("recycling not logged:\n%s", logs)
	}
	waitFor(t, "retired processes to exit", func() bool { return len(g.Stats().Processes) == 1 })
	if st := g.Stats(); st.Recycled["maximum-requests"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestMaximumRequestsJitter(t *testing.T) {
	c := GroupConfig{MaximumRequests: 1000, RestartInterval: time.Hour}
	seen := map[uint64]bool{}
	now := time.Now()
	for range 50 {
		limit, at := c.lifetime(now)
		if limit < 1000 || limit > 1100 || at.Before(now.Add(time.Hour)) || at.After(now.Add(66*time.Minute)) {
			t.Fatalf("lifetime = %d, %v", limit, at.Sub(now))
		}
		seen[limit] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct limits in 50 draws: no jitter", len(seen))
	}
}

func TestRequestTimeout(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) {
		c.RequestTimeout = 400 * time.Millisecond
		c.GracefulTimeout = 2 * time.Second
	})
	pid0 := pids(t, g, 1)[0]
	var wg sync.WaitGroup
	var hangErr, slowErr error
	var slowBody string
	start := time.Now()
	wg.Add(2)
	go func() { defer wg.Done(); _, hangErr = do(t, g, "/hang", "") }()
	// The neighbour is still running when the hung request times out.
	time.Sleep(250 * time.Millisecond)
	go func() { defer wg.Done(); slowBody, slowErr = do(t, g, "/sleep", "300") }()
	wg.Wait()
	if !errors.Is(hangErr, ErrRequestTimeout) || StatusOf(hangErr) != 504 {
		t.Fatalf("hung request: %v, want request timeout (504)", hangErr)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("504 after %v", el)
	}
	// Its neighbour on the same process was not cut short.
	if slowErr != nil || slowBody != pid0 {
		t.Errorf("neighbour: %q %v, want an answer from %s", slowBody, slowErr, pid0)
	}
	// The process is replaced: new requests go to a new one at once.
	if p := pids(t, g, 1)[0]; p == pid0 {
		t.Errorf("request after the timeout served by the stuck process %s", p)
	}
	// The stuck one is killed at graceful-timeout.
	waitFor(t, "the stuck process to be killed", func() bool { return len(g.Stats().Processes) == 1 })
	for _, want := range []string{"request ran longer than request-timeout (400ms)", "dump requested", "did not finish its requests within graceful-timeout"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if st := g.Stats(); st.RequestTimeouts != 1 || st.Recycled["request-timeout"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestInactivityTimeout(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.InactivityTimeout = 200 * time.Millisecond })
	pid0 := pids(t, g, 1)[0]
	// A busy process is left alone even past the timeout.
	if body, err := do(t, g, "/sleep", "400"); err != nil || body != pid0 {
		t.Fatalf("busy past the timeout: %q %v", body, err)
	}
	waitFor(t, "the idle process to be replaced", func() bool {
		ps := g.Stats().Processes
		return len(ps) == 1 && strconv.Itoa(ps[0].Pid) != pid0 && ps[0].State == "ready"
	})
	if p := pids(t, g, 1)[0]; p == pid0 {
		t.Errorf("still served by %s", p)
	}
	if !strings.Contains(logs.String(), "inactivity-timeout reached") {
		t.Errorf("not logged:\n%s", logs)
	}
}

func TestRestartInterval(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.RestartInterval = 300 * time.Millisecond })
	pid0 := pids(t, g, 1)[0]
	// Requests keep being served across the restart: none fails.
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := pids(t, g, 1)[0]
		if p != pid0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("process not restarted after restart-interval")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := g.Stats(); st.Recycled["restart-interval"] < 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestMemoryLimit(t *testing.T) {
	if _, ok := usageOf(1); !ok {
		t.Skip("process usage is not readable on this system")
	}
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.MemoryLimit = 64 << 20; c.RestartInterval = 0 })
	pid0 := pids(t, g, 1)[0]
	if body, err := do(t, g, "/grow", "100"); err != nil || body != pid0 {
		t.Fatalf("grow: %q %v", body, err)
	}
	// Requests go on being answered while the process is replaced.
	deadline := time.Now().Add(5 * time.Second)
	for pids(t, g, 1)[0] == pid0 {
		if time.Now().After(deadline) {
			t.Fatalf("process over memory-limit not replaced:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "over its memory-limit of 64 MiB") {
		t.Errorf("not logged:\n%s", logs)
	}
}

// TestOpenIsolated checks that replayed streams never share a process.
func TestOpenIsolated(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.Processes = 2 })
	waitReady(t, g, 2)
	ctx := context.Background()
	a, err := g.OpenIsolated(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// An ordinary stream may share a's process (it is the least loaded
	// after the other fills up); a second isolated one may not.
	b, err := g.OpenIsolated(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Pid() == b.Pid() {
		t.Fatalf("two isolated streams on process %d", a.Pid())
	}
	// A third waits until one of them is done.
	got := make(chan *Stream, 1)
	go func() {
		s, err := g.OpenIsolated(ctx, "")
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	select {
	case s := <-got:
		t.Fatalf("third isolated stream opened on %d while both processes had one", s.Pid())
	case <-time.After(100 * time.Millisecond):
	}
	n, err := g.Open(ctx, "")
	if err != nil {
		t.Fatalf("an ordinary stream must not wait behind isolated ones: %v", err)
	}
	n.Close()
	a.Close()
	s := <-got
	if s == nil || s.Pid() != a.Pid() {
		t.Fatalf("third isolated stream: %v", s)
	}
	s.Close()
	b.Close()
	if st := g.Stats(); st.Replayed != 3 {
		t.Errorf("replayed = %d", st.Replayed)
	}
}

func TestDeadlockTimeout(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.DeadlockTimeout = 300 * time.Millisecond })
	pid0 := pids(t, g, 1)[0]
	// A healthy process answers the probes and is left alone.
	time.Sleep(700 * time.Millisecond)
	if p := pids(t, g, 1)[0]; p != pid0 {
		t.Fatalf("healthy process %s replaced by %s", pid0, p)
	}
	if body, err := do(t, g, "/deaf", ""); err != nil || body != "deaf" {
		t.Fatalf("deaf: %q %v", body, err)
	}
	waitFor(t, "the deaf process to be killed and replaced", func() bool {
		st := g.Stats()
		return st.Deadlocks == 1 && strconv.Itoa(st.Processes[0].Pid) != pid0 && st.Processes[0].State == "ready"
	})
	if p := pids(t, g, 1)[0]; p == pid0 {
		t.Errorf("still served by %s", p)
	}
	if !strings.Contains(logs.String(), "deadlock timer expired (300ms without an answer), killing process 'fake'") {
		t.Errorf("not logged:\n%s", logs)
	}
}

func TestLazyGroup(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.Lazy = true; c.Processes = 2 })
	if st := g.Stats(); st.Processes[0].Pid != 0 || st.Processes[1].Pid != 0 {
		t.Fatalf("a lazy group spawned processes at Start: %+v", st)
	}
	if p := pids(t, g, 1)[0]; p == "" {
		t.Fatal("first request not served")
	}
	waitReady(t, g, 2)
	if !strings.Contains(logs.String(), "starting process group 'fake' for its first request") {
		t.Errorf("not logged:\n%s", logs)
	}
}

// TestLazyGroupCannotStart: when a lazy group's first request finds that
// its processes cannot start, the request gets 503 with the reason (the
// interpreter could not be run), not "group closed".
func TestLazyGroupCannotStart(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(notExec, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.Lazy = true; c.Python = notExec })
	_, err := do(t, g, "/hello", "")
	if StatusOf(err) != 503 || errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err = %v (status %d), want 503 naming the cause", err, StatusOf(err))
	}
}

// TestEvictionTimeout: Close lets requests finish for eviction-timeout,
// even when the caller would wait longer.
func TestEvictionTimeout(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.EvictionTimeout = 300 * time.Millisecond })
	done := make(chan error, 1)
	go func() { _, err := do(t, g, "/hang", ""); done <- err }()
	waitFor(t, "the request to start", func() bool { return g.Stats().Processes[0].InFlight == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	g.Close(ctx)
	if el := time.Since(start); el < 250*time.Millisecond || el > 3*time.Second {
		t.Errorf("Close took %v with eviction-timeout 300ms", el)
	}
	if err := <-done; StatusOf(err) != 502 {
		t.Errorf("request cut by the eviction: %v", err)
	}
}

// TestRecycleAfterStaleRequest: a recycle request left behind by a
// process that died before it was acted on does not block the next one.
func TestRecycleAfterStaleRequest(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) { c.MaximumRequests = 2 })
	pid0 := pids(t, g, 1)[0]
	// Request 2 reaches the limit (recycle requested) and kills the
	// process before supervise can act on it.
	do(t, g, "/crash", "")
	waitFor(t, "a new process", func() bool {
		p := g.Stats().Processes[0]
		return strconv.Itoa(p.Pid) != pid0 && p.State == "ready"
	})
	got := pids(t, g, 4) // the new process must be recycled after 2
	if got[0] != got[1] || got[2] == got[1] || got[2] != got[3] {
		t.Fatalf("pids %v: want a new process every 2 requests", got)
	}
	// Closing while the last recycling starts a successor must not wait
	// for that successor's timeout.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g.Close(ctx)
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("Close took %v", el)
	}
}

// TestRequestTimeoutWhileRetiring: a request on a process being
// replaced still gets its 504 at request-timeout, not at the longer
// graceful-timeout.
func TestRequestTimeoutWhileRetiring(t *testing.T) {
	g, _ := fakeGroup(t, func(c *GroupConfig) {
		c.MaximumRequests = 2
		c.RequestTimeout = 300 * time.Millisecond
		c.GracefulTimeout = 10 * time.Second
	})
	pids(t, g, 1)
	start := time.Now()
	// The second request reaches maximum-requests: its process retires
	// while the request hangs.
	_, err := do(t, g, "/hang", "")
	if !errors.Is(err, ErrRequestTimeout) {
		t.Fatalf("hung request on a retiring process: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("504 after %v", el)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	g.Close(ctx) // the hung process is killed, not waited for
}
