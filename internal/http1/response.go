package http1

import (
	"bufio"
	"errors"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bufferBeforeChunking is how much of a reply is held back before its
// header goes out, as in net/http: a reply that ends within it gets a
// Content-Length (and a sniffed Content-Type) instead of chunking.
const bufferBeforeChunking = 2048

// maxPostHandlerRead is how much of an unread request body is read and
// dropped after the handler to keep the connection (net/http's rule).
const maxPostHandlerRead = 256 << 10

// sniffLen is how much of a body http.DetectContentType looks at.
const sniffLen = 512

// response is the http.ResponseWriter of one request. Its observable
// behaviour is net/http's for HTTP/1.x, down to the order of header lines
// and the size of chunks (the differential tests hold it to that): the
// handler's header is cloned at WriteHeader, the body is held back
// bufferBeforeChunking bytes, and the header is finished when the first
// bytes go out.
type response struct {
	c    *conn
	req  *http.Request
	body *body // nil when the request has none

	handlerHeader http.Header
	sentHeader    http.Header // the clone, when Header was called before WriteHeader
	calledHeader  bool
	wroteHeader   bool // logically: a non-1xx WriteHeader happened
	headerOut     bool // the header is in the connection's buffer
	chunking      bool
	handlerDone   bool
	status        int
	contentLength int64 // declared by the handler, or -1
	written       int64
	trailers      []string // declared with "Trailer"

	expect           bool // the request has Expect: 100-continue
	continueOff      bool // the response began: no 100 Continue any more
	wants10KeepAlive bool
	wantsClose       bool
	closeAfterReply  bool
	bodyLimitHit     bool // closing with unread request body: close gently
	elsewhere        bool // ended by FinishElsewhere

	w *bufio.Writer // the bufferBeforeChunking buffer, over cw
}

// chunkWriter is what response.w flushes into: it finishes the header
// on the first write and frames chunks.
type chunkWriter struct{ res *response }

func (rs *response) Header() http.Header {
	if rs.sentHeader == nil && rs.wroteHeader && !rs.headerOut {
		rs.sentHeader = rs.snapshot()
	}
	rs.calledHeader = true
	return rs.handlerHeader
}

// snapshot is http.Header.Clone of the handler's header into the
// connection's reused map and value array: the copy lives only until the
// header goes out, within this request.
func (rs *response) snapshot() http.Header {
	c := rs.c
	if c.snap == nil {
		c.snap = make(http.Header, len(rs.handlerHeader))
	} else {
		clear(c.snap)
	}
	n := 0
	for _, vv := range rs.handlerHeader {
		n += len(vv)
	}
	if cap(c.snapVals) < n {
		c.snapVals = make([]string, n)
	}
	vals := c.snapVals[:n]
	for k, vv := range rs.handlerHeader {
		if vv == nil {
			c.snap[k] = nil
			continue
		}
		m := copy(vals, vv)
		c.snap[k] = vals[:m:m]
		vals = vals[m:]
	}
	return c.snap
}

func (rs *response) WriteHeader(code int) {
	if rs.wroteHeader {
		log.Printf("http: superfluous response.WriteHeader call")
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 101 || code > 199 {
		rs.continueOff = true
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		bw := rs.c.bw
		writeStatusLine(bw, rs.req.ProtoMinor == 1, code)
		rs.handlerHeader.WriteSubset(bw, excludedNoBody)
		bw.Write(crlf)
		bw.Flush()
		return
	}
	rs.wroteHeader = true
	rs.status = code
	if rs.calledHeader && rs.sentHeader == nil {
		rs.sentHeader = rs.snapshot()
	}
	if cl := rs.handlerHeader.Get("Content-Length"); cl != "" {
		v, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && v >= 0 {
			rs.contentLength = v
		} else {
			log.Printf("http: invalid Content-Length of %q", cl)
			rs.handlerHeader.Del("Content-Length")
		}
	}
}

func (rs *response) Write(p []byte) (int, error) {
	if err := rs.admit(len(p)); err != nil || len(p) == 0 {
		return 0, err
	}
	return rs.w.Write(p)
}

// WriteString is Write for a string; it goes through bufio's WriteString,
// whose pieces (and so chunks) differ from Write's, as net/http's do.
func (rs *response) WriteString(s string) (int, error) {
	if err := rs.admit(len(s)); err != nil || len(s) == 0 {
		return 0, err
	}
	return rs.w.WriteString(s)
}

// errAfterHandler answers a write made after the handler returned (a
// handler's stray goroutine): the response is over.
var errAfterHandler = errors.New("http1: write after the handler returned")

// admit checks a write of n bytes against the status and the declared
// length, and counts it.
func (rs *response) admit(n int) error {
	if rs.handlerDone {
		return errAfterHandler
	}
	rs.continueOff = true
	if !rs.wroteHeader {
		rs.WriteHeader(http.StatusOK)
	}
	if n == 0 {
		return nil
	}
	if !bodyAllowedForStatus(rs.status) {
		return http.ErrBodyNotAllowed
	}
	rs.written += int64(n)
	if rs.contentLength != -1 && rs.written > rs.contentLength {
		return http.ErrContentLength
	}
	return nil
}

// ReadFrom sends src with the connection's ReadFrom (sendfile for a
// file) once the header is out, as net/http does.
func (rs *response) ReadFrom(src io.Reader) (int64, error) {
	if rs.handlerDone {
		return 0, errAfterHandler
	}
	rf, ok := rs.c.rwc.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{rs}, src)
	}
	var n int64
	if !rs.headerOut {
		n0, err := io.Copy(writerOnly{rs}, io.LimitReader(src, sniffLen))
		n += n0
		if err != nil || n0 < sniffLen {
			return n, err
		}
	}
	rs.w.Flush()
	rs.flushHeader()
	// (Under FinishElsewhere the bytes must not wait for the client:
	// they are copied, and kept if the socket is full.)
	if !rs.chunking && bodyAllowedForStatus(rs.status) && rs.req.Method != http.MethodHead && !rs.c.noWait {
		if err := rs.c.writeUnsent(); err != nil {
			return n, err
		}
		rs.c.wd.lift(rs.c.rwc)
		n0, err := rf.ReadFrom(src)
		n += n0
		rs.written += n0
		return n, err
	}
	n0, err := io.Copy(writerOnly{rs}, src)
	return n + n0, err
}

// writerOnly hides ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

func (rs *response) Flush() { rs.FlushError() }

func (rs *response) FlushError() error {
	if rs.handlerDone {
		return errAfterHandler
	}
	if !rs.wroteHeader {
		rs.WriteHeader(http.StatusOK)
	}
	err := rs.w.Flush()
	if e2 := rs.flushHeader(); err == nil {
		err = e2
	}
	return err
}

// SetReadDeadline and SetWriteDeadline serve http.ResponseController.
func (rs *response) SetReadDeadline(t time.Time) error  { return rs.c.rwc.SetReadDeadline(t) }
func (rs *response) SetWriteDeadline(t time.Time) error { return rs.c.rwc.SetWriteDeadline(t) }

func (rs *response) flushHeader() error {
	if !rs.headerOut {
		rs.writeHeader(nil)
	}
	return rs.c.bw.Flush()
}

// tryWriter is a connection that can write without waiting
// (listener.Conn).
type tryWriter interface {
	TryWrite(p []byte) (int, error)
}

// FinishElsewhere lets a goroutine other than the handler's write the
// whole response and end it, while the handler's goroutine waits for that
// goroutine's word (through a channel or lock, which orders the two). The
// WSGI gateway uses it to answer from the goroutine that reads a worker's
// replies: the reply goes out at once instead of after the handler's
// goroutine has had its turn on the Go thread.
//
// w.WriteElsewhere writes the response; when it returns true the
// response is ended here, as it would be when the handler returns, and
// it must not be used again; when it returns false it is left as it is,
// for the handler to go on with. (An interface, not a func: the caller's
// value, a pointer, then costs no allocation per response.)
//
// Nothing done under FinishElsewhere waits for the client: what the
// socket does not take at once is kept and written by the handler's
// goroutine after the handler returns, before anything else. ran is
// false, and WriteElsewhere not called, when the response cannot be ended
// this way (the request has a body, which belongs to the handler's
// goroutine; the connection cannot write without waiting; the response is
// over).
func (rs *response) FinishElsewhere(w interface{ WriteElsewhere() bool }) (ran bool) {
	c := rs.c
	if rs.body != nil || rs.handlerDone || c.werr != nil {
		return false
	}
	if _, ok := c.rwc.(tryWriter); !ok {
		return false
	}
	c.noWait = true
	defer func() { c.noWait = false }()
	if w.WriteElsewhere() {
		rs.finish()
		rs.elsewhere = true
	}
	return true
}

// finish ends the response after the handler returned.
func (rs *response) finish() {
	rs.handlerDone = true
	if !rs.wroteHeader {
		rs.WriteHeader(http.StatusOK)
	}
	rs.w.Flush()
	rs.w.Reset(nil)
	holdBuffers.Put(rs.w)
	rs.w = nil
	if !rs.headerOut {
		rs.writeHeader(nil)
	}
	if rs.chunking {
		rs.c.bw.WriteString("0\r\n")
		if t := rs.finalTrailers(); t != nil {
			t.Write(rs.c.bw)
		}
		rs.c.bw.WriteString("\r\n")
	}
	rs.c.bw.Flush()
	if rs.body != nil {
		rs.body.Close()
	}
}

// writeContinue sends "100 Continue" before the first read of a body the
// client is waiting to send, unless the response has begun (net/http's
// rule: the answer then makes the body moot).
func (rs *response) writeContinue() {
	if rs.continueOff {
		return
	}
	rs.continueOff = true
	rs.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	rs.c.bw.Flush()
}

// finalTrailers collects the trailers' values at the end of the body,
// as net/http does: TrailerPrefix keys, then the declared names.
func (rs *response) finalTrailers() http.Header {
	var t http.Header
	for k, vv := range rs.handlerHeader {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if t == nil {
				t = make(http.Header)
			}
			t[kk] = vv
		}
	}
	for _, k := range rs.trailers {
		if t == nil {
			t = make(http.Header)
		}
		for _, v := range rs.handlerHeader[k] {
			t.Add(k, v)
		}
	}
	return t
}

// badTrailer are the fields that may not be sent as trailers.
var badTrailer = map[string]bool{
	"Authorization": true, "Cache-Control": true, "Connection": true, "Content-Encoding": true,
	"Content-Length": true, "Content-Range": true, "Content-Type": true, "Expect": true,
	"Host": true, "Keep-Alive": true, "Max-Forwards": true, "Pragma": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Proxy-Connection": true,
	"Range": true, "Realm": true, "Te": true, "Trailer": true, "Transfer-Encoding": true,
	"Www-Authenticate": true,
}

// reusable reports whether the connection can take another request
// after this response (net/http's shouldReuseConnection).
func (rs *response) reusable() bool {
	if rs.closeAfterReply || rs.c.werr != nil {
		return false
	}
	if rs.req.Method != http.MethodHead && rs.contentLength != -1 && bodyAllowedForStatus(rs.status) && rs.contentLength != rs.written {
		return false // did not write what it declared: the stream is out of step
	}
	return rs.body == nil || !rs.body.earlyClose
}

func (cw chunkWriter) Write(p []byte) (int, error) {
	rs := cw.res
	if !rs.headerOut {
		rs.writeHeader(p)
	}
	if rs.req.Method == http.MethodHead {
		return len(p), nil
	}
	bw := rs.c.bw
	if rs.chunking {
		var hex [16]byte
		bw.Write(strconv.AppendInt(hex[:0], int64(len(p)), 16))
		bw.Write(crlf)
	}
	n, err := bw.Write(p)
	if rs.chunking && err == nil {
		_, err = bw.Write(crlf)
	}
	if err != nil {
		rs.c.rwc.Close()
	}
	return n, err
}

// extra is the header lines writeHeader adds after the handler's.
type extra struct {
	contentType, connection, transferEncoding string
	date, contentLength                       []byte
}

// writeHeader finishes the header and puts it in the connection's
// buffer; p is the first of the body (or nil), for the Content-Length of
// a reply that ended within the buffer and for sniffing its type. Each
// rule and its order are net/http's (chunkWriter.writeHeader).
func (rs *response) writeHeader(p []byte) {
	rs.headerOut = true
	keepAlives := rs.c.srv.keepAlives()
	isHEAD := rs.req.Method == http.MethodHead

	header := rs.sentHeader
	owned := header != nil
	if !owned {
		header = rs.handlerHeader
	}
	var exclude map[string]bool
	del := func(key string) {
		if owned {
			header.Del(key)
			return
		}
		if _, ok := header[key]; !ok {
			return
		}
		if exclude == nil {
			exclude = make(map[string]bool)
		}
		exclude[key] = true
	}
	var set extra

	// Trailers: "Trailer"-declared names and TrailerPrefix keys; the
	// latter are not header lines.
	hasTrailers := false
	for k := range rs.sentHeader {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if exclude == nil {
				exclude = make(map[string]bool)
			}
			exclude[k] = true
			hasTrailers = true
		}
	}
	for _, v := range rs.sentHeader["Trailer"] {
		hasTrailers = true
		for _, k := range strings.Split(v, ",") {
			if k = http.CanonicalHeaderKey(strings.TrimSpace(k)); k != "" && !badTrailer[k] {
				rs.trailers = append(rs.trailers, k)
			}
		}
	}

	te := header.Get("Transfer-Encoding")
	hasTE := te != ""

	if rs.handlerDone && !hasTrailers && !hasTE && bodyAllowedForStatus(rs.status) && header.Get("Content-Length") == "" && (!isHEAD || len(p) > 0) {
		rs.contentLength = int64(len(p))
		set.contentLength = strconv.AppendInt(rs.c.clen[:0], int64(len(p)), 10)
	}
	if rs.wants10KeepAlive && keepAlives {
		if header.Get("Content-Length") != "" && header.Get("Connection") == "keep-alive" {
			rs.closeAfterReply = false
		}
	}
	hasCL := rs.contentLength != -1
	if rs.wants10KeepAlive && (isHEAD || hasCL || !bodyAllowedForStatus(rs.status)) {
		if _, ok := header["Connection"]; !ok {
			set.connection = "keep-alive"
		}
	} else if rs.req.ProtoMinor == 0 || rs.wantsClose {
		rs.closeAfterReply = true
	}
	if header.Get("Connection") == "close" || !keepAlives {
		rs.closeAfterReply = true
	}

	if rs.expect && !rs.body.readEOF {
		// The client may not have sent the body it was waiting to
		// send: what follows on the connection is unknown.
		rs.closeAfterReply = true
	}
	if rs.req.ContentLength != 0 && !rs.closeAfterReply && rs.body != nil && !rs.expect {
		tooBig, discard := false, false
		switch {
		case rs.body.closed:
			if !rs.body.sawEOF {
				rs.closeAfterReply = true
			}
		case rs.body.remaining >= maxPostHandlerRead:
			tooBig = true
		default:
			discard = true
		}
		if discard {
			_, err := io.CopyN(io.Discard, rs.body, maxPostHandlerRead+1)
			switch err {
			case nil:
				tooBig = true
			case http.ErrBodyReadAfterClose:
			case io.EOF:
				rs.body.Close()
			default:
				rs.closeAfterReply = true
			}
		}
		if tooBig {
			rs.closeAfterReply = true
			rs.bodyLimitHit = true
			del("Connection")
			set.connection = "close"
		}
	}

	code := rs.status
	if bodyAllowedForStatus(code) {
		_, haveType := header["Content-Type"]
		if header.Get("Content-Encoding") == "" && !haveType && !hasTE && len(p) > 0 {
			set.contentType = http.DetectContentType(p)
		}
	} else {
		for _, k := range suppressedHeaders(code) {
			del(k)
		}
	}
	if _, ok := header["Date"]; !ok {
		set.date = rs.c.date()
	}
	if hasCL && hasTE && te != "identity" {
		log.Printf("http: WriteHeader called with both Transfer-Encoding of %q and a Content-Length of %d", te, rs.contentLength)
		del("Content-Length")
		hasCL = false
	}
	switch {
	case isHEAD || !bodyAllowedForStatus(code) || code == http.StatusNoContent:
		del("Transfer-Encoding")
	case hasCL:
		del("Transfer-Encoding")
	case rs.req.ProtoMinor == 1:
		if hasTE && te == "identity" {
			rs.chunking = false
			rs.closeAfterReply = true
			del("Transfer-Encoding")
		} else {
			rs.chunking = true
			set.transferEncoding = "chunked"
			if hasTE && te == "chunked" {
				del("Transfer-Encoding")
			}
		}
	default:
		rs.closeAfterReply = true
		del("Transfer-Encoding")
	}
	if rs.chunking {
		del("Content-Length")
	}
	if rs.closeAfterReply && (!keepAlives || !hasToken(rs.sentHeader.Get("Connection"), "close")) &&
		!(code == http.StatusSwitchingProtocols && header.Get("Upgrade") != "") {
		del("Connection")
		if rs.req.ProtoMinor == 1 {
			set.connection = "close"
		}
	}

	bw := rs.c.bw
	writeStatusLine(bw, rs.req.ProtoMinor == 1, code)
	rs.sentHeader.WriteSubset(bw, exclude)
	if set.date != nil {
		bw.WriteString("Date: ")
		bw.Write(set.date)
		bw.Write(crlf)
	}
	if set.contentLength != nil {
		bw.WriteString("Content-Length: ")
		bw.Write(set.contentLength)
		bw.Write(crlf)
	}
	for i, v := range [3]string{set.contentType, set.connection, set.transferEncoding} {
		if v != "" {
			bw.WriteString(extraKeys[i])
			bw.WriteString(v)
			bw.Write(crlf)
		}
	}
	bw.Write(crlf)
}

var extraKeys = [3]string{"Content-Type: ", "Connection: ", "Transfer-Encoding: "}

var excludedNoBody = map[string]bool{"Content-Length": true, "Transfer-Encoding": true}

func suppressedHeaders(status int) []string {
	switch {
	case status == http.StatusNotModified:
		return []string{"Content-Type", "Content-Length", "Transfer-Encoding"}
	case !bodyAllowedForStatus(status):
		return []string{"Content-Length", "Transfer-Encoding"}
	}
	return nil
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

func writeStatusLine(bw *bufio.Writer, is11 bool, code int) {
	if is11 {
		bw.WriteString("HTTP/1.1 ")
	} else {
		bw.WriteString("HTTP/1.0 ")
	}
	if code >= 100 && code < 600 && statusLines[code] != "" {
		bw.WriteString(statusLines[code])
		return
	}
	// As net/http: three digits at least, and its words for a code it
	// has no text for.
	c := strconv.Itoa(code)
	for len(c) < 3 {
		c = "0" + c
	}
	bw.WriteString(c + " status code " + strconv.Itoa(code) + "\r\n")
}

// statusLines are "200 OK\r\n" and the like, for the codes net/http
// has a text for.
var statusLines = func() (t [600]string) {
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			t[code] = strconv.Itoa(code) + " " + text + "\r\n"
		}
	}
	return t
}()

// hasToken reports whether v, a comma-separated list, holds token
// (ASCII case-insensitively).
func hasToken(v, token string) bool {
	for part := range strings.SplitSeq(v, ",") {
		if asciiEqualFold(strings.TrimSpace(part), token) {
			return true
		}
	}
	return false
}
