# Answers with the status in ?s= and the headers in ?h=Name:Value (repeatable).
from urllib.parse import parse_qs


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    status = q.get('s', ['200 OK'])[0]
    headers = [('Content-Type', 'text/plain')]
    for h in q.get('h', []):
        name, _, value = h.partition(':')
        headers.append((name, value))
    start_response(status, headers)
    return [b'status ' + status.encode()]
