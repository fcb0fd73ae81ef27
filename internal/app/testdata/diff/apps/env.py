import json

KEYS = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI', 'CONTENT_TYPE',
        'CONTENT_LENGTH', 'SERVER_PROTOCOL', 'GATEWAY_INTERFACE', 'HTTP_X_TEST', 'HTTP_X_FOO',
        'HTTP_AUTHORIZATION', 'mod_wsgi.callable_object', 'mod_wsgi.script_reloading', 'wsgi.url_scheme',
        'wsgi.input_terminated', 'wsgi.run_once', 'CONTEXT_PREFIX', 'mod_wsgi.request_handler']


def application(environ, start_response):
    out = {k: environ.get(k) for k in KEYS}
    out['version'] = list(environ['wsgi.version'])
    out['http_keys'] = sorted(k for k in environ if k.startswith('HTTP_') and k not in (
        'HTTP_HOST', 'HTTP_USER_AGENT', 'HTTP_ACCEPT_ENCODING', 'HTTP_CONNECTION'))
    body = json.dumps(out, sort_keys=True).encode()
    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]
