import time


def application(environ, start_response):
    # /slow/<seconds> sleeps first: a request in flight across a restart.
    path = environ.get('PATH_INFO', '')
    if path.startswith('/slow/'):
        time.sleep(float(path[len('/slow/'):]))
    body = environ.get('GREETING', '-').encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
