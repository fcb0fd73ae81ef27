import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import helper


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%s %d' % (helper.VALUE, os.getpid())).encode()]
