# A header value outside latin-1: start_response must refuse it.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('X-Bad', 'caf\u20ac')])
    return [b'unreachable']
