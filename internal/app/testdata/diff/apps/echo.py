def application(environ, start_response):
    data = environ['wsgi.input'].read()
    start_response('201 Created', [('Content-Type', 'application/octet-stream'), ('X-Len', str(len(data)))])
    return [data]
