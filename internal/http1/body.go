package http1

import (
	"bufio"
	"io"
	"net/http"
	"sync"
)

// body is a request body of a known Content-Length, read from the
// connection's buffer. Like net/http's, it returns io.EOF with its last
// bytes, io.ErrUnexpectedEOF if the client stops short, and
// http.ErrBodyReadAfterClose after Close.
type body struct {
	mu         sync.Mutex
	r          *bufio.Reader
	remaining  int64
	sawEOF     bool
	closed     bool
	earlyClose bool // closed with more than maxPostHandlerRead unread
	// continue100, for a request with Expect: 100-continue, sends the
	// interim response before the first read (unless the response has
	// begun); nil once done.
	continue100 func()
	// readEOF: a Read returned io.EOF (not a short body's error, not
	// Close's discard), which is when net/http counts an Expect body as
	// read.
	readEOF bool
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.sawEOF {
		b.readEOF = true
		return 0, io.EOF
	}
	if b.continue100 != nil {
		b.continue100()
		b.continue100 = nil
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.r.Read(p)
	b.remaining -= int64(n)
	if b.remaining == 0 {
		b.sawEOF = true
		b.readEOF = true
		err = io.EOF
	} else if err == io.EOF {
		// As net/http: the body is over, short; later reads say EOF.
		b.sawEOF = true
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Close drops what is left of the body, up to maxPostHandlerRead; a
// longer rest marks the connection as not reusable.
func (b *body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	var err error
	switch {
	case b.sawEOF:
	case b.remaining > maxPostHandlerRead:
		b.earlyClose = true
	default:
		n, derr := b.r.Discard(int(b.remaining))
		b.remaining -= int64(n)
		switch {
		case b.remaining == 0:
			b.sawEOF = true
		case derr == io.EOF:
			// As net/http: the body is over, short.
			b.sawEOF = true
			err = io.ErrUnexpectedEOF
		default:
			err = derr
		}
		if n == maxPostHandlerRead {
			b.earlyClose = true // net/http's rule, to the byte
		}
	}
	b.closed = true
	return err
}
