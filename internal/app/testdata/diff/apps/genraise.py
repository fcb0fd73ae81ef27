# A generator that fails before its first block: nothing was sent yet.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    raise ValueError('before the first block')
    yield b'never'
