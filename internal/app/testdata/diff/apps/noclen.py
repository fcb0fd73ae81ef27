# One block, no Content-Length: mod_wsgi computes it for a one-item list.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'no length given']
