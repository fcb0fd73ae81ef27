// Command goconst is the floor of bench/run: Go's net/http answering the
// seed's 77-byte reply with no Python at all.
package main

import (
	"log"
	"net/http"
	"os"
)

var body = []byte("Selamat! Anda Telah Berhasil Menjalankan Modul wsgi Pada Web Server Apache24.")

func main() {
	addr := "127.0.0.1:8000"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "77")
		w.Write(body)
	})))
}
