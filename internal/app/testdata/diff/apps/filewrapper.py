# wsgi.file_wrapper over a regular file.
import os


def application(environ, start_response):
    f = open(os.path.join(os.path.dirname(__file__), '..', 'htdocs', 'data.txt'), 'rb')
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return environ['wsgi.file_wrapper'](f, 4096)
