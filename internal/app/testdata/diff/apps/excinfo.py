# start_response with exc_info after a failure, before any body.
import sys


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    try:
        raise KeyError('x')
    except KeyError:
        start_response('503 Busy', [('Content-Type', 'text/plain'), ('Retry-After', '5')], sys.exc_info())
    return [b'try later']
