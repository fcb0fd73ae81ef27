"""Python-side micro-benchmark: decode a batch of REQUEST frames, build
the environ, call the seed app, encode the reply, as the worker does, with
no sockets. Prints microseconds per request.

    python3 bench/worker_bench.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'internal', 'worker', 'python'))
import wsgid_worker as w  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'apps'))
from hello import application  # noqa: E402


class NullWorker(w.Worker):
    def __init__(self):
        w.Worker.__init__(self, None, {'threads': 1})
        self.out = []

    def queue_out(self, data, flush):
        self.out.append(data)

    def queue_body(self, head, body, flush):
        self.out.append(head + bytes(body))


def main(batch=16, rounds=20000):
    env = {'REQUEST_METHOD': 'GET', 'SCRIPT_NAME': '/wsgi/sample.py', 'PATH_INFO': '', 'QUERY_STRING': '',
           'SERVER_NAME': 'localhost', 'SERVER_PORT': '8080', 'REMOTE_ADDR': '127.0.0.1', 'REMOTE_PORT': '50000',
           'SERVER_PROTOCOL': 'HTTP/1.1', 'HTTP_HOST': '127.0.0.1:8080', 'wsgi.url_scheme': 'http',
           'SCRIPT_FILENAME': '/x/sample.py', 'mod_wsgi.process_group': '', 'mod_wsgi.application_group': 'x|/s'}
    block = b''.join(k.encode() + b'\0' + v.encode() + b'\0' for k, v in env.items())
    data = bytearray(b''.join(w.block_frame(w.T_REQUEST, w.F_END, i + 1, block) for i in range(batch)))
    worker = NullWorker()
    start = time.perf_counter()
    for _ in range(rounds // batch):
        frames, _ = w.decode_frames(data, 0, len(data))
        for t, f, stream, payload in frames:
            n = w.U32.unpack_from(payload)[0]
            req = w.Request(worker, stream, payload[4:4 + n], payload[4 + n:], True)
            environ = req.environ(0, 0)
            result = application(environ, req.start_response)
            req.send(b''.join(result), True)
        del worker.out[:]
    per = (time.perf_counter() - start) / (rounds // batch * batch) * 1e6
    print('decode + environ + app + encode: %.2f us per request (batch %d)' % (per, batch))


if __name__ == '__main__':
    main()
