package wsgi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/protocol"
	"wsgid/internal/worker"
)

// Gateway runs WSGI requests on worker groups. It is safe for concurrent
// use; build it once per configuration.
type Gateway struct {
	groups       map[string]*worker.Group
	defaultGroup string
	log          *errorlog.Logger

	// ErrorPage, if set, writes the response for an error status the
	// gateway generates (411, 413, 500, 502, 503, ...), so that the
	// server can apply ErrorDocument. The default writes a small generic
	// HTML page like Apache's; neither ever includes internal details.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int)
}

// New returns a Gateway dispatching to groups by name; a Target whose
// Group is "" uses defaultGroup.
func New(groups map[string]*worker.Group, defaultGroup string, log *errorlog.Logger) *Gateway {
	return &Gateway{groups: groups, defaultGroup: defaultGroup, log: log}
}

var envPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxRead caps one TypeData answer to a TypeRead.
const maxRead = 1 << 20

// Serve runs the request r on the application t names and writes its
// response to w.
func (g *Gateway) Serve(w http.ResponseWriter, r *http.Request, t *Target) {
	start := time.Now()
	name := t.Group
	if name == "" {
		name = g.defaultGroup
	}
	grp := g.groups[name]
	if grp == nil {
		g.log.Log(errorlog.Error, "wsgi", r.RemoteAddr, "No WSGI daemon process called '%s' has been configured: %s", name, t.Script)
		g.error(w, r, http.StatusInternalServerError)
		return
	}

	// Request body policy, in mod_wsgi's order.
	chunked := len(r.TransferEncoding) > 0
	if chunked && !t.ChunkedRequest {
		g.log.Log(errorlog.Error, "wsgi", r.RemoteAddr, "Received request requiring chunked transfer encoding, but optional support for chunked transfer encoding has not been enabled.")
		g.error(w, r, http.StatusLengthRequired)
		return
	}
	if t.LimitRequestBody > 0 && r.ContentLength > t.LimitRequestBody {
		g.log.Log(errorlog.Error, "wsgi", r.RemoteAddr, "Requested content-length of %d is larger than the configured limit of %d", r.ContentLength, t.LimitRequestBody)
		g.error(w, r, http.StatusRequestEntityTooLarge)
		return
	}

	envp := envPool.Get().(*[]byte)
	defer func() {
		if cap(*envp) <= 64<<10 {
			*envp = (*envp)[:0]
			envPool.Put(envp)
		}
	}()
	env, fixed, err := appendEnviron((*envp)[:0], r, t, start)
	*envp = env
	if err != nil {
		g.log.Log(errorlog.Error, "wsgi", r.RemoteAddr, "Request data contains a NUL byte: %s", r.RequestURI)
		g.error(w, r, http.StatusBadRequest)
		return
	}

	rs := &relay{g: g, w: w, r: r, t: t, grp: grp, declared: -1}
	defer func() {
		if !rs.bodyDone && !rs.bodyDeadline && r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// The server reads what the application left unread
			// before it answers: Timeout bounds that too. (A read
			// that failed left its deadline, already past.)
			rs.armBodyRead()
		}
		if rs.st != nil {
			// Closed already unless something panicked on the way (the
			// HTTP server recovers the panic): without this the stream
			// would hold its process's room, and the worker its
			// thread, for good.
			rs.st.Close()
		}
	}()
	var inline []byte
	end := true
	switch {
	case r.Body == nil || r.Body == http.NoBody || (r.ContentLength == 0 && !chunked):
		rs.bodyDone = true
	case r.ContentLength > 0 && r.ContentLength <= grp.BodyThreshold():
		// Read small bodies before taking a worker slot, so that a slow
		// client never holds a Python thread.
		bp := getBody(int(r.ContentLength))
		defer putBody(bp)
		rs.armBodyRead()
		if _, err := io.ReadFull(r.Body, (*bp)[:r.ContentLength]); err != nil {
			g.log.Log(errorlog.Info, "wsgi", r.RemoteAddr, "Request data read error: %v", err)
			g.error(w, r, readErrorStatus(err))
			return
		}
		rs.liftBodyRead()
		inline = (*bp)[:r.ContentLength]
		rs.bodyDone = true
		rs.bodyRead = r.ContentLength
	default:
		end = false
	}

	ctx := r.Context()
	// A request whose process dies before answering is replayed once on
	// another process when that is safe: an idempotent method, the body
	// held here in full, nothing of the response received. The replay
	// is isolated (worker.Group.OpenIsolated), so a request that kills
	// its process again is known to be the cause and gets the 502.
	rs.replayable = end && idempotent[r.Method]
	var died *worker.Error
	restarts, unsent := 0, 0
	for {
		var st *worker.Stream
		var err error
		if died == nil {
			st, err = grp.Open(ctx, r.RemoteAddr)
		} else {
			st, err = grp.OpenIsolated(ctx, r.RemoteAddr)
		}
		if err != nil {
			if ctx.Err() != nil {
				return // the client went away while queued
			}
			g.log.Log(errorlog.Error, "wsgi", r.RemoteAddr, "Unable to dispatch %s %s: %v", r.Method, r.RequestURI, err)
			status := worker.StatusOf(err)
			if status == http.StatusServiceUnavailable {
				// Overloaded, restarting or shutting down: a moment
				// later another process will most likely answer.
				w.Header().Set("Retry-After", "5")
			}
			g.error(w, r, status)
			return
		}
		rs.st = st
		if rs.bodyDone {
			if f := finisherOf(w); f != nil {
				rs.finisher = f
				st.SetDirect(rs)
			}
		}
		if err := st.Send(env[:fixed], env[fixed:], inline, end); err != nil {
			st.Close()
			// The process died before it could read the request (it
			// is not yet known dead): the application never saw it,
			// so sending it elsewhere is safe for any method.
			if unsent++; unsent <= 3 {
				g.log.Log(errorlog.Info, "wsgi", r.RemoteAddr, "Unable to send request to daemon process '%s' (pid %d): %v; trying another.", name, st.Pid(), err)
				continue
			}
			g.log.Log(errorlog.Error, "wsgi", r.RemoteAddr, "Unable to send request to daemon process '%s' (pid %d): %v", name, st.Pid(), err)
			g.error(w, r, http.StatusBadGateway)
			return
		}
		again := rs.run(ctx)
		st.Close()
		if again == nil {
			return
		}
		if errors.Is(again, worker.ErrScriptChanged) {
			// The group restarts for a changed script (daemon-style
			// WSGIScriptReloading): the new code answers.
			if restarts++; restarts <= 3 {
				continue
			}
			rs.abort(http.StatusServiceUnavailable)
			return
		}
		if died == nil {
			died = again
			g.log.Log(errorlog.Warn, "wsgi", r.RemoteAddr, "Daemon process '%s' (pid %d) died (%s) before answering %s %s; replaying it on another process.", again.Group, again.Pid, again.Cause, r.Method, r.RequestURI)
			continue
		}
		g.log.Log(errorlog.Error, "wsgi", r.RemoteAddr, "%s %s was in flight when daemon processes '%s' (pid %d, then pid %d) died; not replaying it again: it is the likely cause.", r.Method, r.RequestURI, again.Group, died.Pid, again.Pid)
		rs.abort(http.StatusBadGateway)
		return
	}
}

// idempotent are the methods whose requests may be sent twice (RFC 9110
// §9.2.2).
var idempotent = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodOptions: true,
	http.MethodTrace: true, http.MethodPut: true, http.MethodDelete: true,
}

// relay carries one response from the worker stream to the client.
type relay struct {
	g   *Gateway
	w   http.ResponseWriter
	r   *http.Request
	t   *Target
	grp *worker.Group
	st  *worker.Stream

	status    int  // from TypeHeaders; 0 until then
	committed bool // WriteHeader called
	noBody    bool // HEAD, 204, 304: body discarded
	declared  int64
	written   int64
	overrun   bool
	unacked   int
	bodyDone  bool
	bodyRead  int64
	// bodyDeadline: armBodyRead set the connection's read deadline.
	bodyDeadline bool
	clientGone   bool
	// replayable: the request may be sent again if its process dies
	// before the response begins (see Gateway.Serve).
	replayable bool
	// vals backs the first header values of the reply (see headers).
	vals  [6]string
	nvals int

	// The reply handled on the reader goroutine (TakeReply): finisher ends
	// the response there; deferAbort has abort note its status in
	// abortStatus for the request's goroutine instead of answering;
	// directOK and early say how far WriteElsewhere got.
	finisher    finisher
	reply       worker.Event // the reply TakeReply took
	deferAbort  bool
	abortStatus int
	directOK    bool
	early       bool
}

// finisher is a ResponseWriter that can be ended from another goroutine
// (http1's response; see FinishElsewhere there).
type finisher interface {
	FinishElsewhere(w interface{ WriteElsewhere() bool }) (ran bool)
}

// finisherOf finds w's finisher through the wrappers' Unwrap, or nil (the
// net/http and HTTP/2 paths have none).
func finisherOf(w http.ResponseWriter) finisher {
	for {
		if f, ok := w.(finisher); ok {
			return f
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// directMax bounds the body of a reply answered on the reader goroutine:
// what the client's socket does not take at once is kept in memory.
const directMax = 64 << 10

// TakeReply answers a whole reply (one TypeHeaders event that ends the
// stream) on the goroutine that read it from the worker, while the
// request's goroutine waits in Next (worker.Stream.SetDirect). The reply
// then reaches the client without a second turn through the Go thread:
// measured with bench/ab, +4% to +13% requests per second for the seed app
// (up to 4.8 µs less Go CPU per request) and +2.5% for Flask
// (docs/performance.md, step 10).
//
// Nothing here may wait: the goroutine serves every request on the
// worker connection. So the client's socket is written without waiting
// (FinishElsewhere), and whatever would need the request's goroutine is
// left to it: an error answer (abortStatus), which may run ErrorDocument
// and so dispatch another request; a body shorter than its
// Content-Length, which cuts the connection with a panic.
func (rs *relay) TakeReply(ev worker.Event) bool {
	if len(ev.Data) > directMax {
		return false
	}
	rs.reply = ev
	if !rs.finisher.FinishElsewhere(rs) {
		rs.reply = worker.Event{} // declined: the event stays the stream's
		return false
	}
	return true
}

// WriteElsewhere writes the reply TakeReply took, under FinishElsewhere;
// true when the response is complete.
func (rs *relay) WriteElsewhere() bool {
	if onDirect != nil {
		onDirect()
	}
	ev := &rs.reply
	rs.deferAbort = true
	done, ok := rs.event(ev)
	rs.deferAbort = false
	ev.Release()
	rs.directOK = ok && done
	if !rs.directOK || (!rs.noBody && rs.declared >= 0 && rs.written < rs.declared) {
		return false
	}
	rs.commit()
	rs.early = true
	return true
}

// onDirect, if set (by tests, before any request), is called for each
// reply TakeReply takes.
var onDirect func()

// directDone finishes, on the request's goroutine, a reply TakeReply took.
func (rs *relay) directDone() {
	switch {
	case rs.early:
	case rs.abortStatus != 0:
		rs.abort(rs.abortStatus)
	case rs.directOK:
		rs.finish()
	}
}

// run relays the stream's events to the client. It returns the failure
// when the process died before any response event and the request is
// replayable; then nothing was written and the caller may replay it.
func (rs *relay) run(ctx context.Context) *worker.Error {
	for {
		ev, err := rs.st.Next(ctx)
		if err != nil {
			var we *worker.Error
			if rs.status == 0 && !rs.committed && ctx.Err() == nil && errors.As(err, &we) &&
				(errors.Is(err, worker.ErrScriptChanged) || rs.replayable && errors.Is(err, worker.ErrWorkerDied)) {
				return we
			}
			rs.workerFailed(ctx, err)
			return nil
		}
		if ev.Direct {
			rs.directDone()
			return nil
		}
		done, ok := rs.event(&ev)
		ev.Release()
		if ev.File != nil {
			ev.File.Close()
		}
		if !ok {
			return nil
		}
		if done {
			rs.finish()
			return nil
		}
	}
}

// event handles one event; done reports the end of the response, ok
// false that the relay must stop (the response was already dealt with).
func (rs *relay) event(ev *worker.Event) (done, ok bool) {
	switch ev.Type {
	case protocol.TypeRead:
		return false, rs.feed(ev.N)
	case protocol.TypeHeaders:
		if rs.status != 0 {
			rs.logf(errorlog.Error, "Daemon process sent response headers twice.")
			return false, rs.abort(http.StatusBadGateway)
		}
		if !rs.headers(ev.Block) {
			return false, false
		}
		if !rs.body(ev) {
			return false, false
		}
		// Headers without body stay uncommitted until the first body
		// bytes or the end, as WSGI sends them with the first non-empty
		// block; a file_wrapper region can then still set the length.
	case protocol.TypeData:
		if rs.status == 0 {
			rs.logf(errorlog.Error, "Daemon process sent response data before headers.")
			return false, rs.abort(http.StatusBadGateway)
		}
		if !rs.body(ev) {
			return false, false
		}
	case protocol.TypeFile:
		if rs.status == 0 {
			rs.logf(errorlog.Error, "Daemon process sent a file before headers.")
			return false, rs.abort(http.StatusBadGateway)
		}
		if !rs.file(ev) {
			return false, false
		}
	case protocol.TypeError:
		if ev.Reason != "" {
			rs.logf(errorlog.Info, "Request failed in daemon process: %s", ev.Reason)
		}
		status := ev.Status
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		return false, rs.abort(status)
	}
	return ev.End, true
}

// headers applies a TypeHeaders block to w.Header without committing it.
func (rs *relay) headers(block []byte) bool {
	h := rs.w.Header()
	statusLine, err := protocol.ParseResponseHeaders(block, func(name, value []byte) {
		if !validHeaderName(name) || !validHeaderValue(value) {
			rs.logf(errorlog.Error, "Invalid response header %q dropped.", name)
			return
		}
		key := canonicalName(name)
		switch key {
		case "Transfer-Encoding", "Connection", "Keep-Alive":
			return // framing is ours (and illegal in HTTP/2)
		case "Content-Length":
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				rs.logf(errorlog.Error, "Invalid Content-Length %q in response dropped.", value)
				return
			}
			rs.declared = n
		}
		if old := h[key]; len(old) > 0 {
			h[key] = append(old, headerValue(value))
		} else if rs.nvals < len(rs.vals) {
			// One backing array per reply instead of a slice per header.
			rs.vals[rs.nvals] = headerValue(value)
			h[key] = rs.vals[rs.nvals : rs.nvals+1 : rs.nvals+1]
			rs.nvals++
		} else {
			h[key] = []string{headerValue(value)}
		}
	})
	if err != nil {
		rs.logf(errorlog.Error, "Malformed response headers from daemon process: %v", err)
		return rs.abort(http.StatusBadGateway)
	}
	code, ok := ParseStatus(statusLine)
	if !ok || code < 200 {
		rs.logf(errorlog.Error, "Invalid status line %q from application.", statusLine)
		return rs.abort(http.StatusInternalServerError)
	}
	rs.status = code
	rs.noBody = rs.r.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if _, ok := h["Content-Type"]; !ok || code == http.StatusNoContent {
		// As Apache: no type unless the app gave one (no sniffing),
		// and none at all on a 204, which has no content to describe.
		h["Content-Type"] = nil
	}
	return true
}

// ParseStatus reads the code of a WSGI status line ("200 OK"): three
// digits, then the end or a space.
func ParseStatus(line []byte) (int, bool) {
	if len(line) < 3 || (len(line) > 3 && line[3] != ' ') {
		return 0, false
	}
	code := 0
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	return code, code >= 100
}

func validHeaderName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == ':' || c == '(' || c == ')' || c == '<' || c == '>' ||
			c == '@' || c == ',' || c == ';' || c == '\\' || c == '"' || c == '/' || c == '[' ||
			c == ']' || c == '?' || c == '=' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

func validHeaderValue(b []byte) bool {
	for _, c := range b {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

func (rs *relay) commit() {
	if rs.committed {
		return
	}
	rs.committed = true
	rs.w.WriteHeader(rs.status)
}

func (rs *relay) flush() {
	if f, ok := rs.w.(http.Flusher); ok {
		f.Flush()
	} else {
		http.NewResponseController(rs.w).Flush()
	}
}

// body writes the event's response bytes, enforcing the declared
// Content-Length, and returns window credit to the worker. The event is
// released as soon as its bytes are written, so that a shared-memory slot
// goes back to the worker with the credit, in one write. At the end of
// the stream neither credit nor a flush is due: net/http flushes when the
// handler returns, together with the chunked terminator, in one write.
func (rs *relay) body(ev *worker.Event) bool {
	p, end := ev.Data, ev.End
	n := len(p)
	if n > 0 && !rs.noBody {
		if rs.declared >= 0 && int64(len(p)) > rs.declared-rs.written {
			if !rs.overrun {
				rs.overrun = true
				rs.logf(errorlog.Error, "Response body longer than its Content-Length of %d; extra bytes dropped.", rs.declared)
			}
			p = p[:rs.declared-rs.written]
		}
		if len(p) > 0 {
			rs.commit()
			m, err := rs.w.Write(p)
			rs.written += int64(m)
			if err != nil {
				rs.clientGone = true
				return false
			}
		}
	}
	ev.Release()
	if end {
		return true
	}
	rs.unacked += n
	pending := rs.st.Pending()
	if rs.unacked > 0 && (rs.unacked >= protocol.DefaultWindow/4 || !pending) && !rs.st.Ended() {
		rs.st.Window(rs.unacked)
		rs.unacked = 0
	}
	if !pending && rs.committed {
		rs.flush()
	}
	return true
}

// file sends a wsgi.file_wrapper region; from an *os.File net/http uses
// sendfile(2) on HTTP/1.1.
func (rs *relay) file(ev *worker.Event) bool {
	f := ev.File
	length := ev.Length
	if length < 0 {
		fi, err := f.Stat()
		if err != nil {
			rs.logf(errorlog.Error, "Unable to stat file from wsgi.file_wrapper: %v", err)
			return rs.abort(http.StatusInternalServerError)
		}
		length = max(fi.Size()-ev.Offset, 0)
	}
	if rs.declared >= 0 && length > rs.declared-rs.written {
		if !rs.overrun {
			rs.overrun = true
			rs.logf(errorlog.Error, "Response body longer than its Content-Length of %d; extra bytes dropped.", rs.declared)
		}
		length = rs.declared - rs.written
	}
	if !rs.committed && ev.End && rs.written == 0 && rs.declared < 0 && !rs.noBody {
		// Lets net/http send it with a length, and so with sendfile.
		rs.w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
		rs.declared = length
	}
	if rs.noBody || length == 0 {
		return true
	}
	if _, err := f.Seek(ev.Offset, io.SeekStart); err != nil {
		rs.logf(errorlog.Error, "Unable to seek file from wsgi.file_wrapper: %v", err)
		return rs.abort(http.StatusInternalServerError)
	}
	rs.commit()
	n, err := io.Copy(rs.w, &io.LimitedReader{R: f, N: length})
	rs.written += n
	if err != nil {
		rs.clientGone = true
		return false
	}
	if n < length {
		rs.logf(errorlog.Error, "File from wsgi.file_wrapper ended after %d of %d bytes.", n, length)
		return rs.abort(http.StatusInternalServerError)
	}
	if !ev.End && !rs.st.Pending() {
		rs.flush()
	}
	return true
}

// feed answers a TypeRead from the client body, in the request's own
// goroutine (a slow client never stalls the connection's reader).
func (rs *relay) feed(n uint32) bool {
	if rs.bodyDone {
		rs.st.SendData(nil, true)
		return true
	}
	// Deliver all n bytes (or up to the end of the body), a DATA frame
	// per read from the client, without waiting for another READ: the
	// worker asks for up to 1 MiB at a time, so an upload costs one
	// round trip per MiB instead of one per read.
	// A large piece is read into one of wsgid's slots of the process's
	// shared region when one is free, so that it crosses without
	// another copy.
	want := max(int(n), 1)
	bp := getBody(min(want, maxRead))
	defer putBody(bp)
	slot, inSlot := uint32(0), false
	defer func() {
		if inSlot {
			// Only a panic in the body's Read leaves a slot taken:
			// give it back, or the region would lose it for good.
			rs.st.ReturnSlot(slot)
		}
	}()
	for want > 0 && !rs.bodyDone {
		buf := (*bp)[:min(want, maxRead)]
		if want >= shmMinBody {
			var slotBuf []byte
			if slot, slotBuf, inSlot = rs.st.BodySlot(); inSlot {
				buf = slotBuf[:min(want, len(slotBuf))]
			}
		}
		var m int
		var err error
		for m == 0 && err == nil {
			rs.armBodyRead()
			m, err = rs.r.Body.Read(buf)
		}
		rs.bodyRead += int64(m)
		want -= m
		status := 0
		if lim := rs.t.LimitRequestBody; lim > 0 && rs.bodyRead > lim {
			rs.logf(errorlog.Error, "Request body larger than the configured limit of %d.", lim)
			status = http.StatusRequestEntityTooLarge
		} else if err != nil && err != io.EOF {
			rs.logf(errorlog.Info, "Request data read error: %v", err)
			status = readErrorStatus(err)
		}
		if status != 0 {
			if inSlot {
				rs.st.ReturnSlot(slot)
				inSlot = false
			}
			return rs.abort(status)
		}
		if err == io.EOF {
			rs.bodyDone = true
			rs.liftBodyRead()
		}
		if inSlot && m == 0 {
			rs.st.ReturnSlot(slot)
			inSlot = false
		}
		if inSlot {
			inSlot = false
			err = rs.st.SendSlot(slot, m, rs.bodyDone)
		} else {
			err = rs.st.SendData(buf[:m], rs.bodyDone)
		}
		if err != nil {
			return true // the worker is gone; its stream reports it
		}
	}
	return true
}

// shmMinBody is the request body still wanted from which a read goes
// into a shared-memory slot (as the worker's SHM_MIN for responses).
const shmMinBody = 64 << 10

// readErrorStatus is the answer to a failed body read: 408 when the
// client stalled past Timeout (as mod_wsgi's daemon mode answers), 413
// past a limit, else 400.
func readErrorStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// armBodyRead bounds the next read of the request body by BodyTimeout.
func (rs *relay) armBodyRead() {
	if d := rs.t.BodyTimeout; d > 0 {
		http.NewResponseController(rs.w).SetReadDeadline(time.Now().Add(d))
		rs.bodyDeadline = true
	}
}

// liftBodyRead lifts the deadline once the body is read: the connection's
// reads after it (the server's check for a client that hangs up, the next
// request) have their own.
func (rs *relay) liftBodyRead() {
	if rs.bodyDeadline {
		http.NewResponseController(rs.w).SetReadDeadline(time.Time{})
		rs.bodyDeadline = false
	}
}

// finish checks the response against its Content-Length at the end.
func (rs *relay) finish() {
	if !rs.noBody && rs.declared >= 0 && rs.written < rs.declared {
		rs.logf(errorlog.Error, "Response body shorter than its Content-Length: %d of %d bytes; aborting the connection.", rs.written, rs.declared)
		rs.commit()
		rs.flush()
		panic(http.ErrAbortHandler)
	}
	rs.commit()
}

// abort ends the response with status if nothing was sent yet, else cuts
// the connection so the client sees a truncated response. It returns
// false so callers can stop with `return rs.abort(...)`.
func (rs *relay) abort(status int) bool {
	if rs.deferAbort {
		rs.abortStatus = status
		return false
	}
	if !rs.committed {
		rs.status = status
		rs.committed = true
		h := rs.w.Header()
		for k := range h {
			delete(h, k)
		}
		rs.g.error(rs.w, rs.r, status)
		return false
	}
	rs.flush()
	panic(http.ErrAbortHandler)
}

// workerFailed handles a Next failure: the client left or the worker died.
func (rs *relay) workerFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		rs.logf(errorlog.Debug, "Client closed connection.")
		return
	}
	var we *worker.Error
	switch {
	case errors.Is(err, worker.ErrRequestTimeout):
		// The group logged it, with the process's stacks.
	case errors.As(err, &we):
		rs.logf(errorlog.Error, "Daemon process '%s' (pid %d) died (%s) while handling %s %s.", we.Group, we.Pid, we.Cause, rs.r.Method, rs.r.RequestURI)
	default:
		rs.logf(errorlog.Error, "Failed reading response from daemon process: %v", err)
	}
	rs.abort(worker.StatusOf(err))
}

func (rs *relay) logf(level errorlog.Level, format string, args ...any) {
	rs.g.log.Log(level, "wsgi", rs.r.RemoteAddr, format, args...)
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func getBody(n int) *[]byte {
	switch {
	case n <= 64<<10:
		return bodyPool.Get().(*[]byte)
	case n <= maxRead:
		// Upload pieces (see feed): pooled too, so a large upload does
		// not allocate and zero a fresh buffer per READ.
		if b, ok := bigBodyPool.Get().(*[]byte); ok {
			return b
		}
		b := make([]byte, maxRead)
		return &b
	}
	b := make([]byte, n)
	return &b
}

var bigBodyPool sync.Pool

func putBody(b *[]byte) {
	switch cap(*b) {
	case 64 << 10:
		*b = (*b)[:cap(*b)]
		bodyPool.Put(b)
	case maxRead:
		*b = (*b)[:cap(*b)]
		bigBodyPool.Put(b)
	}
}
