"""Tests of wsgid_worker.py that need no Go: the frame decoder under
random input, and a worker process driven over a socketpair.

Run by python_test.go (go test ./...), or directly: python3 test_worker.py
"""

import io
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wsgid_worker as w  # noqa: E402


def env_block(environ):
    return b''.join(k.encode('latin-1') + b'\0' + v.encode('latin-1') + b'\0' for k, v in environ.items())


def request_frame(stream, environ, body=b'', end=True, template=0):
    block = env_block(environ)
    return w.frame(w.T_REQUEST, w.F_END if end else 0, stream, w.REQUEST.pack(template, len(block)) + block + body)


class DecoderFuzz(unittest.TestCase):
    def test_random_bytes(self):
        rnd = random.Random(1234)
        valid = request_frame(1, {'REQUEST_METHOD': 'GET'}) + w.frame(w.T_DATA, w.F_END, 1, b'x')
        for i in range(3000):
            if i % 2:
                data = bytearray(valid)
                for _ in range(rnd.randint(1, 6)):
                    data[rnd.randrange(len(data))] = rnd.randrange(256)
            else:
                data = bytearray(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
            try:
                frames, off = w.decode_frames(data, 0, len(data))
            except w.ProtocolError:
                continue
            self.assertLessEqual(off, len(data))
            for t, f, stream, payload in frames:
                self.assertLessEqual(len(payload), w.MAX_PAYLOAD)

    def test_partial_frames_wait(self):
        data = request_frame(7, {'A': 'b'}, b'body')
        for cut in range(len(data)):
            frames, off = w.decode_frames(bytearray(data[:cut]), 0, cut)
            self.assertEqual(frames, [])
            self.assertEqual(off, 0)
        frames, off = w.decode_frames(bytearray(data), 0, len(data))
        self.assertEqual(len(frames), 1)
        self.assertEqual(frames[0][2], 7)


class NeverWaits(unittest.TestCase):
    """Which iterators may keep a reply batched (see Request.run)."""

    def test_kinds(self):
        def gen():
            yield b'x'
        self.assertTrue(w._never_waits(iter([b'a'])))
        self.assertTrue(w._never_waits(iter((b'a',))))
        self.assertFalse(w._never_waits(gen()))
        self.assertFalse(w._never_waits(iter(io.BytesIO(b'a\nb'))))


class FakeReq(object):
    """Enough of a Request for an Input whose body is all here."""
    cancelled = False
    stream = 1
    worker = None

    def __init__(self):
        import threading
        self._cond = threading.Condition()

    def cond(self):
        return self._cond


class InputAgainstBytesIO(unittest.TestCase):
    """wsgi.input keeps the body as the pieces it arrived in; whatever the
    pieces, read/readline/readlines/iteration must give what io.BytesIO
    gives for the same bytes."""

    def test_random(self):
        import io
        rnd = random.Random(99)
        for _ in range(400):
            body = bytes(rnd.choice(b'ab\n') for _ in range(rnd.randint(0, 300)))
            inp = w.Input(FakeReq(), b'', False)
            cut = 0
            while cut < len(body):
                n = rnd.randint(1, 40)
                inp.feed(body[cut:cut + n], False)
                cut += n
            inp.feed(b'', True)
            ref = io.BytesIO(body)
            for _ in range(30):
                op = rnd.randrange(5)
                if op == 0:
                    n = rnd.randint(-1, 50)
                    self.assertEqual(inp.read(n), ref.read(n), (body, n))
                elif op == 1:
                    n = rnd.choice((-1, None, 0, 1, 5, 20))
                    self.assertEqual(inp.readline(n), ref.readline(-1 if n is None else n), (body, n))
                elif op == 2:
                    self.assertEqual(inp.readline(), ref.readline(), body)
                elif op == 3:
                    self.assertEqual(inp.read(), ref.read(), body)
                else:
                    self.assertEqual(list(inp), list(ref), body)
                self.assertIs(type(inp.read(0)), bytes)


class PumpYieldsToNewReader(unittest.TestCase):
    """A request running inline that reads the socket itself (pump) must
    give up at once when the reader role has moved to a new thread, even
    while that thread holds read_lock waiting in recv: blocking on the
    lock there stalled an upload for good."""

    def test_pump_returns_while_new_reader_holds_lock(self):
        import threading
        import time
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        wk = w.Worker(a, {'threads': 1})
        wk.rbuf = bytearray(1024)
        wk.rview = memoryview(wk.rbuf)
        wk.rstart = wk.rend = 0
        wk.reader_ident = threading.get_ident()
        held, release = threading.Event(), threading.Event()

        def new_reader():
            with wk.read_lock:
                wk.reader_gen += 1
                wk.reader_ident = threading.get_ident()
                held.set()
                release.wait(10)
        t = threading.Thread(target=new_reader)
        t.start()
        self.addCleanup(t.join)
        self.addCleanup(release.set)
        held.wait(5)
        start = time.monotonic()
        self.assertFalse(wk.pump(lambda: False))
        self.assertLess(time.monotonic() - start, 2.0)


APP = r'''
import sys
def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    if path == '/error':
        raise ValueError('boom')
    if path == '/bad-status':
        start_response('OK', [])
        return [b'x']
    if path == '/hop':
        start_response('200 OK', [('Connection', 'close')])
        return [b'x']
    if path == '/input':
        data = environ['wsgi.input'].read()
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'%d' % len(data)]
    if path == '/big':
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return [b'x' * (1 << 20)]
    if path == '/pattern':
        # bytes that differ by position, in pieces of the sizes asked
        sizes = [int(n) for n in environ['QUERY_STRING'].split(',')]
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return [pattern(sum(sizes[:i]), n) for i, n in enumerate(sizes)]
    if path == '/inherited':
        # what an application could see of the shared region's fd
        start_response('200 OK', [('Content-Type', 'text/plain')])
        import os
        fds = []
        for fd in os.listdir('/proc/self/fd'):
            try:
                fds.append('%s:%s:%s' % (fd, os.readlink('/proc/self/fd/' + fd), os.get_inheritable(int(fd))))
            except OSError:
                pass  # the listing's own descriptor
        return [('%s|%s' % (os.environ.get('WSGID_SHM'), '|'.join(fds))).encode()]
    if path == '/gen':
        # A generator's reply: one block, or with a query of seconds, a
        # second block after that pause.
        start_response('200 OK', [('Content-Type', 'text/plain')])
        def gen():
            yield b'first'
            yield b''
            if environ.get('QUERY_STRING'):
                import time
                time.sleep(float(environ['QUERY_STRING']))
                yield b'second'
        return gen()
    if path == '/slow':
        import time
        time.sleep(0.6)
    if path == '/log':
        environ['wsgi.errors'].write('app says hi\n')
    if path == '/env':
        keys = sorted(k for k in environ if k.isupper() or k.startswith('X_'))
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [' '.join('%s=%s' % (k, environ[k]) for k in keys).encode()]
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'hello ', path.encode()]
'''


def pattern(start, n):
    return bytes((i * 7 + (i >> 8)) & 0xff for i in range(start, start + n))


class WorkerProcess(unittest.TestCase):
    # Slots of the shared region passed to the worker; 0 = no region
    # (WorkerProcessShm runs every test again with one).
    shm_slots = 0

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.script = os.path.join(self.dir, 'app.py')
        with open(self.script, 'w') as f:
            f.write(APP.replace('import sys\n', 'import sys\n' + 'def pattern(start, n):\n' +
                                '    return bytes((i * 7 + (i >> 8)) & 0xff for i in range(start, start + n))\n', 1))
        parent, child = socket.socketpair()
        cfg = {'group': 't', 'threads': 2, 'error_log_level': 7}
        env = dict(os.environ, WSGID_WORKER_CONFIG=json.dumps(cfg), WSGID_WORKER_FD=str(child.fileno()))
        fds = [child.fileno()]
        self.shm = None
        self.shm_held = []   # slots not handed back yet (hold_slots)
        self.hold_slots = False
        if self.shm_slots:
            import mmap
            size = (self.shm_slots + 2) * SLOT  # and two slots of "wsgid's"
            fd = os.memfd_create('test-shm')
            os.ftruncate(fd, size)
            self.shm = mmap.mmap(fd, size)
            env['WSGID_SHM'] = '%d,%d,%d,%d' % (fd, size, SLOT, self.shm_slots)
            fds.append(fd)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'wsgid_worker.py')],
                                     pass_fds=fds, env=env)
        if self.shm is not None:
            os.close(fds[1])
        child.close()
        self.sock = parent
        self.sock.settimeout(10)
        self.buf = bytearray()
        t, f, stream, payload = self.next_frame()
        self.assertEqual(t, w.T_READY)
        self.assertIn(b'pid\0', payload)

    def tearDown(self):
        self.sock.sendall(w.frame(w.T_SHUTDOWN, 0, 0))
        self.proc.wait(10)
        self.sock.close()

    def next_frame(self):
        while True:
            frames, off = w.decode_frames(self.buf, 0, len(self.buf))
            if frames:
                n = w.HSIZE + len(frames[0][3])
                del self.buf[:n]
                return frames[0]
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data

    def response(self, stream):
        """Collect (status, body, logs) for a stream until it ends."""
        status, body, logs = None, b'', []
        while True:
            t, f, s, payload = self.next_frame()
            if t == w.T_LOG:
                logs.append(payload.decode())
                continue
            self.assertEqual(s, stream)
            if t == w.T_HEADERS:
                n = struct.unpack_from('<I', payload)[0]
                status = payload[4:4 + n].split(b'\0')[0].decode()
                body += payload[4 + n:]
            elif t == w.T_DATA:
                body += payload
            elif t == w.T_SHM_DATA:
                body += self.take_shm(payload)
            elif t == w.T_ERROR:
                return 'error %d' % struct.unpack_from('<H', payload)[0], body, logs
            elif t == w.T_READ:
                continue
            if f & w.F_END:
                return status, body, logs

    def take_shm(self, payload):
        """The bytes a T_SHM_DATA frame names; the slot goes back to the
        worker unless hold_slots is set."""
        self.assertIsNotNone(self.shm, 'T_SHM_DATA without a region')
        off, n = struct.unpack('<II', payload)
        self.assertEqual(off % SLOT, 0)
        self.assertLessEqual(n, SLOT)
        data = self.shm[off:off + n]
        if self.hold_slots:
            self.shm_held.append(off)
        else:
            self.sock.sendall(w.frame(w.T_SHM_FREE, 0, 0, struct.pack('<I', off)))
        return data

    def env(self, path):
        return {'REQUEST_METHOD': 'GET', 'SCRIPT_FILENAME': self.script, 'PATH_INFO': path, 'SCRIPT_NAME': ''}

    def test_batch_of_requests(self):
        self.sock.sendall(b''.join(request_frame(i, self.env('/n%d' % i)) for i in range(1, 17)))
        got = {}
        while len(got) < 16:
            t, f, s, payload = self.next_frame()
            if t == w.T_LOG:
                continue
            self.assertEqual(t, w.T_HEADERS)
            self.assertTrue(f & w.F_END)
            got[s] = payload
        for i in range(1, 17):
            self.assertTrue(got[i].endswith(b'hello /n%d' % i))

    def reply_frames(self, streams):
        """The frames of each stream's reply, up to the one that ends it,
        with the time each arrived."""
        import time
        frames = {s: [] for s in streams}
        while any(not f or not f[-1][1] & w.F_END for f in frames.values()):
            t, f, s, payload = self.next_frame()
            if t != w.T_LOG:
                frames[s].append((t, f, bytes(payload), time.monotonic()))
        return frames

    def test_generator_single_block_is_one_frame(self):
        """A generator whose one block is still in the batch when it ends
        goes out as headers, block and end in one frame, as a list's
        reply does, past the batch's 16 frames too. A request that runs
        long on a loaded machine may have its block sent by watch_inline
        first, so most, not all, must be one frame."""
        n = 40
        self.sock.sendall(b''.join(request_frame(i, self.env('/gen')) for i in range(1, n + 1)))
        one = 0
        for s, frames in self.reply_frames(range(1, n + 1)).items():
            self.assertEqual(frames[0][0], w.T_HEADERS)
            self.assertEqual(b''.join(p for _, _, p, _ in frames[1:]), b'')
            self.assertTrue(frames[0][2].endswith(b'first'))
            one += len(frames) == 1
        self.assertGreaterEqual(one, n * 3 // 4)

    def test_generator_block_not_held_for_the_next(self):
        """PEP 3333: a block is on its way before the application is asked
        for the next, even though the first went into the reader's batch
        (watch_inline sends it). The end then follows as a frame of its
        own."""
        import time
        start = time.monotonic()
        self.sock.sendall(request_frame(1, dict(self.env('/gen'), QUERY_STRING='0.5')))
        frames = self.reply_frames([1])[1]
        self.assertEqual((frames[0][0], frames[0][1] & w.F_END), (w.T_HEADERS, 0))
        self.assertTrue(frames[0][2].endswith(b'first'))
        self.assertLess(frames[0][3] - start, 0.4)
        self.assertEqual(b''.join(p for t, _, p, _ in frames[1:]), b'second')
        self.assertGreaterEqual(frames[-1][3] - start, 0.5)

    def test_slow_request_does_not_hold_up_others(self):
        """A slow request run inline loses the reader role: the fast one
        sent with it in the same batch is answered first."""
        self.slow_then_fast()

    def test_slow_request_after_idle(self):
        """The same once the watch has gone to sleep (idle longer than
        WATCH_IDLE): starting the request must wake it."""
        import time
        time.sleep(w.Worker.WATCH_IDLE * 4)
        self.slow_then_fast()

    def test_slow_request_while_busy(self):
        """The same while requests keep coming (the watch polls)."""
        import time
        for i in range(10):
            self.sock.sendall(request_frame(20 + i, self.env('/busy')))
            self.response(20 + i)
            time.sleep(w.Worker.WATCH_IDLE / 10)
        self.slow_then_fast()

    def slow_then_fast(self):
        import time
        t0 = time.monotonic()
        self.sock.sendall(request_frame(1, self.env('/slow')) + request_frame(2, self.env('/fast')))
        order = []
        while len(order) < 2:
            t, f, s, payload = self.next_frame()
            if t == w.T_HEADERS:
                order.append((s, time.monotonic() - t0))
        self.assertEqual(order[0][0], 2, order)
        self.assertLess(order[0][1], 0.4, order)
        # And the process keeps serving afterwards.
        self.sock.sendall(request_frame(3, self.env('/after')))
        status, body, _ = self.response(3)
        self.assertEqual(body, b'hello /after')

    def test_big_body_waits_for_window(self):
        """A 1 MiB body goes out in window-sized pieces as credit comes."""
        self.sock.sendall(request_frame(5, self.env('/big')))
        got, granted, done = 0, 0, False
        while not done:
            t, f, s, payload = self.next_frame()
            if t == w.T_LOG:
                continue
            self.assertEqual(s, 5)
            n = len(payload)
            if t == w.T_HEADERS:
                n -= 4 + struct.unpack_from('<I', payload)[0]
            elif t == w.T_SHM_DATA:
                n = len(self.take_shm(payload))
            got += n
            # Never more outstanding than the window allows.
            self.assertLessEqual(got - granted, w.DEFAULT_WINDOW)
            if n:
                granted += n
                self.sock.sendall(w.frame(w.T_WINDOW, 0, 5, struct.pack('<I', n)))
            done = bool(f & w.F_END)
        self.assertEqual(got, 1 << 20)

    def test_errors_are_500_with_traceback_in_log(self):
        for path in ('/error', '/bad-status', '/hop'):
            self.sock.sendall(request_frame(1, self.env(path)))
            status, body, logs = self.response(1)
            self.assertEqual(status, 'error 500', path)
            self.assertTrue(any('Exception occurred processing WSGI script' in l for l in logs), logs)

    def test_missing_script_and_callable(self):
        env = self.env('/')
        env['SCRIPT_FILENAME'] = os.path.join(self.dir, 'nope.py')
        self.sock.sendall(request_frame(1, env))
        status, _, logs = self.response(1)
        self.assertEqual(status, 'error 500')
        self.assertTrue(any('Could not read/compile source file' in l for l in logs), logs)
        env = self.env('/')
        env['mod_wsgi.callable_object'] = 'missing'
        self.sock.sendall(request_frame(2, env))
        status, _, logs = self.response(2)
        self.assertEqual(status, 'error 500')
        self.assertTrue(any('does not contain WSGI application' in l for l in logs), logs)

    def test_streamed_input(self):
        self.sock.sendall(request_frame(3, self.env('/input'), b'abc', end=False))
        t, f, s, payload = self.next_frame()
        self.assertEqual((t, s), (w.T_READ, 3))
        self.sock.sendall(w.frame(w.T_DATA, 0, 3, b'x' * 1000) + w.frame(w.T_DATA, w.F_END, 3, b''))
        status, body, _ = self.response(3)
        self.assertEqual((status, body), ('200 OK', b'1003'))

    def test_templates(self):
        """A request's environ is its template's keys, then its own: its
        own win, and templates are kept by id until redefined."""
        fixed = {'SCRIPT_FILENAME': self.script, 'SCRIPT_NAME': '', 'X_A': 'template', 'X_B': 'template'}
        self.sock.sendall(w.frame(w.T_TEMPLATE, 0, 5, env_block(fixed)) +
                          request_frame(1, {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/env', 'X_B': 'own'}, template=5) +
                          request_frame(2, {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/env'}, template=5))
        for stream, xb in ((1, 'own'), (2, 'template')):
            status, body, _ = self.response(stream)
            self.assertEqual(status, '200 OK')
            self.assertIn(b'X_A=template X_B=%s' % xb.encode(), body)
            self.assertIn(b'PATH_INFO=/env REQUEST_METHOD=GET', body)
        fixed['X_A'] = 'redefined'
        self.sock.sendall(w.frame(w.T_TEMPLATE, 0, 5, env_block(fixed)) +
                          request_frame(3, {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/env'}, template=5))
        status, body, _ = self.response(3)
        self.assertIn(b'X_A=redefined', body)
        # A template never sent is wsgid's bug: the request fails, the
        # process carries on.
        self.sock.sendall(request_frame(4, {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/env'}, template=9))
        status, _, logs = self.response(4)
        self.assertEqual(status, 'error 500')
        self.assertTrue(any('unknown environ template 9' in l for l in logs), logs)
        self.sock.sendall(request_frame(6, self.env('/after')))
        self.assertEqual(self.response(6)[1], b'hello /after')

    def test_errors_stream_logs(self):
        self.sock.sendall(request_frame(4, self.env('/log')))
        status, body, logs = self.response(4)
        self.assertEqual(status, '200 OK')
        self.assertIn('app says hi', ''.join(logs))


SLOT = 256 << 10


class WorkerProcessShm(WorkerProcess):
    """Every WorkerProcess test again, with a shared region of four
    slots; and what only a region can show."""
    shm_slots = 4

    def frames(self, stream, query):
        """Run /pattern?query; return the body and the frame types it came in."""
        env = self.env('/pattern')
        env['QUERY_STRING'] = query
        self.sock.sendall(request_frame(stream, env))
        kinds, body = [], b''
        while True:
            t, f, s, payload = self.next_frame()
            if t == w.T_LOG:
                continue
            self.assertEqual(s, stream)
            if t == w.T_HEADERS:
                n = struct.unpack_from('<I', payload)[0]
                body += payload[4 + n:]
                kinds.append('H%d' % len(payload[4 + n:]))
            elif t == w.T_DATA:
                body += payload
                kinds.append('D%d' % len(payload))
            elif t == w.T_SHM_DATA:
                piece = self.take_shm(payload)
                body += piece
                kinds.append('S%d' % len(piece))
            else:
                self.fail('frame type %#x' % t)
            if f & w.F_END:
                return body, kinds, t
            if t != w.T_HEADERS or len(payload) > 4 + n:
                self.sock.sendall(w.frame(w.T_WINDOW, 0, stream, struct.pack('<I', len(body))))

    def test_large_pieces_use_slots(self):
        # 600 KiB: two full slots, then the 88 KiB rest in a third; the
        # end flag on the last frame.
        n = 600 << 10
        body, kinds, last = self.frames(1, str(n))
        self.assertEqual(body, pattern(0, n))
        self.assertEqual(kinds, ['H0', 'S%d' % SLOT, 'S%d' % SLOT, 'S%d' % (n - 2 * SLOT)])
        self.assertEqual(last, w.T_SHM_DATA)

    def test_small_pieces_and_rests_use_the_socket(self):
        # A body under 64 KiB goes in the frame; so does the rest of a
        # large one once it is under 64 KiB.
        for stream, n, want in ((2, 1000, ['H1000']), (3, SLOT + 100, ['H0', 'S%d' % SLOT, 'D100']),
                                (4, 65535, ['H65535']), (6, 65536, ['H0', 'S65536'])):
            body, kinds, _ = self.frames(stream, str(n))
            self.assertEqual(body, pattern(0, n))
            self.assertEqual(kinds, want, n)

    def test_no_free_slot_falls_back_to_the_socket(self):
        """Slots not handed back are not reused: the rest goes over the
        socket, and the body is whole."""
        self.hold_slots = True
        n = 5 * SLOT + 10
        body, kinds, _ = self.frames(3, str(n))
        self.assertEqual(body, pattern(0, n))
        self.assertEqual(kinds[:5], ['H0'] + ['S%d' % SLOT] * 4)
        self.assertTrue(all(k.startswith('D') for k in kinds[5:]), kinds)
        self.assertEqual(sorted(self.shm_held), [i * SLOT for i in range(4)])
        # Handed back, they are used again.
        for off in self.shm_held:
            self.sock.sendall(w.frame(w.T_SHM_FREE, 0, 0, struct.pack('<I', off)))
        self.hold_slots = False
        body, kinds, _ = self.frames(4, str(SLOT))
        self.assertEqual(kinds, ['H0', 'S%d' % SLOT])

    def test_request_body_in_slots(self):
        """Body pieces in wsgid's slots reach wsgi.input, and each slot
        comes back (SHM_FREE) as soon as its bytes are copied out."""
        own = [4 * SLOT, 5 * SLOT]
        self.shm[own[0]:own[0] + SLOT] = b'a' * SLOT
        self.shm[own[1]:own[1] + 1000] = b'b' * 1000
        self.sock.sendall(request_frame(7, self.env('/input'), b'xyz', end=False))
        t, f, s, payload = self.next_frame()
        self.assertEqual((t, s), (w.T_READ, 7))
        self.sock.sendall(w.frame(w.T_SHM_DATA, 0, 7, struct.pack('<II', own[0], SLOT)) +
                          w.frame(w.T_SHM_DATA, w.F_END, 7, struct.pack('<II', own[1], 1000)))
        freed, status, body = [], None, b''
        while status is None:
            t, f, s, payload = self.next_frame()
            if t == w.T_SHM_FREE:
                freed.append(struct.unpack('<I', payload)[0])
            elif t == w.T_HEADERS:
                n = struct.unpack_from('<I', payload)[0]
                status, body = payload[4:4 + n].split(b'\0')[0], payload[4 + n:]
        self.assertEqual(body, b'%d' % (3 + SLOT + 1000))
        self.assertEqual(sorted(freed), own)

    def test_bad_request_slot_is_ignored(self):
        """A frame naming one of the worker's own slots, or past the
        region, is wsgid's bug: logged, not read."""
        self.sock.sendall(request_frame(8, self.env('/input'), b'xyz', end=False))
        t, f, s, payload = self.next_frame()
        self.assertEqual(t, w.T_READ)
        self.sock.sendall(w.frame(w.T_SHM_DATA, 0, 8, struct.pack('<II', 0, 10)) +
                          w.frame(w.T_SHM_DATA, 0, 8, struct.pack('<II', 6 * SLOT, 10)) +
                          w.frame(w.T_DATA, w.F_END, 8, b'!'))
        status, body, logs = self.response(8)
        self.assertEqual(body, b'4')
        self.assertEqual(sum('bad shared-memory frame' in l for l in logs), 2, logs)

    def test_region_not_inherited(self):
        env = self.env('/inherited')
        self.sock.sendall(request_frame(5, env))
        status, body, _ = self.response(5)
        self.assertTrue(body.startswith(b'None|'), body)  # WSGID_SHM is gone
        fds = body.decode().split('|')[1:]
        memfds = [f for f in fds if 'memfd:' in f]
        # the mapping's own descriptor, which a child process does not inherit
        self.assertEqual(len(memfds), 1, fds)
        self.assertTrue(memfds[0].endswith(':False'), memfds)


if __name__ == '__main__':
    unittest.main()
