import json


def application(environ, start_response):
    out = {k: v for k, v in environ.items() if isinstance(v, str)}
    for k in ("wsgi.version", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once", "wsgi.input_terminated"):
        if k in environ:
            out[k] = repr(environ[k])
    body = json.dumps(out, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
