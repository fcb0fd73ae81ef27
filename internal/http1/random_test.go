package http1

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// step is one thing a handler does to its response.
type step struct {
	op   string
	key  string
	val  string
	code int
	n    int
}

func (s step) String() string {
	switch s.op {
	case "set":
		return fmt.Sprintf("set %s=%q", s.key, s.val)
	case "header":
		return fmt.Sprintf("status %d", s.code)
	case "write", "string", "read":
		return fmt.Sprintf("%s %d", s.op, s.n)
	}
	return s.op
}

// randomScript draws a handler's steps: header values that matter to
// framing, status codes with and without bodies, writes around the
// hold-back size, flushes, body reads and closes, changes after the
// header was written.
func randomScript(r *rand.Rand) []step {
	keys := []struct {
		k    string
		vals []string
	}{
		{"Content-Type", []string{"text/plain", ""}},
		{"Content-Length", []string{"0", "5", "2048", "3000", "x", "-1"}},
		{"Transfer-Encoding", []string{"chunked", "identity", "gzip"}},
		{"Connection", []string{"close", "keep-alive", "Upgrade"}},
		{"Content-Encoding", []string{"gzip"}},
		{"Date", []string{"then"}},
		{"X-Info", []string{"a", "b\r\nc"}},
		{"Trailer", []string{"X-T"}},
	}
	codes := []int{200, 200, 200, 201, 204, 206, 301, 304, 400, 404, 500, 599, 103}
	sizes := []int{0, 1, 5, 100, 512, 2047, 2048, 2049, 5000}
	var steps []step
	for n := 1 + r.IntN(6); n > 0; n-- {
		switch r.IntN(9) {
		case 0, 1:
			k := keys[r.IntN(len(keys))]
			steps = append(steps, step{op: "set", key: k.k, val: k.vals[r.IntN(len(k.vals))]})
		case 2:
			steps = append(steps, step{op: "header", code: codes[r.IntN(len(codes))]})
		case 3, 4:
			steps = append(steps, step{op: "write", n: sizes[r.IntN(len(sizes))]})
		case 5:
			steps = append(steps, step{op: "string", n: sizes[r.IntN(len(sizes))]})
		case 6:
			steps = append(steps, step{op: "flush"})
		case 7:
			steps = append(steps, step{op: "read", n: []int{1, 10, 1 << 20}[r.IntN(3)]})
		case 8:
			steps = append(steps, step{op: "close body"})
		}
	}
	return steps
}

// run performs steps on w; content is HTML-ish so sniffing has work.
func run(steps []step, w http.ResponseWriter, r *http.Request) {
	body := []byte(strings.Repeat("<html><body>x</body></html>", 200))
	for _, s := range steps {
		switch s.op {
		case "set":
			w.Header().Set(s.key, s.val)
		case "header":
			w.WriteHeader(s.code)
		case "write":
			w.Write(body[:s.n])
		case "string":
			io.WriteString(w, string(body[:s.n]))
		case "flush":
			w.(http.Flusher).Flush()
		case "read":
			io.CopyN(io.Discard, r.Body, int64(s.n))
		case "close body":
			r.Body.Close()
		}
	}
}

// TestRandomHandlers is TestDifferential with handlers drawn at random
// (a fixed seed, so a failure repeats): every combination of the rules
// the table tests one at a time.
func TestRandomHandlers(t *testing.T) {
	var script []step
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { run(script, w, r) })
	std, fast := servers(t, h)
	reqs := []string{
		requests["get 1.1"], requests["head"], requests["get 1.0"], requests["1.0 keepalive"],
		requests["post"], requests["short post"], requests["close"], requests["big post"],
		requests["expect"], requests["expect, unsent"], requests["expect, next"],
	}
	rng := rand.New(rand.NewPCG(*randomSeed, 2))
	n := *randomHandlers
	if testing.Short() {
		n = min(n, 60)
	}
	for i := 0; i < n; i++ {
		script = randomScript(rng)
		raw := reqs[rng.IntN(len(reqs))]
		want, got := exchange(t, std, raw), exchange(t, fast, raw)
		if !bytes.Equal([]byte(got), []byte(want)) {
			t.Fatalf("script %v, request %q:\nnet/http: %q\nhttp1:    %q", script, clip(raw), clip(want), clip(got))
		}
	}
}

// A longer hunt: go test -run TestRandomHandlers -random-handlers 20000 -random-seed 7
var (
	randomHandlers = flag.Int("random-handlers", 300, "how many random handlers TestRandomHandlers tries")
	randomSeed     = flag.Uint64("random-seed", 1, "the seed of TestRandomHandlers")
)
