CHUNK = b"0123456789abcdef" * 4096  # 64 KiB


def application(environ, start_response):
    n = int(environ.get("QUERY_STRING") or 20 * 1024 * 1024)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(n))])

    def gen():
        left = n
        while left > 0:
            piece = CHUNK[: min(left, len(CHUNK))]
            left -= len(piece)
            yield piece

    return gen()
