def application(environ, start_response):
    body = ('%s|%s|%s' % (environ['SCRIPT_NAME'], environ['PATH_INFO'], environ.get('HTTP_PROXY', '-'))).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
