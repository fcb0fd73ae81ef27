"""Large bodies for TestLargeBodies. GET ?n=BYTES&seed=S&how=list|gen|write|one
answers a body made from the seed; POST ?how=pieces|all|lines reads the
request body that way and answers its length and SHA-256.

The bytes depend on the seed and their position, so a body that shows
another response's bytes, or a slot reused too early, fails its hash.
"""
import hashlib
from urllib.parse import parse_qs


def body(seed, n):
    block = hashlib.sha256(b'%d' % seed).digest() * 2048  # 64 KiB
    out = bytearray()
    i = 0
    while len(out) < n:
        out += bytes((b + i) & 0xff for b in block[:256]) + block[256:]
        i += 1
    return bytes(out[:n])


def upload(environ, how):
    inp, h, n = environ['wsgi.input'], hashlib.sha256(), 0
    if how == 'all':
        data = inp.read()
        h.update(data)
        return len(data), h.hexdigest()
    while True:
        piece = inp.readline() if how == 'lines' else inp.read(65536)
        if not piece:
            return n, h.hexdigest()
        h.update(piece)
        n += len(piece)


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ['QUERY_STRING']).items()}
    if environ['REQUEST_METHOD'] == 'POST':
        n, digest = upload(environ, q.get('how', 'pieces'))
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'%d:%s' % (n, digest.encode())]
    n, seed, how = int(q['n']), int(q['seed']), q.get('how', 'one')
    data = body(seed, n)
    headers = [('Content-Type', 'application/octet-stream'), ('X-Sha256', hashlib.sha256(data).hexdigest())]
    if how == 'gen':
        start_response('200 OK', headers)
        return (data[i:i + 100000] for i in range(0, n, 100000))
    if how == 'write':
        write = start_response('200 OK', headers + [('Content-Length', str(n))])
        write(data[:n // 2])
        return [data[n // 2:]]
    if how == 'list':
        start_response('200 OK', headers)
        return [data[:n // 3], data[n // 3:]]
    start_response('200 OK', headers + [('Content-Length', str(n))])
    return [data]
