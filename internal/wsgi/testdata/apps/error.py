def application(environ, start_response):
    raise RuntimeError("secret-traceback-marker")
