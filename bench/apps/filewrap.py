import os

PATH = os.environ.get('BENCH_FILE', '/tmp/wsgid-bench-64M')


def application(environ, start_response):
    f = open(PATH, 'rb')
    start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(os.fstat(f.fileno()).st_size))])
    return environ['wsgi.file_wrapper'](f, 1 << 16)
