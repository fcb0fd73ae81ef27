"""PEP 3333 behaviours exercised through the real server. Every route runs
under wsgiref.validate.validator, with warnings turned into errors, so a
gateway that breaks the spec fails the request (500) instead of passing."""
import os
import sys
import tempfile
import warnings
from wsgiref.validate import validator

warnings.simplefilter('error')
CLOSED = []


class Closing(object):
    def __init__(self, chunks):
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        CLOSED.append(1)


def raw(environ, start_response):
    path = environ['PATH_INFO']
    inp = environ['wsgi.input']
    if path == '/read-n':
        parts = []
        while True:
            b = inp.read(3)
            if not b:
                break
            parts.append(b)
        body = b'|'.join(parts)
    elif path == '/readline':
        body = b'|'.join([inp.readline(), inp.readline(2), inp.readline()])
    elif path == '/readlines':
        body = b'%d' % len(inp.readlines())
    elif path == '/iterate':
        body = b'%d' % sum(1 for _ in inp)
    elif path == '/read-all':
        body = inp.read(int(environ.get('CONTENT_LENGTH') or 0))
        body = b'%d %s' % (len(body), body[:8])
    elif path == '/write':
        write = start_response('200 OK', [('Content-Type', 'text/plain')])
        write(b'written ')
        return [b'then returned']
    elif path == '/closed':
        body = b'%d' % len(CLOSED)
    elif path == '/close':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return Closing([b'a', b'b'])
    elif path == '/exc-info':
        try:
            raise ValueError('x')
        except ValueError:
            start_response('500 Internal Server Error', [('Content-Type', 'text/plain')], sys.exc_info())
        return [b'error page from app']
    elif path == '/file':
        fd, name = tempfile.mkstemp()
        os.write(fd, b'0123456789' * 1000)
        os.close(fd)
        f = open(name, 'rb')
        os.unlink(name)
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return environ['wsgi.file_wrapper'](f, 4096)
    elif path == '/big':
        body = b'y' * (3 << 20)  # above the response window: sent as credit comes
    elif path == '/short':
        start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '100')])
        return [b'only ten b']
    elif path == '/env':
        keys = ['wsgi.version', 'wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once', 'wsgi.url_scheme',
                'wsgi.input_terminated']
        body = ' '.join('%s=%r' % (k, environ.get(k)) for k in keys).encode()
    else:
        body = b'hello'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]


def application(environ, start_response):
    # The validator rejects chunked-less bodies without CONTENT_LENGTH reads
    # beyond it; /short deliberately breaks Content-Length, so skip it there.
    if environ['PATH_INFO'] in ('/short', '/write'):
        return raw(environ, start_response)
    return validator(raw)(environ, start_response)
