def application(environ, start_response):
    raise RuntimeError('deliberate failure')
