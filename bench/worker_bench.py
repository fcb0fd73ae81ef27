"""Python-side micro-benchmark: the worker's own path for a batch of
REQUEST frames, as wsgid sends them for the seed app (an environ template
sent once, then ~16 keys per request): decode, dispatch, build the
environ, load the app, call it, encode the reply. No sockets. Prints
microseconds per request.

    python3 bench/worker_bench.py [app.py]   (default: bench/apps/hello.py)
"""
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'internal', 'worker', 'python'))
import wsgid_worker as w  # noqa: E402

SCRIPT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(here, 'apps', 'hello.py')

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


if __name__ == '__main__':
    main()
