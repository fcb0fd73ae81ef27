def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('X-Multi', 'a'), ('X-Multi', 'b')])
    for i in range(5):
        yield b'chunk %d\n' % i
