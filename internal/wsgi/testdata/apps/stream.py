# A streaming response: the first block, then nothing until the test
# creates the file named in the query string.
import os
import time


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    marker = environ['QUERY_STRING']
    yield b'first\n'
    deadline = time.monotonic() + 10
    while not os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.01)
    yield b'second\n'
