def application(e, s):
    s("200 OK", [("Content-Type", "text/plain")])
    return [b"no exec"]
