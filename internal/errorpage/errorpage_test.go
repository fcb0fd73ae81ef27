package errorpage

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestBody(t *testing.T) {
	tests := []struct {
		status   int
		location string
		want     []string
		not      []string
	}{
		{404, "", []string{"<title>404 Not Found</title>", "<h1>Not Found</h1>", "was not found on this server"}, nil},
		{301, "http://h/a?b=<x>&c", []string{"<title>301 Moved Permanently</title>", `<a href="http://h/a?b=&lt;x&gt;&amp;c">here</a>`}, []string{"<x>"}},
		{418, "", []string{"<title>418 I'm a teapot</title>"}, []string{"<p>"}},
	}
	for _, tt := range tests {
		b := string(Body(tt.status, tt.location))
		if !strings.HasPrefix(b, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"") || !strings.HasSuffix(b, "</body></html>\n") {
			t.Errorf("%d: not Apache's page frame:\n%s", tt.status, b)
		}
		for _, w := range tt.want {
			if !strings.Contains(b, w) {
				t.Errorf("%d: page lacks %q:\n%s", tt.status, w, b)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(b, n) {
				t.Errorf("%d: page contains %q:\n%s", tt.status, n, b)
			}
		}
	}
}

func TestWrite(t *testing.T) {
	for _, method := range []string{"GET", "HEAD"} {
		w := httptest.NewRecorder()
		Write(w, httptest.NewRequest(method, "/x", nil), http.StatusMovedPermanently, "/x/")
		if w.Code != 301 || w.Header().Get("Location") != "/x/" || w.Header().Get("Content-Type") != ContentType {
			t.Errorf("%s: %d %v", method, w.Code, w.Header())
		}
		if (method == "HEAD") != (w.Body.Len() == 0) {
			t.Errorf("%s: body of %d bytes", method, w.Body.Len())
		}
		if got, want := w.Header().Get("Content-Length"), strconv.Itoa(len(Body(301, "/x/"))); got != want {
			t.Errorf("%s: Content-Length %s, want %s", method, got, want)
		}
	}
}
