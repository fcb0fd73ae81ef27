# Sends more than its Content-Length: the excess is cut.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '5')])
    return [b'12345', b'67890']
