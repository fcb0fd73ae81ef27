from urllib.parse import parse_qs


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    status = q.get('s', ['200 OK'])[0]
    start_response(status, [('Content-Type', 'text/plain')])
    return [b'status ' + status.encode()]
