def application(environ, start_response):
    body = ('hello %s|%s' % (environ['SCRIPT_NAME'], environ['PATH_INFO'])).encode()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body]
