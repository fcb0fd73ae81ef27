import greeting


def application(environ, start_response):
    body = greeting.TEXT.encode()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body]
