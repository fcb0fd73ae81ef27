def application(environ, start_response):
    start_response('500 Oops', [('X-First', '1')])
    start_response('202 Accepted', [('Content-Type', 'text/plain')])
    return [b'second wins']
