package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLargeBodies sends large response bodies, made in every way an
// application makes them, on more connections at once than the workers'
// shared-memory slots can carry (so some pieces go through the region and
// some over the socket), some read slowly and some abandoned half-way,
// and checks each body's bytes against the hash the application sent;
// and large uploads beside them, against the hash the application saw.
func TestLargeBodies(t *testing.T) {
	requirePython(t)
	dir := copyTree(t, "testdata/quick")
	in := startServe(t, dir, "--processes", "2", "--threads", "3", filepath.Join(dir, "bodies.py"))
	addr := in.addr

	sizes := []int{64<<10 - 1, 64 << 10, 256<<10 + 1, 1 << 20, 3<<20 + 12345}
	hows := []string{"one", "list", "gen", "write"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	client := &http.Client{Timeout: 60 * time.Second}
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, how := sizes[i%len(sizes)], hows[i%len(hows)]
			url := fmt.Sprintf("http://%s/?n=%d&seed=%d&how=%s", addr, n, i, how)
			for round := 0; round < 2; round++ {
				resp, err := client.Get(url)
				if err != nil {
					errs <- err
					return
				}
				var r io.Reader = resp.Body
				if i%4 == 3 {
					r = &slowReader{r: resp.Body} // a slow client holds its pieces longer
				}
				h := sha256.New()
				got, err := io.Copy(h, r)
				resp.Body.Close()
				if err != nil || got != int64(n) || hex.EncodeToString(h.Sum(nil)) != resp.Header.Get("X-Sha256") {
					errs <- fmt.Errorf("%s: %d of %d bytes, %v, hash match %v", url, got, n, err,
						hex.EncodeToString(h.Sum(nil)) == resp.Header.Get("X-Sha256"))
					return
				}
			}
		}()
	}
	// Uploads, read by the application in pieces, whole, and by lines.
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := sizes[i%len(sizes)] + i
			body := make([]byte, n)
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for j := range body {
				body[j] = byte(rng.Uint32())
			}
			how := []string{"pieces", "all", "lines"}[i%3]
			resp, err := client.Post(fmt.Sprintf("http://%s/?how=%s", addr, how), "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sum := sha256.Sum256(body)
			if want := fmt.Sprintf("%d:%x", n, sum); string(got) != want {
				errs <- fmt.Errorf("upload of %d bytes (%s): %q, want %q", n, how, got, want)
			}
		}()
	}
	// Clients that go away in the middle of a large body.
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			fmt.Fprintf(c, "GET /?n=%d&seed=%d HTTP/1.1\r\nHost: x\r\n\r\n", 3<<20, 100+i)
			io.ReadFull(c, make([]byte, 300<<10))
			c.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Everything given back: the same bodies again, all through.
	for i, n := range sizes {
		resp, b := in.get(fmt.Sprintf("/?n=%d&seed=%d", n, 200+i))
		sum := sha256.Sum256([]byte(b))
		if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != resp.Header.Get("X-Sha256") {
			t.Errorf("after the load, %d bytes: %d, hash mismatch", n, resp.StatusCode)
		}
	}
	if log := in.stderr.String(); strings.Contains(log, "protocol") || strings.Contains(log, "died") {
		t.Errorf("error log:\n%s", log)
	}
}

// slowReader reads in small pieces with pauses, as a slow client does.
type slowReader struct {
	r io.Reader
	n int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n++; s.n%16 == 0 {
		time.Sleep(time.Millisecond)
	}
	return s.r.Read(p[:min(len(p), 16<<10)])
}
