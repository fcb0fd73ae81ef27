# A streaming response. Between blocks it waits for the test to create
# the files 1 and 2 in the directory named in the query string: a block
# that is not sent before the application goes on is never seen.
import os
import time


def wait_for(path):
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    d = environ['QUERY_STRING']
    yield b'first\n'
    wait_for(os.path.join(d, '1'))
    # By now the request has run long enough to lose the worker's reader
    # role (if it had it): the next block leaves from an ordinary thread.
    time.sleep(0.1)
    yield b'second\n'
    wait_for(os.path.join(d, '2'))
    yield b'third\n'
