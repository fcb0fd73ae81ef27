"""wsgid worker: runs WSGI applications for wsgid (standard library only).

wsgid starts this file with a connected AF_UNIX stream socket as fd 3 and
its settings as JSON in WSGID_WORKER_CONFIG. Requests and responses travel
as frames (docs/protocol.md): a 12-byte header '<IBBxxI' (payload length,
type, flags, stream id) and a payload. Many requests are in flight on the
one socket at once.

Why it is built this way (see docs/architecture.md): on a small machine
the cost of a request is kernel wake-ups and syscalls, not Python. So the
main thread reads everything the kernel has in one recv_into, decodes every
complete frame, hands requests to handler threads, and handler threads
batch their replies: a reply is only sent when no more work is queued, so a
burst of requests costs about one send.
"""

import contextlib
import hashlib
import io
import json
import mmap
import os
import queue
import re
import socket
import struct
import sys
import threading
import time
import traceback
import types

HEADER = struct.Struct('<IBBxxI')
HSIZE = HEADER.size
U32 = struct.Struct('<I')
REQUEST = struct.Struct('<II')               # REQUEST payload: template id, environ length
BLOCK_HEADER = struct.Struct('<IBBxxII')     # a frame header and a block's length prefix
MAX_PAYLOAD = 16 << 20

# Frame types (internal/protocol/protocol.go).
T_REQUEST, T_DATA, T_CANCEL, T_WINDOW, T_SHUTDOWN, T_DUMP, T_PING, T_TEMPLATE = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
T_READY, T_HEADERS, T_READ, T_FILE, T_LOG, T_ERROR, T_PONG, T_RESTART = 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17
T_SHM_FREE, T_SHM_DATA = 0x09, 0x18
SHM_DATA = struct.Struct('<IBBxxIII')        # a TypeShmData frame: header, slot offset, length
SHM_PIECE = struct.Struct('<II')             # a TypeShmData payload: slot offset, length
F_END = 0x01
_END_FLAGS = [bytes([f | F_END]) for f in range(256)]  # a frame's flags byte with END set
L_ERROR, L_WARN, L_NOTICE, L_INFO, L_DEBUG = 3, 4, 5, 6, 7
DEFAULT_WINDOW = 1 << 20
# Replies held for one send at most: a batch of quick replies leaves in
# one call, and the first of a long batch does not wait for the last.
BATCH_FRAMES = 16
GATHER_MIN = 16 << 10   # bodies larger than this are sent without copying
SHM_MIN = 64 << 10      # body pieces this large go through the shared region
SHM_FREE_FRAME = HEADER.pack(4, T_SHM_FREE, 0, 0)  # then the slot's u32 offset
IOV_MAX = 1024

_COND_LOCK = threading.Lock()

_NO_LOCK = contextlib.nullcontext()  # guards nothing (see Input._lock)

# Fast paths for start_response: a match means the value is valid; a
# miss falls through to the checks that produce mod_wsgi's messages.
_STATUS_OK = re.compile(r'[0-9]{3} [\x20-\x7e\x80-\xff]*\Z')
_NAME_OK = re.compile(r'[!-9;-~\x80-\xff]+\Z')
_VALUE_OK = re.compile(r'[\t\x20-\x7e\x80-\xff]*\Z')

# start_response's fast path remembers the status lines and header items
# it has validated: applications send the same few again and again, and a
# dictionary lookup is much cheaper than the checks. Bounded, so varying
# values (Content-Length, cookies) cannot grow it without end.
_GOOD_STATUS = set()
_GOOD_HEADERS = {}   # (name, value) -> None, or the int of a Content-Length
_UNSEEN = object()
_GOOD_MAX = 4096


def _good_status(status):
    if not _STATUS_OK.match(status):
        return False
    if len(_GOOD_STATUS) < _GOOD_MAX:
        _GOOD_STATUS.add(status)
    return True


def _good_header(h):
    """Validate one (name, value) of str; the cached result or _UNSEEN."""
    name, value = h
    if not _NAME_OK.match(name) or not _VALUE_OK.match(value):
        return _UNSEEN
    lname = name.lower()
    if lname in HOP_BY_HOP:
        return _UNSEEN
    n = None
    if lname == 'content-length':
        if not value.isdigit():
            return _UNSEEN
        n = int(value)
    if len(_GOOD_HEADERS) >= _GOOD_MAX:
        _GOOD_HEADERS.clear()
    _GOOD_HEADERS[h] = n
    return n

HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
                        'te', 'trailers', 'transfer-encoding', 'upgrade'))


class ProtocolError(Exception):
    """The byte stream from wsgid is not valid frames."""


_LIST_ITERATORS = (type(iter([])), type(iter(())))


def _never_waits(it):
    """Whether next(it) only walks a list or tuple (Django's responses
    iterate so). Anything else, a generator above all, may block between
    blocks; Flask's responses are generators wrapped by Werkzeug."""
    return type(it) in _LIST_ITERATORS


def decode_frames(buf, start, end):
    """Decode every complete frame in buf[start:end].

    Returns (frames, consumed_to) where frames is a list of
    (type, flags, stream, payload memoryview-as-bytes). Raises
    ProtocolError on a malformed header.
    """
    frames = []
    off = start
    # Payloads are copied out of buf once, through a view (slicing the
    # bytearray itself would copy twice); the view is released before
    # returning, as buf is resized later.
    with memoryview(buf) as view:
        while end - off >= HSIZE:
            n, t, f, stream = HEADER.unpack_from(buf, off)
            if n > MAX_PAYLOAD:
                raise ProtocolError('payload of %d bytes exceeds the limit' % n)
            if buf[off + 6] or buf[off + 7]:
                raise ProtocolError('reserved bytes not zero')
            if end - off - HSIZE < n:
                break
            frames.append((t, f, stream, bytes(view[off + HSIZE:off + HSIZE + n])))
            off += HSIZE + n
    return frames, off


def frame(t, f, stream, payload=b''):
    return HEADER.pack(len(payload), t, f, stream) + payload


def block_frame(t, f, stream, block, body=b''):
    return HEADER.pack(4 + len(block) + len(body), t, f, stream) + U32.pack(len(block)) + block + body


class Worker(object):
    """One worker process: the socket, the queues and the loaded apps."""

    def __init__(self, sock, cfg):
        self.sock = sock
        self.cfg = cfg
        self.send_lock = threading.Lock()
        self.pending = []          # encoded frames waiting for the batch send
        self.pending_count = 0
        self.pending_gather = False  # pending holds a large body: send with sendmsg
        self.work = queue.SimpleQueue()
        self.streams = {}          # stream id -> Request, guarded by streams_lock
        self.streams_lock = threading.Lock()
        self.load_lock = threading.RLock()
        self.modules = {}          # script path -> module
        # WSGIScriptReloading looks at a script's mtime once per batch
        # (one read of the socket), not once per request: batch counts
        # reads; checked maps a script to the batch it was last checked in.
        self.batch = 0
        self.checked = {}
        # Environ templates (TEMPLATE frames): id -> the base environ
        # merged with the keys wsgid sends once per connection.
        self.templates = {}
        self.shutting_down = False
        self.total_requests = 0
        self.started_at = time.monotonic()
        self.app_loaded = False       # an application loaded once (startup-timeout)
        self.script_uid = cfg.get('script_uid')
        self.script_gid = cfg.get('script_gid')
        self.pid = os.getpid()
        self.level = int(cfg.get('error_log_level') or L_WARN)
        threads = max(1, int(cfg.get('threads') or 1))
        self.base_environ = {
            'wsgi.version': (1, 0),
            'wsgi.multithread': bool(cfg.get('multithread', threads > 1)),
            'wsgi.multiprocess': bool(cfg.get('multiprocess', False)),
            'wsgi.run_once': bool(cfg.get('run_once', False)),
            'wsgi.url_scheme': 'http',
            'wsgi.file_wrapper': FileWrapper,
            'wsgi.input_terminated': True,
            'mod_wsgi.version': (5, 0, 0),
            # mod_wsgi's informational flags, at Apache's defaults
            # (WSGIEnableSendfile Off; no WSGIIgnoreActivity).
            'mod_wsgi.enable_sendfile': '0',
            'mod_wsgi.ignore_activity': '0',
            'apache.version': (2, 4, 62),
        }
        self.inline = []              # requests the reader thread runs itself
        self.inline_busy = 0          # threads running inline requests
        self.inline_started = 0.0     # when the running inline request began (0 = none)
        self.inline_wake = threading.Event()  # wakes watch_inline from its idle wait
        self.watch_idle = False       # watch_inline waits on inline_wake (no request for WATCH_IDLE)
        self.inline_count = 0
        self.read_lock = threading.Lock()
        self.reader_gen = 0
        self.input_closed = threading.Event()
        self.inline_paused_until = 0.0
        self.pumping = False
        self.inline_ok = False
        self.reader_ident = None
        # The region shared with wsgid for large bodies (attach_shm): a
        # piece of SHM_MIN or more is copied into a free slot and only
        # the slot's name crosses the socket, which saves a copy on each
        # side. wsgid hands a slot back (T_SHM_FREE) once it has written
        # it to the client. list.pop and list.append are atomic, so the
        # free list needs no lock. No free slot: the socket, as before.
        # Slots from shm_theirs on are wsgid's, for request bodies: their
        # bytes are copied out as they arrive and the slot given back.
        self.shm = None
        self.shm_slot = 0
        self.shm_free = []
        self.shm_theirs = 0
        self.shm_returns = False   # SHM_FREE frames queued by read_once
        self.threads = [threading.Thread(target=self.handler_loop, name='wsgid-handler-%d' % i, daemon=True)
                        for i in range(threads)]

    def attach_shm(self, spec):
        """Map the region wsgid passed: spec is WSGID_SHM,
        "fd,size,slot,ours": the first ours slots are this process's to
        fill, the rest wsgid's."""
        fd, size, slot, ours = (int(x) for x in spec.split(','))
        try:
            self.shm = mmap.mmap(fd, size)
        finally:
            os.close(fd)  # the mapping keeps it; the application must not inherit it
        self.shm_slot = slot
        self.shm_theirs = ours * slot
        self.shm_free = list(range(self.shm_theirs - slot, -1, -slot))  # popped from the end: offset 0 first

    # -- output -----------------------------------------------------------

    def queue_out(self, data, flush):
        """Add encoded frames to the batch; send it when flush is true."""
        with self.send_lock:
            self.pending.append(data)
            self.pending_count += 1
            if flush or self.pending_count >= BATCH_FRAMES:
                self._flush_locked()

    def queue_body(self, head, body, flush, mark=False):
        """Queue a frame whose header is head and payload body. A large
        body is queued as it is (a memoryview of the application's bytes)
        and gathered by sendmsg, never copied in Python. With mark, return
        where head sits in the batch, for end_in_batch."""
        with self.send_lock:
            at = (self.pending, len(self.pending)) if mark else None
            if len(body) <= GATHER_MIN:
                # joined with the rest of the batch when it is sent
                self.pending.append(head)
                if body:
                    self.pending.append(body)
            else:
                self.pending.append(head)
                self.pending.append(body)
                self.pending_gather = True
            self.pending_count += 1
            # A marked frame waits for its end (end_in_batch), and the
            # batch goes then.
            if flush or (self.pending_count >= BATCH_FRAMES and not mark):
                self._flush_locked()
            return at

    def end_in_batch(self, at):
        """Set END on the frame queue_body marked, if it has not been sent
        yet: a generator's only block and its end then reach wsgid as one
        frame, as a list's would. False if it has gone out."""
        pending, i = at
        with self.send_lock:
            if self.pending is not pending:  # the batch was sent meanwhile
                return False
            head = pending[i]
            pending[i] = head[:5] + _END_FLAGS[head[5]] + head[6:]
            if self.pending_count >= BATCH_FRAMES:
                self._flush_locked()
            return True

    def flush(self):
        with self.send_lock:
            self._flush_locked()

    def _flush_locked(self):
        pending = self.pending
        if not pending:
            return
        self.pending = []
        self.pending_count = 0
        try:
            if self.pending_gather:
                self.pending_gather = False
                self._sendv(pending)
            else:
                self.sock.sendall(b''.join(pending) if len(pending) > 1 else pending[0])
        except OSError:
            pass  # wsgid went away; the reader loop sees EOF and exits

    def _sendv(self, bufs):
        """sendall for a list of buffers, with scatter/gather I/O."""
        while bufs:
            n = self.sock.sendmsg(bufs[:IOV_MAX])
            i = 0
            while i < len(bufs) and n >= len(bufs[i]):
                n -= len(bufs[i])
                i += 1
            bufs = bufs[i:]
            if n:
                bufs[0] = memoryview(bufs[0])[n:]

    def send_fd(self, data, fd):
        """Send one frame with a file descriptor attached (SCM_RIGHTS)."""
        with self.send_lock:
            self._flush_locked()
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('i', fd))]
            sent = self.sock.sendmsg([data], anc)
            if sent < len(data):
                self.sock.sendall(data[sent:])

    def log(self, level, text, stream=0):
        if level > self.level:
            return
        self.queue_out(frame(T_LOG, level, stream, text.encode('utf-8', 'replace')), True)

    # -- reader -----------------------------------------------------------

    def serve(self):
        for t in self.threads:
            t.start()
        self.rbuf = bytearray(64 << 10)
        self.rview = memoryview(self.rbuf)
        self.rstart = self.rend = 0
        threading.Thread(target=self.watch_inline, name='wsgid-inline-watch', daemon=True).start()
        self.reader_loop()
        self.input_closed.wait()

    def reader_loop(self):
        """The reader role: read, dispatch, run quick requests inline.

        Only one thread holds the role (generation reader_gen); a thread
        stuck inside an application loses it to a new one (watch_inline)
        and, when the application returns, leaves the loop.
        """
        with self.read_lock:
            gen = self.reader_gen
            self.reader_ident = threading.get_ident()
        while True:
            with self.read_lock:
                if gen != self.reader_gen:
                    return
                ok = self.read_once()
            if not ok:
                break
            self.run_inline(gen)
        self.shutting_down = True
        with self.streams_lock:
            for req in list(self.streams.values()):
                req.cancel()
        self.flush()
        self.input_closed.set()
        self.inline_wake.set()  # let watch_inline see the end

    def watch_inline(self):
        """Hand the reader role to a new thread when an inline request runs
        long, so that a slow or stuck application never stops the process
        from reading its socket."""
        polls, batch = 0, -1
        while not self.input_closed.is_set():
            time.sleep(self.INLINE_SLOW / 4)
            started = self.inline_started
            if not started:
                if self.batch != batch:
                    batch, polls = self.batch, 0
                    continue
                polls += 1
                if polls * self.INLINE_SLOW / 4 < self.WATCH_IDLE:
                    continue
                # Idle for a while: sleep until run_inline starts a
                # request. Say so, then look again, so that a request
                # started in between is not missed. While requests keep
                # coming the watch polls instead, so that a batch costs
                # no wake-up of this thread (measured: 10-20% of the
                # worker's CPU per request).
                self.inline_wake.clear()
                self.watch_idle = True
                if not self.inline_started:
                    self.inline_wake.wait()
                self.watch_idle = False
                polls = 0
                continue
            running = time.monotonic() - started
            if running >= self.INLINE_SLOW / 4:
                # A request running inline this long may have yielded a
                # block that waits in the batch: send it (see Request.run).
                self.flush()
            if not self.pumping and running > self.INLINE_SLOW:
                with self.read_lock:
                    if self.inline_started != started:
                        continue
                    self.reader_gen += 1
                    self.inline_paused_until = time.monotonic() + self.INLINE_PAUSE
                with self.streams_lock:
                    self._requeue_inline_locked()
                threading.Thread(target=self.reader_loop, name='wsgid-reader', daemon=True).start()

    def read_once(self):
        """Read what the kernel has and dispatch every complete frame.

        Returns False at end of input. Reentrant from the reader thread
        (see pump): the buffer state lives on self, and nothing holds a
        frame's memory across calls.
        """
        buf, start, end = self.rbuf, self.rstart, self.rend
        if end == len(buf):
            if start > 0:
                buf[0:end - start] = buf[start:end]
                end -= start
                start = 0
            else:
                self.rview.release()
                buf.extend(bytes(len(buf)))
                self.rview = memoryview(buf)
        while True:
            try:
                n = self.sock.recv_into(self.rview[end:])
                break
            except InterruptedError:
                continue
            except OSError:
                n = 0
                break
        if n == 0:
            return False
        end += n
        self.batch += 1
        try:
            frames, start = decode_frames(buf, start, end)
        except ProtocolError as e:
            self.log(L_ERROR, 'wsgid (pid=%d): protocol error from server: %s' % (self.pid, e))
            return False
        if start == end:
            start = end = 0
        # Grow for a large frame whose header is already here.
        if end - start >= HSIZE:
            need = HEADER.unpack_from(buf, start)[0] + HSIZE
            if need > len(buf) - start and need <= MAX_PAYLOAD + HSIZE:
                buf[0:end - start] = buf[start:end]
                end -= start
                start = 0
                if need > len(buf):
                    self.rview.release()
                    buf.extend(bytes(need - len(buf)))
                    self.rview = memoryview(buf)
        self.rstart, self.rend = start, end
        # Whether requests may run inline is decided once per batch; a
        # request that must go to the handler threads ends it (dispatch).
        self.inline_ok = self.inline_allowed()
        for t, f, stream, payload in frames:
            self.dispatch(t, f, stream, payload)
        if self.shm_returns:
            # wsgid's slots go back at once: it reads the next pieces
            # of the body into them while the application works.
            self.shm_returns = False
            self.flush()
        return True

    # -- inline execution --------------------------------------------------
    #
    # Handing a request to a handler thread costs a futex wake-up, a
    # context switch and a GIL hand-off: more than a small application
    # itself. So while applications answer quickly, the reader thread runs
    # the requests of a batch itself and sends all their replies at once
    # (the regime measured at a few microseconds per request). A request
    # that runs long (> INLINE_SLOW) hands the reader role to a new thread
    # (watch_inline) and turns inlining off for INLINE_PAUSE, so slow
    # applications go back to the thread pool and do not hold up the
    # connection. A request running inline that must wait for response
    # window pumps the socket itself (pump), so it cannot deadlock.

    # An inline request running longer than INLINE_SLOW loses the reader
    # role (checked every INLINE_SLOW/4), and inlining pauses for
    # INLINE_PAUSE so that a slow application is not taken over again and
    # again. Wall-clock on a busy machine: generous on purpose.
    INLINE_SLOW = 0.02
    INLINE_PAUSE = 1.0
    # watch_inline stops polling (every INLINE_SLOW/4) once no batch has
    # been read for WATCH_IDLE, and waits to be woken: a process busier
    # than that pays a poll per INLINE_SLOW/4 instead of a wake-up per
    # batch; a quiet one pays a few polls after each request.
    WATCH_IDLE = 0.05

    def inline_allowed(self):
        return (not self.pumping and not self.shutting_down and time.monotonic() >= self.inline_paused_until
                and self.work.empty())

    def run_inline(self, gen):
        """Run the queued inline requests, one at a time, on this thread.

        Items are taken one by one under streams_lock, so that a takeover
        (watch_inline) can move the ones not yet started to the handler
        threads while this thread is stuck in an application.
        """
        lock, monotonic, done = self.streams_lock, time.monotonic, None
        while True:
            with lock:
                if done is not None:
                    # The previous request's bookkeeping, in the same
                    # critical section as taking the next.
                    self.streams.pop(done.stream, None)
                    self.inline_busy -= 1
                    self.inline_started = 0.0
                if not self.inline:
                    break
                now = monotonic()
                if now < self.inline_paused_until or gen != self.reader_gen:
                    self._requeue_inline_locked()
                    break
                req = self.inline.pop(0)
                self.inline_busy += 1
                self.inline_started = now
                if self.watch_idle:
                    self.watch_idle = False
                    self.inline_wake.set()
            self.total_requests += 1
            self.inline_count += 1
            try:
                req.run(self.reader_ident, self.inline_count)
            except BaseException:
                self.log(L_ERROR, traceback.format_exc(), req.stream)
            req.input.req = None  # the request is over: break the cycle
            done = req
        if done is not None:
            self.flush()

    def _requeue_inline_locked(self):
        for r in self.inline:
            self.work.put(r)
        self.inline = []

    def pump(self, done):
        """Serve the socket from the reader thread until done() is true,
        for a request running inline that waits for window or request
        body. Returns False if the reader role moved to another thread or
        input ended. The batch's requests not yet started go to the
        handler threads rather than wait behind this one."""
        self.flush()
        with self.streams_lock:
            self._requeue_inline_locked()
        me, gen = threading.get_ident(), self.reader_gen
        self.pumping = True
        try:
            while not done():
                # The role may move to a new reader thread (watch_inline),
                # which then holds read_lock while it waits in recv: never
                # block on the lock, or this thread could wait for it
                # forever while the data it needs waits for this thread.
                if self.reader_ident != me or self.reader_gen != gen:
                    return False
                if not self.read_lock.acquire(timeout=0.05):
                    continue
                try:
                    if self.reader_ident != me or self.reader_gen != gen:
                        return False
                    if not self.read_once():
                        # wsgid went away: nobody else will read, so end
                        # every request here rather than wait forever.
                        with self.streams_lock:
                            for req in list(self.streams.values()):
                                req.cancel()
                        return False
                finally:
                    self.read_lock.release()
        finally:
            self.pumping = False
        return True

    def dispatch(self, t, f, stream, payload):
        if t == T_REQUEST:
            if len(payload) < 8:
                self.log(L_ERROR, 'wsgid (pid=%d): protocol error from server: short request frame' % self.pid)
                return
            tmpl, n = REQUEST.unpack_from(payload)
            base = self.templates.get(tmpl) if tmpl else self.base_environ
            req = Request(self, stream, base, payload[8:8 + n], payload[8 + n:], f & F_END)
            with self.streams_lock:
                self.streams[stream] = req
            if base is None:
                # wsgid never names a template it has not sent.
                self.log(L_ERROR, 'wsgid (pid=%d): protocol error from server: unknown environ template %d' % (
                    self.pid, tmpl), stream)
                req.fail(500, 'unknown environ template')
                self.flush()
                with self.streams_lock:
                    self.streams.pop(stream, None)
                return
            # A request whose body is still coming runs inline too: it
            # reads the body from the socket itself (Input._fill, pump),
            # with no hand-off between threads per piece.
            if self.inline_ok:
                self.inline.append(req)
            else:
                self.work.put(req)
            return
        if t == T_TEMPLATE:
            env = dict(self.base_environ)
            it = iter(payload.decode('latin-1').split('\0'))
            env.update(zip(it, it))  # the trailing '' has no pair
            self.templates[stream] = env
            return
        if t == T_SHM_FREE:
            if len(payload) == 4:
                self.shm_free.append(U32.unpack(payload)[0])
            return
        if t == T_SHUTDOWN:
            self.begin_shutdown()
            return
        if t == T_DUMP:
            self.dump_stacks()
            return
        if t == T_PING:
            # deadlock-timeout probe: answering needs the GIL.
            self.queue_out(frame(T_PONG, 0, 0, b''), True)
            return
        if t == T_SHM_DATA:
            # Request body in one of wsgid's slots: copy it out (slicing
            # an mmap makes bytes) and give the slot back.
            off, n = SHM_PIECE.unpack(payload) if len(payload) == 8 else (-1, 0)
            if (self.shm is None or off < self.shm_theirs or off % self.shm_slot or off + n > len(self.shm)
                    or n > self.shm_slot):
                self.log(L_ERROR, 'wsgid (pid=%d): protocol error from server: bad shared-memory frame' % self.pid)
                return
            payload = self.shm[off:off + n]
            self.queue_out(SHM_FREE_FRAME + U32.pack(off), False)
            self.shm_returns = True
            t = T_DATA
        with self.streams_lock:
            req = self.streams.get(stream)
        if req is None:
            return
        if t == T_DATA:
            req.input.feed(payload, bool(f & F_END))
        elif t == T_WINDOW and len(payload) == 4:
            req.grant(U32.unpack(payload)[0])
        elif t == T_CANCEL:
            req.cancel()

    def begin_shutdown(self):
        """Finish what is queued and in flight, then exit: the None
        markers queue up behind the requests already received."""
        if not self.shutting_down:
            self.shutting_down = True
            for _ in self.threads:
                self.work.put(None)
            threading.Thread(target=self.exit_when_idle, daemon=True).start()

    def load_failed(self, stream):
        """startup-timeout: a process whose application has not loaded
        since it started that long ago restarts, as mod_wsgi's does."""
        limit = self.cfg.get('load_timeout') or 0
        if limit and not self.app_loaded and not self.shutting_down and time.monotonic() - self.started_at > limit:
            self.log(L_ERROR, "wsgid (pid=%d): startup-timeout (%gs) passed without the application loading; restarting process '%s'." % (
                self.pid, limit, self.cfg.get('group', '')), stream)
            self.begin_shutdown()

    def exit_when_idle(self):
        for t in self.threads:
            t.join()
        while self.inline_busy or self.inline:
            time.sleep(0.01)
        self.flush()
        os._exit(0)

    def dump_stacks(self):
        lines = ['Dumping stack trace for active Python threads.']
        for tid, fr in sys._current_frames().items():
            first = True
            for fs in reversed(traceback.extract_stack(fr)):
                if first:
                    lines.append('Thread %d executing file "%s", line %d, in %s' % (tid, fs.filename, fs.lineno, fs.name))
                    first = False
                else:
                    lines.append('called from file "%s", line %d, in %s' % (fs.filename, fs.lineno, fs.name))
        self.log(L_ERROR, '\n'.join(lines))

    # -- handlers ---------------------------------------------------------

    def handler_loop(self):
        tid = threading.get_ident()
        count = 0
        while True:
            req = self.work.get()
            if req is None:
                return
            count += 1
            self.total_requests += 1
            try:
                req.run(tid, count)
            except BaseException:  # never let a handler thread die
                self.log(L_ERROR, traceback.format_exc(), req.stream)
            finally:
                with self.streams_lock:
                    self.streams.pop(req.stream, None)
                req.input.req = None  # the request is over: break the cycle
            # Batching: flush only when nothing else is waiting, so
            # replies finished together leave in one send.
            if self.work.empty():
                self.flush()

    # -- application loading ---------------------------------------------

    def load(self, environ, stream):
        """Return the WSGI callable for this request, or raise AppError."""
        name = environ.get('mod_wsgi.callable_object') or 'application'
        modname = environ.get('wsgid.module')
        if modname:
            with self.load_lock:
                mod = self.modules.get('module:' + modname)
                if mod is None:
                    try:
                        __import__(modname)
                        mod = sys.modules[modname]
                    except BaseException:
                        self.log(L_ERROR, "wsgid (pid=%d): Failed to import module '%s'.\n%s" % (
                            self.pid, modname, traceback.format_exc()), stream)
                        raise AppError(500)
                    self.modules['module:' + modname] = mod
            return self.callable(mod, modname, name, stream)
        path = environ.get('SCRIPT_FILENAME', '')
        reloading = environ.get('mod_wsgi.script_reloading', '1') == '1'
        if self.script_uid is not None or self.script_gid is not None:
            self.check_owner(path, stream)
        mod = self.modules.get(path)
        if mod is not None and (not reloading or self.checked.get(path) == self.batch):
            app = getattr(mod, name, None)
            if app is not None:
                return app
            return self.callable(mod, path, name, stream)  # logs, raises
        with self.load_lock:
            batch = self.batch
            mod = self.modules.get(path)
            if mod is not None and reloading:
                try:
                    if os.stat(path).st_mtime != mod.__mtime__:
                        if self.cfg.get('group'):
                            # A named group is mod_wsgi's daemon mode: the
                            # whole process restarts, so modules the script
                            # imports are reloaded too; wsgid replays this
                            # request on a new process.
                            self.log(L_INFO, "wsgid (pid=%d): Force restart of process '%s': WSGI script '%s' changed." % (
                                self.pid, self.cfg['group'], path), stream)
                            raise ScriptChanged()
                        self.log(L_INFO, "wsgid (pid=%d): Reloading WSGI script '%s'." % (self.pid, path), stream)
                        mod = None
                except OSError:
                    pass
            if mod is None:
                mod = self.exec_script(path, stream)
                self.modules[path] = mod
            self.checked[path] = batch
        return self.callable(mod, path, name, stream)

    def check_owner(self, path, stream):
        """script-user= / script-group=: refuse scripts owned by others (403)."""
        try:
            st = os.stat(path)
        except OSError:
            return  # reported when the script is read
        for want, have, what in ((self.script_uid, st.st_uid, 'user'), (self.script_gid, st.st_gid, 'group')):
            if want is not None and want != have:
                self.log(L_ERROR, "wsgid (pid=%d): Script '%s' is owned by %s id %d, not the script-%s id %d; refusing to run it." % (
                    self.pid, path, what, have, what, want), stream)
                raise AppError(403)

    def callable(self, mod, path, name, stream):
        app = getattr(mod, name, None)
        if app is None:
            self.log(L_ERROR, "wsgid (pid=%d): Target WSGI script '%s' does not contain WSGI application '%s'." % (
                self.pid, path, name), stream)
            raise AppError(500)
        return app

    def exec_script(self, path, stream=0):
        modname = '_mod_wsgi_' + hashlib.md5(path.encode('utf-8', 'surrogateescape')).hexdigest()
        try:
            mtime = os.stat(path).st_mtime
            with open(path, 'rb') as fh:
                source = fh.read()
            code = compile(source, path, 'exec')
        except BaseException:
            self.log(L_ERROR, "wsgid (pid=%d): Could not read/compile source file '%s'.\n%s" % (
                self.pid, path, traceback.format_exc()), stream)
            raise AppError(500)
        mod = types.ModuleType(modname)
        mod.__file__ = path
        mod.__mtime__ = mtime
        sys.modules[modname] = mod
        try:
            exec(code, mod.__dict__)
        except SystemExit:
            sys.modules.pop(modname, None)
            self.log(L_ERROR, "wsgid (pid=%d): SystemExit exception raised when doing exec of Python script file '%s'." % (
                self.pid, path), stream)
            raise AppError(500)
        except BaseException:
            sys.modules.pop(modname, None)
            self.log(L_ERROR, "wsgid (pid=%d): Failed to exec Python script file '%s'.\n"
                     "wsgid (pid=%d): Exception occurred processing WSGI script '%s'.\n%s" % (
                         self.pid, path, self.pid, path, traceback.format_exc()), stream)
            raise AppError(500)
        return mod


class AppError(Exception):
    def __init__(self, status):
        Exception.__init__(self, status)
        self.status = status


class ScriptChanged(Exception):
    """The script changed in a named group: restart the process (RESTART)."""


class ClientGone(OSError):
    pass


class Input(object):
    """wsgi.input: the request body, inline or pulled from wsgid on demand.

    The body is kept as the pieces it arrived in (chunks, the first one
    consumed up to off), so each byte is copied once on its way to the
    application: a piece that matches a read() is handed over as it is.

    req is cleared when the request ends (Request.run), which breaks the
    Request <-> Input cycle so both are freed at once by reference
    counting rather than by the cyclic garbage collector; an Input kept
    past its request reads as at end of body.
    """

    __slots__ = ('req', 'chunks', 'off', 'avail', 'eof', 'asked', 'need')

    # How much body one READ asks for: wsgid answers with as many DATA
    # frames as that takes, so a large upload costs a round trip per
    # READ_SIZE, while the body held here stays bounded by it.
    READ_SIZE = 1 << 20

    def __init__(self, req, body, complete):
        self.req = req
        self.chunks = [body] if body else []
        self.off = 0
        self.avail = len(body)
        self.eof = complete
        self.asked = 0   # bytes asked for with READ and not yet received
        self.need = 0    # the number of bytes a waiting reader wants

    def feed(self, data, end):
        req = self.req
        if req is None:
            return
        cond = req.cond()
        with cond:
            if data:
                self.chunks.append(data)
                self.avail += len(data)
                self.asked = max(0, self.asked - len(data))
            if end:
                self.eof = True
            # Wake the reader only when it can go on: its need is met, or
            # it must ask for more. A DATA frame per piece the client
            # sent does not cost a thread switch each.
            if self.avail >= self.need or self.eof or not self.asked:
                cond.notify_all()

    def _fill(self, need):
        """Wait until need bytes are here, asking wsgid for more body as
        it is used up. False if the body ends (or the client leaves)
        first."""
        req = self.req
        if req is None:
            return False
        w = req.worker
        cond = req.cond()
        ready = lambda: self.avail >= need or self.eof or req.cancelled or not self.asked
        while True:
            with cond:
                if self.avail >= need:
                    return True
                if self.eof or req.cancelled:
                    return False
                if not self.asked:
                    self.asked = self.READ_SIZE
                    w.queue_out(frame(T_READ, 0, req.stream, U32.pack(self.READ_SIZE)), True)
                self.need = need
            if threading.get_ident() == w.reader_ident and w.pump(ready):
                continue  # running inline: this thread read the body itself
            with cond:
                while not ready():
                    cond.wait(1.0)

    def _lock(self):
        """What guards chunks against feed: nothing once the whole body is
        here (the common case, so most requests never create their
        Condition), else the request's Condition."""
        if self.eof or self.req is None:
            return _NO_LOCK
        return self.req.cond()

    def _take(self, n):
        """Remove and return the first n (<= avail) bytes."""
        if n <= 0:
            return b''
        with self._lock():
            chunks, off = self.chunks, self.off
            first = chunks[0] if chunks else b''
            if off == 0 and len(first) == n:
                del chunks[0]
                data = first
            elif len(first) - off >= n:
                data = first[off:off + n]
                self.off = off + n
                if self.off == len(first):
                    del chunks[0]
                    self.off = 0
            else:
                # A read across pieces: views of them, joined once (a
                # slice of bytes would be a copy of its own first).
                parts, left = [], n
                while left:
                    first = chunks[0]
                    piece = memoryview(first)[off:off + left] if off or len(first) > left else first
                    parts.append(piece)
                    left -= len(piece)
                    if off + len(piece) == len(first):
                        del chunks[0]
                        off = 0
                    else:
                        off += len(piece)
                self.off = off
                data = b''.join(parts)
            self.avail -= n
            return data

    def read(self, size=-1):
        if size is None or size < 0:
            self._fill(sys.maxsize)  # to the end of the body
            return self._take(self.avail)
        if size == 0:
            return b''
        self._fill(size)
        return self._take(min(size, self.avail))

    def readline(self, size=-1):
        limit = sys.maxsize if size is None or size < 0 else size
        if limit == 0:
            return b''
        scanned = 0  # bytes already searched for a newline
        while True:
            with self._lock():
                i, pos = -1, -self.off
                for c in self.chunks:
                    start = self.off if pos < 0 else 0
                    if pos + len(c) > scanned:
                        i = c.find(b'\n', max(start, scanned - pos))
                        if i >= 0:
                            i += pos
                            break
                    pos += len(c)
                scanned = max(scanned, pos)
            if 0 <= i < limit:
                return self._take(i + 1)
            if self.avail >= limit:
                return self._take(limit)
            if not self._fill(self.avail + 1):
                return self._take(min(self.avail, limit))

    def readlines(self, hint=-1):
        lines, total = [], 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        pass


class Errors(object):
    """wsgi.errors: lines go to wsgid's error log tagged with the request."""

    __slots__ = ('worker', 'stream', 'level', 'partial')

    def __init__(self, worker, stream, level=L_ERROR):
        self.worker, self.stream, self.level = worker, stream, level
        self.partial = ''

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('expected str, value of type %s found' % type(s).__name__)
        self.partial += s
        if '\n' in self.partial:
            text, _, self.partial = self.partial.rpartition('\n')
            self.worker.log(self.level, text, self.stream)
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self.partial:
            text, self.partial = self.partial, ''
            self.worker.log(self.level, text, self.stream)

    def isatty(self):
        return False


class FileWrapper(object):
    """wsgi.file_wrapper; sent zero-copy by wsgid when it wraps a real file."""

    def __init__(self, filelike, blksize=8192):
        self.filelike, self.blksize = filelike, blksize
        if hasattr(filelike, 'close'):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


class Request(object):
    """One request: environ, response state, flow-control window."""

    __slots__ = ('worker', 'stream', 'base', 'block', 'input', 'cancelled', 'granted', 'sent', '_cond',
                 'status', 'headers', 'sent_headers', 'content_length', 'body_sent')

    def __init__(self, worker, stream, base, block, body, complete):
        self.worker = worker
        self.stream = stream
        self.base = base      # the environ template this request extends
        self.block = block
        self.input = Input(self, body, complete)
        self.cancelled = False
        # Response credit is DEFAULT_WINDOW + granted - sent: the reader
        # thread only adds to granted and the handler only to sent, so
        # the common case needs no lock (and no Condition is created).
        self.granted = 0
        self.sent = 0
        self._cond = None
        self.status = None
        self.headers = None
        self.sent_headers = False
        self.content_length = None
        self.body_sent = 0

    def cond(self):
        """The request's Condition, created on first need: most requests
        never wait for body data or window."""
        c = self._cond
        if c is None:
            with _COND_LOCK:
                if self._cond is None:
                    self._cond = threading.Condition()
                c = self._cond
        return c

    def cancel(self):
        self.cancelled = True
        c = self.cond()
        with c:
            c.notify_all()

    def grant(self, n):
        c = self.cond()
        with c:
            self.granted += n
            c.notify_all()

    def environ(self, tid, count):
        env = self.base.copy()
        it = iter(self.block.decode('latin-1').split('\0'))
        env.update(zip(it, it))  # the trailing '' has no pair
        env['wsgi.input'] = self.input
        env['wsgi.errors'] = Errors(self.worker, self.stream)
        env['mod_wsgi.total_requests'] = self.worker.total_requests
        env['mod_wsgi.thread_id'] = tid
        env['mod_wsgi.thread_requests'] = count
        # When the application was entered, in microseconds, as mod_wsgi;
        # in a daemon group (mod_wsgi daemon mode) also daemon_start.
        now = str(int(time.time() * 1000000))
        env['mod_wsgi.script_start'] = now
        if env.get('mod_wsgi.process_group'):
            env['mod_wsgi.daemon_start'] = now
        return env

    # start_response with mod_wsgi's validation and messages.
    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            if not isinstance(exc_info, tuple):
                raise RuntimeError('exception info must be a tuple')
            try:
                if self.sent_headers:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.sent_headers:
            raise RuntimeError('headers have already been sent')
        if type(status) is str and type(headers) is list and (status in _GOOD_STATUS or _good_status(status)):
            clen = None
            for h in headers:
                if type(h) is not tuple or len(h) != 2 or type(h[0]) is not str or type(h[1]) is not str:
                    break
                n = _GOOD_HEADERS.get(h, _UNSEEN)
                if n is _UNSEEN:
                    n = _good_header(h)
                    if n is _UNSEEN:
                        break
                if n is not None:
                    clen = n
            else:
                self.status, self.headers, self.content_length = status, headers, clen
                return self.write
        return self._start_response_checked(status, headers)

    def _start_response_checked(self, status, headers):
        """The slow path: find what is wrong and say it as mod_wsgi does."""
        if not isinstance(status, str):
            raise TypeError('expected unicode object, value of type %s found' % type(status).__name__)
        try:
            status.encode('latin-1')
        except UnicodeEncodeError:
            raise ValueError('unicode object contains non latin-1 characters')
        if len(status) < 4 or not status[:3].isdigit():
            raise ValueError('status code is not a 3 digit integer')
        if status[3] != ' ':
            raise ValueError('no space following status code')
        for c in status:
            if ord(c) < 32 or ord(c) == 127:
                raise ValueError('control character present in reason phrase')
        if not isinstance(headers, list):
            raise TypeError('response headers must be a list')
        clen = None
        for h in headers:
            if not isinstance(h, tuple):
                raise TypeError('list of tuple values expected for headers, value of type %s found' % type(h).__name__)
            if len(h) != 2:
                raise ValueError('tuple of length 2 expected for header, length is %d' % len(h))
            name, value = h
            for v in (name, value):
                if not isinstance(v, str):
                    raise TypeError('expected unicode object, value of type %s found' % type(v).__name__)
                try:
                    v.encode('latin-1')
                except UnicodeEncodeError:
                    raise ValueError('unicode object contains non latin-1 characters')
            if not name:
                raise ValueError('header name is empty')
            for c in name:
                if ord(c) <= 32 or ord(c) == 127 or c == ':':
                    raise ValueError('control character, space or colon present in header name')
            for c in value:
                if c in '\r\n':
                    raise ValueError('carriage return/line feed character present in header value')
                if (ord(c) < 32 and c != '\t') or ord(c) == 127:
                    raise ValueError('control character present in header value')
            lname = name.lower()
            if lname in HOP_BY_HOP:
                raise ValueError('Hop-by-hop headers not allowed: %s' % name)
            if lname == 'content-length':
                if not value.isdigit():
                    raise ValueError('invalid content length')
                clen = int(value)
        self.status, self.headers, self.content_length = status, headers, clen
        return self.write

    def header_block(self):
        parts = [self.status]
        for h in self.headers:
            parts += h  # a validated (name, value)
        parts.append('')
        return '\0'.join(parts).encode('latin-1')

    def _trim(self, data):
        """Drop bytes past a declared Content-Length, as mod_wsgi does."""
        if self.content_length is not None:
            room = self.content_length - self.body_sent
            if len(data) > room:
                if room >= 0:
                    self.worker.log(L_ERROR, 'wsgid (pid=%d): Content length mismatch, response truncated to %d bytes' % (
                        self.worker.pid, self.content_length), self.stream)
                data = data[:max(room, 0)]
        return data

    def _credit(self):
        return DEFAULT_WINDOW + self.granted - self.sent

    def _wait_credit(self):
        """Block until some response window is free (or the client left)."""
        self.worker.flush()  # never block with replies of others held back
        ready = lambda: self._credit() > 0 or self.cancelled
        if threading.get_ident() == self.worker.reader_ident:
            # Running inline: nobody else reads the socket, so read it here.
            if self.worker.pump(ready):
                return
        c = self.cond()
        with c:
            while not ready():
                c.wait(1.0)

    def send_whole(self, data):
        """Send a complete small response, headers and body in one frame:
        the common case, without send()'s window bookkeeping."""
        n = len(data)
        if (self.cancelled or self.sent_headers or self.status is None or n > GATHER_MIN
                or (self.content_length is not None and self.content_length != n)):
            return self.send(data, True)
        self.sent_headers = True
        self.sent = self.body_sent = n
        block = self.header_block()
        self.worker.queue_body(BLOCK_HEADER.pack(4 + len(block) + n, T_HEADERS, F_END, self.stream, len(block)) + block,
                               data, False)

    def send(self, data, end):
        """Send body bytes (headers first if not yet sent), in pieces no
        larger than the window wsgid has granted. When this call queued
        the headers with all of data and without END, return where that
        frame waits in the batch (for end_in_batch); else None."""
        if self.cancelled:
            raise ClientGone('client connection closed')
        data = self._trim(data)
        if not self.sent_headers and self.status is None:
            raise RuntimeError('response has not been started')
        if len(data) > GATHER_MIN:
            data = memoryview(data)  # pieces are views, not copies
        while True:
            credit = self._credit()
            if len(data) > credit:
                if credit <= 0:
                    self._wait_credit()
                    if self.cancelled:
                        raise ClientGone('client connection closed')
                    continue
                chunk, data, last = data[:credit], data[credit:], False
            else:
                chunk, data, last = data, b'', end
            self.sent += len(chunk)
            self.body_sent += len(chunk)
            if not self.sent_headers:
                self.sent_headers = True
                block = self.header_block()
                if len(chunk) >= SHM_MIN and self.worker.shm_free:
                    self.worker.queue_out(HEADER.pack(4 + len(block), T_HEADERS, 0, self.stream) +
                                          U32.pack(len(block)) + block, False)
                    self._send_data(chunk, last)
                else:
                    at = self.worker.queue_body(HEADER.pack(4 + len(block) + len(chunk), T_HEADERS, F_END if last else 0,
                                                            self.stream) + U32.pack(len(block)) + block, chunk, False,
                                                not last)
                    if not data:
                        return at
            elif chunk or last:
                self._send_data(chunk, last)
            if not data:
                return None

    def _send_data(self, chunk, last):
        """Queue body bytes as DATA frames, through shared-memory slots
        while the pieces are large and slots are free."""
        w = self.worker
        free, slot = w.shm_free, w.shm_slot
        while len(chunk) >= SHM_MIN and free:
            try:
                off = free.pop()
            except IndexError:  # taken by another thread meanwhile
                break
            piece, chunk = chunk[:slot], chunk[slot:]
            n = len(piece)
            w.shm[off:off + n] = piece
            end = last and not chunk
            w.queue_out(SHM_DATA.pack(8, T_SHM_DATA, F_END if end else 0, self.stream, off, n), False)
            if end:
                return
        if chunk or last:
            w.queue_body(HEADER.pack(len(chunk), T_DATA, F_END if last else 0, self.stream), chunk, False)

    def write(self, data):
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError('byte string value expected, value of type %s found' % type(data).__name__)
        if data:
            self.send(bytes(data), False)
            self.worker.flush()  # write() is for streaming: do not hold it back

    def fail(self, status, reason):
        self.worker.queue_out(frame(T_ERROR, 0, self.stream, struct.pack('<H', status) + reason.encode('utf-8')), False)

    def run(self, tid, count):
        env = self.environ(tid, count)
        w = self.worker
        script = env.get('SCRIPT_FILENAME') or env.get('wsgid.module', '')
        try:
            app = w.load(env, self.stream)
        except AppError as e:
            self.fail(e.status, 'application could not be loaded')
            w.load_failed(self.stream)
            return
        except ScriptChanged:
            w.queue_out(frame(T_RESTART, 0, self.stream, b''), False)
            return
        if not w.app_loaded:
            w.app_loaded = True
        result = None
        try:
            result = app(env, self.start_response)
            if isinstance(result, FileWrapper) and self.try_sendfile(result):
                return
            if type(result) in (list, tuple) and self.status is not None:
                # The common case: the whole body is already here, so it
                # goes out with the headers in one frame.
                for chunk in result:
                    if type(chunk) is not bytes:
                        break
                else:
                    self.send_whole(b''.join(result))
                    return
            it = iter(result)
            # PEP 3333 (and mod_wsgi): a block is on its way to the client
            # before the application is asked for the next one, which may
            # take any time (a stream of events, a long computation). On a
            # handler thread the block is sent at once, unless the iterator
            # only walks a list. On the reader thread it stays with the
            # batch's other replies, and watch_inline sends it if the
            # request is still running a few milliseconds later: sending
            # each block at once cost Flask 15% of its throughput.
            # Which thread this is can change under a long request: the
            # reader role moves away from it (watch_inline), so look each
            # time.
            # at: where the headers and first block wait in the batch
            # while they are the reply's last frame, so that the end can
            # be marked on them rather than sent as a frame of its own.
            prompt, at = not _never_waits(it), None
            for chunk in it:
                if not isinstance(chunk, (bytes, bytearray)):
                    raise TypeError('sequence of byte string values expected, value of type %s found' % type(chunk).__name__)
                if chunk:
                    at = self.send(bytes(chunk), False)
                    if prompt and threading.get_ident() != w.reader_ident:
                        w.flush()
                if self.cancelled:
                    break
            if self.status is None:
                raise RuntimeError('response has not been started')
            if at is None or self.cancelled or not w.end_in_batch(at):
                self.send(b'', True)
        except ClientGone:
            self.worker.log(L_DEBUG, 'wsgid (pid=%d): Client closed connection.' % w.pid, self.stream)
            self.end_quietly()
        except SystemExit:
            w.log(L_ERROR, "wsgid (pid=%d): SystemExit exception raised by WSGI script '%s' ignored." % (w.pid, script), self.stream)
            self.fail(500, 'SystemExit')
        except BaseException:
            if self.cancelled:
                self.end_quietly()
            else:
                w.log(L_ERROR, "wsgid (pid=%d): Exception occurred processing WSGI script '%s'.\n%s" % (
                    w.pid, script, traceback.format_exc()), self.stream)
                self.fail(500, 'exception')
        finally:
            if hasattr(result, 'close'):
                try:
                    result.close()
                except BaseException:
                    w.log(L_ERROR, "wsgid (pid=%d): Exception occurred closing the iterable of WSGI script '%s'.\n%s" % (
                        w.pid, script, traceback.format_exc()), self.stream)

    def end_quietly(self):
        self.worker.queue_out(frame(T_DATA, F_END, self.stream), False)

    def try_sendfile(self, wrapper):
        """Hand a real file to wsgid to send zero-copy; False to iterate."""
        if self.sent_headers or self.status is None:
            return False
        f = wrapper.filelike
        try:
            fd = f.fileno()
            import stat
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            offset = f.tell()
        except (AttributeError, OSError, io.UnsupportedOperation):
            return False
        length = self.content_length if self.content_length is not None else -1
        self.sent_headers = True
        self.worker.queue_out(block_frame(T_HEADERS, 0, self.stream, self.header_block()), False)
        self.worker.send_fd(frame(T_FILE, F_END, self.stream, struct.pack('<qq', offset, length)), fd)
        return True


def main():
    cfg = json.loads(os.environ.get('WSGID_WORKER_CONFIG') or '{}')
    # fd 3 unless WSGID_WORKER_FD says otherwise (the worker's own tests).
    sock = socket.socket(fileno=int(os.environ.get('WSGID_WORKER_FD') or 3))
    if cfg.get('home'):
        os.chdir(cfg['home'])
    if cfg.get('lang'):
        os.environ['LANG'] = cfg['lang']
    if cfg.get('locale'):
        os.environ['LC_ALL'] = cfg['locale']
        try:
            import locale
            locale.setlocale(locale.LC_ALL, cfg['locale'])
        except Exception:
            pass
    # umask=, cpu-priority=, stack-size= of WSGIDaemonProcess.
    if cfg.get('umask') is not None:
        os.umask(int(cfg['umask']))
    if cfg.get('cpu_priority'):
        try:
            os.nice(int(cfg['cpu_priority']))
        except OSError as e:
            sys.stderr.write('wsgid: cpu-priority=%s not applied: %s\n' % (cfg['cpu_priority'], e))
    if cfg.get('stack_size'):
        threading.stack_size(int(cfg['stack_size']))
    if cfg.get('virtual_memory_limit'):
        import resource
        n = int(cfg['virtual_memory_limit'])
        try:
            resource.setrlimit(resource.RLIMIT_AS, (n, n))
        except (ValueError, OSError) as e:
            sys.stderr.write('wsgid: virtual-memory-limit=%d not applied: %s\n' % (n, e))
    if cfg.get('display_name'):
        set_process_title(cfg['display_name'].replace('%{GROUP}', '(wsgi:%s)' % cfg.get('group', '')))
    import site
    for p in reversed(cfg.get('python_path') or []):
        site.addsitedir(p)
        if p in sys.path:
            sys.path.remove(p)
        sys.path.insert(0, p)
    w = Worker(sock, cfg)
    shm = os.environ.pop('WSGID_SHM', '')
    if shm:
        try:
            w.attach_shm(shm)
        except (OSError, ValueError) as e:
            sys.stderr.write('wsgid: running without shared memory: %s\n' % e)
    # Process output goes to the error log, like mod_wsgi's.
    real_stderr = sys.stderr
    sys.stderr = Errors(w, 0)
    if cfg.get('restrict_stdout'):
        sys.stdout = Restricted('sys.stdout access restricted by wsgid')
    else:
        sys.stdout = Errors(w, 0)
    if cfg.get('restrict_stdin'):
        sys.stdin = Restricted('sys.stdin access restricted by wsgid')
    mod = types.ModuleType('mod_wsgi')
    mod.version = (5, 0, 0)
    mod.process_group = cfg.get('group', '')
    mod.application_group = ''
    mod.threads_per_process = int(cfg.get('threads') or 1)
    mod.maximum_processes = int(cfg.get('processes') or 1)
    sys.modules.setdefault('mod_wsgi', mod)
    for path in cfg.get('import_scripts') or []:
        try:
            w.exec_script(path)
        except AppError:
            pass
    for p in cfg.get('preload') or []:
        try:
            if p.get('script'):
                w.modules[p['script']] = w.exec_script(p['script'])
        except AppError:
            pass
    ver = '%d.%d.%d' % sys.version_info[:3]
    w.queue_out(frame(T_READY, 0, 0, ('pid\0%d\0python\0%s\0' % (w.pid, ver)).encode()), True)
    if cfg.get('reload'):
        threading.Thread(target=watch_modules, args=(w,), daemon=True).start()
    try:
        w.serve()
    finally:
        sys.stderr = real_stderr
    # Let in-flight handlers finish (bounded: wsgid kills us after its timeout).
    for _ in w.threads:
        w.work.put(None)
    for t in w.threads:
        t.join()
    w.flush()
    os._exit(0)


def set_process_title(name):
    """display-name=: best effort, as ps shows it (Linux comm is 15 bytes)."""
    try:
        if sys.platform.startswith('linux'):
            with open('/proc/self/comm', 'w') as f:
                f.write(name[:15])
        elif 'bsd' in sys.platform:
            import ctypes
            ctypes.CDLL(None).setproctitle(b'-%s', name.encode())
    except Exception:
        pass


class Restricted(object):
    def __init__(self, msg):
        self.msg = msg

    def __getattr__(self, name):
        raise IOError(self.msg)


def watch_modules(w):
    """--reload: exit (wsgid restarts us) when a loaded module's file changes."""
    seen = {}
    while True:
        time.sleep(1.0)
        for m in list(sys.modules.values()):
            f = getattr(m, '__file__', None)
            if not f:
                continue
            try:
                mt = os.stat(f).st_mtime
            except OSError:
                continue
            if seen.setdefault(f, mt) != mt:
                w.log(L_NOTICE, 'wsgid (pid=%d): Module file changed: %s; restarting worker' % (w.pid, f))
                w.flush()
                os._exit(3)


if __name__ == '__main__':
    main()
