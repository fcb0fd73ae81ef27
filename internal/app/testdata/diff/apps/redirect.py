# Location from ?to= with the status in ?s=.
from urllib.parse import parse_qs


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    start_response(q.get('s', ['302 Found'])[0], [('Location', q['to'][0]), ('Content-Type', 'text/plain')])
    return [b'moved']
