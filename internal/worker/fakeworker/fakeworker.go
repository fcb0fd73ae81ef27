// Package fakeworker is a stand-in for wsgid_worker.py written in Go, for
// tests only: it speaks the worker protocol so that dispatch, flow
// control, descriptor passing and crash handling can be tested without
// Python. A test binary re-executes itself as the worker: its TestMain
// calls Main, which takes over when WSGID_FAKE_WORKER=1 is set.
//
// The behaviour is chosen by PATH_INFO: /hello, /pid, /sleep?MS, /crash
// (SIGKILL itself), /garbage (breaks the protocol), /error (TypeError 500
// with a secret reason), /log, /echo (reads the body through TypeRead),
// /big?N (N bytes honouring the window, with Content-Length), /file?PATH
// (passes the file from offset 2 by SCM_RIGHTS), /short (declares more
// than it sends), /crash-after?MS, /hang (never answers, ignores
// cancellation), /grow?MB (allocates and keeps MB MiB), /deaf (stops answering
// TypePing), anything else
// 404.
package fakeworker

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wsgid/internal/protocol"
)

// hoard keeps what /grow allocated.
var hoard [][]byte

// deaf is set by /deaf.
var deaf atomic.Bool

type fakeWorker struct {
	c   *net.UnixConn
	wmu sync.Mutex

	// The shared region (WSGID_SHM), and its free slots' offsets, which
	// TypeShmFree frames refill.
	shm       []byte
	shmSlot   int
	shmFree   chan uint32
	shmTheirs int // wsgid's slots start here

	mu      sync.Mutex
	streams map[uint32]*fakeStream
	wg      sync.WaitGroup
}

type fakeData struct {
	b   []byte
	end bool
	shm bool // it came in a shared-memory slot
}

type fakeStream struct {
	window chan int
	data   chan fakeData // request body frames
	cancel chan struct{}
	once   sync.Once
}

// EnvVar, set to "1" in a worker's environment, makes Main run the fake.
const EnvVar = "WSGID_FAKE_WORKER"

// Main runs the fake worker and exits if EnvVar is set; otherwise it
// returns at once.
func Main() {
	if os.Getenv(EnvVar) != "1" {
		return
	}
	run()
	os.Exit(0)
}

func run() {
	f := os.NewFile(3, "sock")
	fc, err := net.FileConn(f)
	if err != nil {
		os.Exit(90)
	}
	w := &fakeWorker{c: fc.(*net.UnixConn), streams: map[uint32]*fakeStream{}}
	if spec := strings.Split(os.Getenv("WSGID_SHM"), ","); len(spec) == 4 {
		fd, _ := strconv.Atoi(spec[0])
		size, _ := strconv.Atoi(spec[1])
		w.shmSlot, _ = strconv.Atoi(spec[2])
		ours, _ := strconv.Atoi(spec[3])
		b, err := syscall.Mmap(fd, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		if err != nil {
			os.Exit(91)
		}
		w.shm, w.shmTheirs = b, ours*w.shmSlot
		w.shmFree = make(chan uint32, ours)
		for off := 0; off < w.shmTheirs; off += w.shmSlot {
			w.shmFree <- uint32(off)
		}
	}
	var ready []byte
	ready = protocol.AppendPair(ready, "pid", strconv.Itoa(os.Getpid()))
	ready = protocol.AppendPair(ready, "python", "0.0.0-fake")
	w.send(protocol.AppendFrame(nil, protocol.TypeReady, 0, 0, ready), nil)
	r := protocol.NewReader(w.c, 0)
	templates := map[uint32][]byte{}
	for {
		fr, err := r.Next()
		fromSlot := false // a TypeData made from a TypeShmData
		if err != nil {
			os.Exit(0)
		}
		switch fr.Type {
		case protocol.TypeShutdown:
			go func() { w.wg.Wait(); os.Exit(0) }()
		case protocol.TypePing:
			if !deaf.Load() {
				w.send(protocol.AppendFrame(nil, protocol.TypePong, 0, 0, nil), nil)
			}
		case protocol.TypeDump:
			w.send(protocol.AppendFrame(nil, protocol.TypeLog, protocol.LevelInfo, 0, []byte("dump requested")), nil)
		case protocol.TypeShmFree:
			off, _ := protocol.Uint32(fr.Payload)
			select {
			case w.shmFree <- off:
			default:
				os.Exit(92) // freed a slot it was never given
			}
		case protocol.TypeTemplate:
			templates[fr.Stream] = append([]byte(nil), fr.Payload...)
		case protocol.TypeRequest:
			tmpl, block, body, _ := protocol.SplitRequest(fr.Payload)
			env := map[string]string{}
			if tmpl != 0 {
				fixed, ok := templates[tmpl]
				if !ok {
					os.Exit(3) // wsgid named a template it never sent
				}
				protocol.ParsePairs(fixed, func(k, v []byte) { env[string(k)] = string(v) })
			}
			protocol.ParsePairs(block, func(k, v []byte) { env[string(k)] = string(v) })
			st := &fakeStream{window: make(chan int, 1024), data: make(chan fakeData, 1024), cancel: make(chan struct{})}
			w.mu.Lock()
			w.streams[fr.Stream] = st
			w.mu.Unlock()
			w.wg.Add(1)
			go w.serve(fr.Stream, st, env, append([]byte(nil), body...), fr.Flags&protocol.FlagEnd != 0)
		case protocol.TypeShmData:
			// Request body in one of wsgid's slots: copied out, the
			// slot given back, then handled as DATA (marked as a slot's).
			off, n, err := protocol.ParseShmData(fr.Payload)
			if err != nil || int(off) < w.shmTheirs || int(off)+int(n) > len(w.shm) {
				os.Exit(94) // wsgid named a slot that is not its own
			}
			fr.Payload = append([]byte(nil), w.shm[off:off+n]...)
			fr.Type = protocol.TypeData
			fromSlot = true
			w.send(protocol.AppendUint32Frame(nil, protocol.TypeShmFree, 0, off), nil)
			fallthrough
		case protocol.TypeData, protocol.TypeWindow, protocol.TypeCancel:
			w.mu.Lock()
			st := w.streams[fr.Stream]
			w.mu.Unlock()
			if st == nil {
				continue
			}
			switch fr.Type {
			case protocol.TypeData:
				st.data <- fakeData{append([]byte{}, fr.Payload...), fr.Flags&protocol.FlagEnd != 0, fromSlot}
			case protocol.TypeWindow:
				n, _ := protocol.Uint32(fr.Payload)
				st.window <- int(n)
			case protocol.TypeCancel:
				st.once.Do(func() { close(st.cancel) })
			}
		}
	}
}

// nextData returns the next piece of request body; false means the
// stream was cancelled (and has been ended).
func (w *fakeWorker) nextData(id uint32, st *fakeStream) (fakeData, bool) {
	select {
	case d := <-st.data:
		return d, true
	case <-st.cancel:
		w.send(protocol.AppendFrame(nil, protocol.TypeData, protocol.FlagEnd, id, nil), nil)
		return fakeData{}, false
	}
}

// awaitCredit returns the stream's credit, waiting for a window while it
// is 0; 0 means the stream was cancelled (and has been ended).
func (w *fakeWorker) awaitCredit(id uint32, st *fakeStream, credit int) int {
	for credit == 0 {
		select {
		case c := <-st.window:
			credit += c
		case <-st.cancel:
			w.send(protocol.AppendFrame(nil, protocol.TypeData, protocol.FlagEnd, id, nil), nil)
			return 0
		}
	}
	return credit
}

// ShmPattern is byte i of stream id's /shm body: a wrong offset, a slot
// reused too early or another stream's bytes all show.
func ShmPattern(id uint32, i int) byte { return byte(i*7 + i>>8 + int(id)*13) }

func (w *fakeWorker) send(b []byte, oob []byte) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if oob != nil {
		w.c.WriteMsgUnix(b, oob, nil)
		return
	}
	w.c.Write(b)
}

func (w *fakeWorker) serve(id uint32, st *fakeStream, env map[string]string, body []byte, end bool) {
	defer w.wg.Done()
	defer func() {
		w.mu.Lock()
		delete(w.streams, id)
		w.mu.Unlock()
	}()
	q := env["QUERY_STRING"]
	reply := func(body string) {
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, protocol.FlagEnd, id,
			[]byte("200 OK\x00Content-Type\x00text/plain\x00"), []byte(body)), nil)
	}
	switch env["PATH_INFO"] {
	case "/hello":
		reply("hello")
	case "/pid":
		reply(strconv.Itoa(os.Getpid()))
	case "/env":
		reply(env["X_FIXED"] + "|" + q)
	case "/sleep":
		ms, _ := strconv.Atoi(q)
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			reply(strconv.Itoa(os.Getpid()))
		case <-st.cancel:
			w.send(protocol.AppendFrame(nil, protocol.TypeData, protocol.FlagEnd, id, nil), nil)
		}
	case "/deaf":
		deaf.Store(true) // stop answering pings, as a deadlocked process would
		reply("deaf")
	case "/crash":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "/crash-after":
		ms, _ := strconv.Atoi(q)
		time.Sleep(time.Duration(ms) * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "/hang":
		select {} // a stuck application thread: ignores cancellation
	case "/grow":
		mb, _ := strconv.Atoi(q)
		b := make([]byte, mb<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hoard = append(hoard, b)
		reply(strconv.Itoa(os.Getpid()))
	case "/garbage":
		w.send([]byte("this is not a frame header at all"), nil)
	case "/error":
		p := binary.LittleEndian.AppendUint16(nil, 500)
		w.send(protocol.AppendFrame(nil, protocol.TypeError, 0, id, append(p, "secret reason"...)), nil)
	case "/log":
		w.send(protocol.AppendFrame(nil, protocol.TypeLog, protocol.LevelError, id, []byte("app says hi")), nil)
		reply("logged")
	case "/echo":
		if !end {
			for {
				w.send(protocol.AppendUint32Frame(nil, protocol.TypeRead, id, 65536), nil)
				d, ok := w.nextData(id, st)
				if !ok {
					return
				}
				body = append(body, d.b...)
				if d.end {
					break
				}
			}
		}
		reply(strconv.Itoa(len(body)) + ":" + strings.ToUpper(string(body[:min(len(body), 16)])))
	case "/big":
		n, _ := strconv.Atoi(q)
		credit := protocol.DefaultWindow
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, 0, id, []byte("200 OK\x00Content-Length\x00"+q+"\x00"), nil), nil)
		chunk := make([]byte, 32<<10)
		for i := range chunk {
			chunk[i] = 'x'
		}
		for n > 0 {
			if credit = w.awaitCredit(id, st, credit); credit == 0 {
				return
			}
			m := min(n, len(chunk), credit)
			n -= m
			credit -= m
			var fl protocol.Flags
			if n == 0 {
				fl = protocol.FlagEnd
			}
			w.send(protocol.AppendFrame(nil, protocol.TypeData, fl, id, chunk[:m]), nil)
		}
	case "/shm":
		// ?N: N bytes of a pattern that differs per byte and per
		// stream, sent through the region one slot at a time (waiting
		// up to 100 ms for a slot to come back), in answer to the
		// window as /big.
		n, _ := strconv.Atoi(q)
		if w.shm == nil {
			reply("no region")
			return
		}
		credit := protocol.DefaultWindow
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, 0, id,
			[]byte("200 OK\x00Content-Length\x00"+q+"\x00X-Stream\x00"+strconv.Itoa(int(id))+"\x00"), nil), nil)
		sent := 0
		for sent < n {
			if credit = w.awaitCredit(id, st, credit); credit == 0 {
				return
			}
			m := min(n-sent, w.shmSlot, credit)
			var off uint32
			select {
			case off = <-w.shmFree:
			case <-time.After(100 * time.Millisecond):
				// No slot came back in time: over the socket, as the
				// Python worker does at once (it never waits).
				p := make([]byte, m)
				for i := range p {
					p[i] = ShmPattern(id, sent+i)
				}
				sent += m
				credit -= m
				var fl protocol.Flags
				if sent == n {
					fl = protocol.FlagEnd
				}
				w.send(protocol.AppendFrame(nil, protocol.TypeData, fl, id, p), nil)
				continue
			}
			for i := range m {
				w.shm[int(off)+i] = ShmPattern(id, sent+i)
			}
			sent += m
			credit -= m
			var fl protocol.Flags
			if sent == n {
				fl = protocol.FlagEnd
			}
			w.send(protocol.AppendShmData(nil, fl, id, off, uint32(m)), nil)
		}
	case "/sum":
		// The length and SHA-256 of the request body, read as /echo;
		// with ?pieces, also how many of its pieces came in slots.
		pieces := 0
		for !end {
			w.send(protocol.AppendUint32Frame(nil, protocol.TypeRead, id, 1<<20), nil)
			for got := 0; got < 1<<20 && !end; {
				d, ok := w.nextData(id, st)
				if !ok {
					return
				}
				body = append(body, d.b...)
				got += len(d.b)
				end = d.end
				if d.shm {
					pieces++
				}
			}
		}
		sum := sha256.Sum256(body)
		if q == "pieces" {
			reply(strconv.Itoa(len(body)) + ":" + hex.EncodeToString(sum[:]) + ":" + strconv.Itoa(pieces))
			return
		}
		reply(strconv.Itoa(len(body)) + ":" + hex.EncodeToString(sum[:]))
	case "/shm-free":
		// How many of its slots the worker has: all of them once wsgid
		// has given back every slot it was sent.
		reply(strconv.Itoa(len(w.shmFree)))
	case "/shm-free-bad":
		// Gives back a slot of wsgid's (?offset) it was never lent.
		off, _ := strconv.ParseUint(q, 10, 32)
		w.send(protocol.AppendUint32Frame(nil, protocol.TypeShmFree, 0, uint32(off)), nil)
		reply("freed")
	case "/shm-bad":
		// A frame naming bytes outside the region's slots (?offset,length).
		off, n, _ := strings.Cut(q, ",")
		o, _ := strconv.ParseUint(off, 10, 32)
		l, _ := strconv.ParseUint(n, 10, 32)
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, 0, id, []byte("200 OK\x00"), nil), nil)
		w.send(protocol.AppendShmData(nil, protocol.FlagEnd, id, uint32(o), uint32(l)), nil)
	case "/file":
		f, err := os.Open(q)
		if err != nil {
			reply("no file")
			return
		}
		defer f.Close()
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, 0, id, []byte("200 OK\x00"), nil), nil)
		p := binary.LittleEndian.AppendUint64(nil, 2)
		p = binary.LittleEndian.AppendUint64(p, ^uint64(0)) // -1: to the end
		w.send(protocol.AppendFrame(nil, protocol.TypeFile, protocol.FlagEnd, id, p), syscall.UnixRights(int(f.Fd())))
	case "/gen":
		// A generator's reply: headers with the first block, then an
		// empty end, in one write.
		w.send(append(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, 0, id, []byte("200 OK\x00Content-Type\x00text/plain\x00"), []byte("hello")),
			protocol.AppendFrame(nil, protocol.TypeData, protocol.FlagEnd, id, nil)...), nil)
	case "/badstatus":
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, protocol.FlagEnd, id, []byte("2x0 Bad\x00"), []byte("x")), nil)
	case "/short":
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, protocol.FlagEnd, id, []byte("200 OK\x00Content-Length\x0010\x00"), []byte("abc")), nil)
	case "/headers":
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, protocol.FlagEnd, id,
			[]byte("201 Created\x00Set-Cookie\x00a=1\x00Set-Cookie\x00b=2\x00X-Bad Name\x00v\x00X-Env\x00"+env["REQUEST_METHOD"]+"\x00"), []byte("body")), nil)
	default:
		w.send(protocol.AppendBlockFrame(nil, protocol.TypeHeaders, protocol.FlagEnd, id, []byte("404 Not Found\x00"), nil), nil)
	}
}
