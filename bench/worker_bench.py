"""Python-side micro-benchmark: the worker's own path for a batch of
REQUEST frames, as wsgid sends them for the seed app (an environ template
sent once, then ~16 keys per request): decode, dispatch, build the
environ, load the app, call it, encode the reply. No sockets. Prints
microseconds per request.

    python3 bench/worker_bench.py [app.py]   (default: bench/apps/hello.py)

With --floor PROCESSES SECONDS it measures instead the issue's in-process
floor: PROCESSES processes (forked after the application is loaded, as
wsgid's workers each hold it) call the application directly in a loop,
with the environ the worker would build, for the same SECONDS, all at
once. It prints one line, `floor REQUESTS requests CPU_US us/req`: what
the same worker processes reach with no server in front of them (bench/run
reports wsgid's throughput as a fraction of it).
"""
import io
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'internal', 'worker', 'python'))
import wsgid_worker as w  # noqa: E402

ARGS = sys.argv[1:]
FLOOR = None
if ARGS[:1] == ['--floor']:
    FLOOR = (int(ARGS[1]), float(ARGS[2]))
    ARGS = ARGS[3:]
SCRIPT = os.path.abspath(ARGS[0]) if ARGS else os.path.join(here, 'apps', 'hello.py')

# What wsgid sends for GET / from wrk to the seed app in quick mode.
FIXED = {
    'SERVER_PROTOCOL': 'HTTP/1.1', 'SCRIPT_NAME': '', 'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '8080',
    'SERVER_ADDR': '127.0.0.1', 'REQUEST_SCHEME': 'http', 'wsgi.url_scheme': 'http', 'GATEWAY_INTERFACE': 'CGI/1.1',
    'SERVER_SOFTWARE': 'wsgid/0.1.0 (linux)', 'SERVER_ADMIN': '[no address given]', 'SERVER_SIGNATURE': '',
    'DOCUMENT_ROOT': os.path.dirname(SCRIPT), 'CONTEXT_PREFIX': '', 'CONTEXT_DOCUMENT_ROOT': os.path.dirname(SCRIPT),
    'SCRIPT_FILENAME': SCRIPT, 'mod_wsgi.process_group': 'wsgid-serve', 'mod_wsgi.application_group': '127.0.0.1:8080|',
    'mod_wsgi.callable_object': 'application', 'mod_wsgi.request_handler': 'wsgi-script',
    'mod_wsgi.handler_script': '', 'mod_wsgi.script_reloading': '1', 'mod_wsgi.listener_host': '127.0.0.1',
    'mod_wsgi.listener_port': '8080', 'mod_wsgi.script_name': '', 'mod_wsgi.daemon_connects': '1',
    'mod_wsgi.daemon_restarts': '0',
}
OWN = {
    'REQUEST_METHOD': 'GET', 'PATH_INFO': '/', 'QUERY_STRING': '', 'REQUEST_URI': '/', 'REMOTE_ADDR': '127.0.0.1',
    'REMOTE_PORT': '50000', 'HTTP_HOST': '127.0.0.1:8080', 'PATH_TRANSLATED': SCRIPT + '/',
    'mod_wsgi.path_info': '/', 'mod_wsgi.request_id': 'abc', 'mod_wsgi.connection_id': '127.0.0.1:50000',
    'mod_wsgi.request_start': '1796003217219656', 'mod_wsgi.queue_start': '1796003217219656',
}


def block(env):
    return b''.join(k.encode() + b'\0' + v.encode() + b'\0' for k, v in env.items())


class NullWorker(w.Worker):
    """A worker whose replies go nowhere and whose reader never blocks."""

    def __init__(self):
        w.Worker.__init__(self, None, {'threads': 1, 'group': 'wsgid-serve'})
        self.out = []
        self.reader_ident = 0

    def _flush_locked(self):
        self.pending = []
        self.pending_count = 0


def main(batch=16, rounds=32000):
    own = block(OWN)
    data = bytearray(b''.join(w.frame(w.T_REQUEST, w.F_END, i + 1, w.REQUEST.pack(1, len(own)) + own)
                              for i in range(batch)))
    worker = NullWorker()
    worker.dispatch(w.T_TEMPLATE, 0, 1, block(FIXED))

    def one_batch():
        # read_once without the socket
        worker.batch += 1
        frames, _ = w.decode_frames(data, 0, len(data))
        worker.inline_ok = worker.inline_allowed()
        for t, f, stream, payload in frames:
            worker.dispatch(t, f, stream, payload)
        worker.run_inline(0)

    one_batch()  # loads the application (Flask's imports: 130 ms) outside the timing
    start = time.perf_counter()
    for _ in range(rounds // batch):
        one_batch()
    per = (time.perf_counter() - start) / (rounds // batch * batch) * 1e6
    print('decode + dispatch + environ + app + encode: %.2f us per request (batch %d)' % (per, batch))


def floor(processes, seconds):
    """Each child calls the application in a loop over one shared window
    and reports its call count and CPU time through a pipe."""
    worker = NullWorker()
    worker.dispatch(w.T_TEMPLATE, 0, 1, block(FIXED))
    env = dict(FIXED)
    env.update(OWN)
    env.update({'wsgi.version': (1, 0), 'wsgi.multithread': True, 'wsgi.multiprocess': True,
                'wsgi.run_once': False, 'wsgi.errors': sys.stderr})
    app = worker.load(dict(env, **{'wsgi.input': io.BytesIO()}), 1)

    def start_response(status, headers, exc_info=None):
        return None

    def call():
        out = app(dict(env, **{'wsgi.input': io.BytesIO()}), start_response)
        try:
            for _ in out:
                pass
        finally:
            close = getattr(out, 'close', None)
            if close is not None:
                close()

    call()
    begin = time.monotonic() + 0.2  # every child starts and stops together
    end = begin + seconds
    r, wr = os.pipe()
    kids = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            while time.monotonic() < begin:
                time.sleep(0.001)
            n, cpu = 0, time.process_time()
            while time.monotonic() < end:
                for _ in range(16):
                    call()
                n += 16
            os.write(wr, ('%d %f\n' % (n, time.process_time() - cpu)).encode())
            os._exit(0)
        kids.append(pid)
    os.close(wr)
    with os.fdopen(r) as f:
        lines = f.read().split()
    for pid in kids:
        os.waitpid(pid, 0)
    n = sum(int(x) for x in lines[0::2])
    cpu = sum(float(x) for x in lines[1::2])
    print('floor %d requests %.1f us/req' % (n, cpu * 1e6 / max(n, 1)))


if __name__ == '__main__':
    if FLOOR:
        floor(*FLOOR)
    else:
        main()
