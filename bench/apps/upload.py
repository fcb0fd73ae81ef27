def application(environ, start_response):
    """Read the request body in 64 KiB pieces, as an upload handler would,
    and answer with its length."""
    stream, n = environ['wsgi.input'], 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        n += len(chunk)
    body = b'%d' % n
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
