// Command goconst is the floor of bench/run: Go's net/http answering the
// seed's 77-byte reply (or, given a size, that many bytes: the big app's
// floor) with no Python at all. It reads any request body first, which
// makes it the upload app's floor too.
//
//	goconst [addr [size]]
package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := "127.0.0.1:8000"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	body := []byte("Selamat! Anda Telah Berhasil Menjalankan Modul wsgi Pada Web Server Apache24.")
	if len(os.Args) > 2 {
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			log.Fatal(err)
		}
		body = bytes.Repeat([]byte{'x'}, n)
	}
	length := strconv.Itoa(len(body))
	log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the upload app's floor: read the body, answer
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", length)
		w.Write(body)
	})))
}
