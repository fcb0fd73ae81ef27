import os

# bench/run writes a 64 MiB file next to the apps directory.
PATH = os.environ.get('BENCH_FILE') or os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '64M')


def application(environ, start_response):
    f = open(PATH, 'rb')
    start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(os.fstat(f.fileno()).st_size))])
    return environ['wsgi.file_wrapper'](f, 1 << 16)
