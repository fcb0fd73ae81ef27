package http1

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
)

var benchHead = []byte("GET /wsgi/sample.py?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n" +
	"Accept: */*\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n")

func BenchmarkParseHead(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		h, ok := parseHead(benchHead)
		if !ok {
			b.Fatal("declined")
		}
		if _, ok := h.request(context.Background(), ""); !ok {
			b.Fatal("declined")
		}
	}
}

// BenchmarkRoundTrip is one keep-alive request and its 77-byte reply over
// loopback, through net/http alone and through this package: the
// per-request cost of each front end, syscalls included.
func BenchmarkRoundTrip(b *testing.B) {
	body := []byte("Selamat! Anda Telah Berhasil Menjalankan Modul wsgi Pada Web Server Apache24.")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "77")
		w.Write(body)
	})
	for _, name := range []string{"net-http", "http1"} {
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			if name == "net-http" {
				hs := &http.Server{Handler: h}
				go hs.Serve(ln)
				defer hs.Close()
			} else {
				s := &Server{Handler: h, Fallback: &http.Server{Handler: h}}
				go s.Serve(ln)
				defer s.Close()
			}
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(benchHead); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
