# Dumps the WSGI environ as JSON: every str value, and the wsgi.* flags.
import json


def application(environ, start_response):
    out = {k: v for k, v in environ.items() if isinstance(v, str)}
    for k in ('wsgi.version', 'wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once',
              'wsgi.input_terminated', 'mod_wsgi.version'):
        if k in environ:
            out[k] = repr(environ[k])
    out['body'] = environ['wsgi.input'].read().decode('latin-1')
    body = json.dumps(out, sort_keys=True).encode()
    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]
