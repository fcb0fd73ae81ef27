import os
import time


def application(environ, start_response):
    ms = int(environ.get("QUERY_STRING") or 0)
    time.sleep(ms / 1000.0)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
