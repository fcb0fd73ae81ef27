import hashlib
import time


def application(environ, start_response):
    """Read the body the ways applications do, and answer with its length
    and hash. QUERY_STRING=read: in 64 KiB pieces until the end; slow: the
    same after a pause longer than the worker lets a request run on its
    reader thread (the reader role moves to a new thread first); lines:
    line by line."""
    stream, h, n = environ["wsgi.input"], hashlib.sha256(), 0
    query = environ.get("QUERY_STRING")
    if query == "lines":
        for line in stream:
            h.update(line)
            n += len(line)
    else:
        if query == "slow":
            time.sleep(0.1)
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%d %s" % (n, h.hexdigest())).encode()]
