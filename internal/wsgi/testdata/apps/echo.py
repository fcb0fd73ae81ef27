import hashlib


def application(environ, start_response):
    data = environ["wsgi.input"].read()
    body = ("%d %s" % (len(data), hashlib.sha256(data).hexdigest())).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
