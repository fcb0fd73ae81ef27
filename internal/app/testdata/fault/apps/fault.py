# Misbehaves on request, by PATH_INFO; see fault_test.go.
import ctypes
import os
import time

hoard = []


class Stream(object):
    """A slow streamed body whose close() leaves a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __iter__(self):
        for i in range(100):
            yield b'chunk %d\n' % i + b'.' * 8192
            time.sleep(0.05)

    def close(self):
        with open(self.marker, 'w') as f:
            f.write('closed')


class Quiet(Stream):
    """A body that takes 20 s to produce nothing at all."""

    def __iter__(self):
        for i in range(400):
            yield b''
            time.sleep(0.05)


def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    q = environ.get('QUERY_STRING', '')
    headers = [('Content-Type', 'text/plain')]
    if path == '/slow':
        time.sleep(int(q or 0) / 1000.0)
    elif path == '/exit':
        os._exit(1)
    elif path == '/segv':
        ctypes.string_at(0)
    elif path == '/garbage':
        os.write(int(os.environ.get('WSGID_WORKER_FD') or 3), b'this is not a wsgid frame at all')
        time.sleep(1)
    elif path == '/hang':
        time.sleep(3600)
    elif path == '/leak':
        block = bytearray(int(q) << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        hoard.append(block)
    elif path == '/stream':
        start_response('200 OK', headers)
        return Stream(q)
    elif path == '/quiet':
        start_response('200 OK', headers)
        return Quiet(q)
    start_response('200 OK', headers)
    return [str(os.getpid()).encode()]
