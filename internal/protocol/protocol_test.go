package protocol

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf []byte
	env := AppendPair(AppendPair(nil, "REQUEST_METHOD", "GET"), "PATH_INFO", "/x")
	buf = AppendRequestFrame(buf, FlagEnd, 7, 3, env, []byte("body"))
	buf = AppendUint32Frame(buf, TypeWindow, 7, 4096)
	buf = AppendFrame(buf, TypeData, FlagEnd, 9, []byte("hello"))

	// Feed one byte at a time to exercise partial reads.
	r := NewReader(iotestOneByte{bytes.NewReader(buf)}, 16)
	f, err := r.Next()
	if err != nil || f.Type != TypeRequest || f.Flags != FlagEnd || f.Stream != 7 {
		t.Fatalf("first frame = %+v, %v", f, err)
	}
	tmpl, block, body, err := SplitRequest(f.Payload)
	if err != nil || string(body) != "body" || tmpl != 3 {
		t.Fatalf("SplitRequest template %d body %q err %v", tmpl, body, err)
	}
	var got []string
	if err := ParsePairs(block, func(k, v []byte) { got = append(got, string(k)+"="+string(v)) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "REQUEST_METHOD=GET" || got[1] != "PATH_INFO=/x" {
		t.Fatalf("pairs = %q", got)
	}
	f, err = r.Next()
	if err != nil || f.Type != TypeWindow {
		t.Fatalf("second frame = %+v, %v", f, err)
	}
	if v, err := Uint32(f.Payload); err != nil || v != 4096 {
		t.Fatalf("window = %d, %v", v, err)
	}
	f, err = r.Next()
	if err != nil || string(f.Payload) != "hello" || f.Stream != 9 {
		t.Fatalf("third frame = %+v, %v", f, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("at end err = %v, want EOF", err)
	}
}

// TestReaderAlloc: large payloads are read into buffers from Alloc and
// handed over; small ones stay in the Reader's buffer. Reads of every
// size split the frames anywhere.
func TestReaderAlloc(t *testing.T) {
	sizes := []int{10, LargePayload, 5, LargePayload*3 + 7, 0, LargePayload - 1}
	var buf []byte
	for i, n := range sizes {
		buf = AppendFrame(buf, TypeData, 0, uint32(i+1), bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		allocs := 0
		r := NewReader(&chunkReader{bytes.NewReader(buf), chunk}, 64)
		r.Alloc = func(n int) *[]byte { allocs++; b := make([]byte, 0, n+1); return &b }
		for i, n := range sizes {
			f, err := r.Next()
			if err != nil || f.Stream != uint32(i+1) || len(f.Payload) != n || !bytes.Equal(f.Payload, bytes.Repeat([]byte{byte('a' + i)}, n)) {
				t.Fatalf("chunk %d frame %d: %v stream %d len %d", chunk, i, err, f.Stream, len(f.Payload))
			}
			if (f.Buf != nil) != (n >= LargePayload) {
				t.Errorf("chunk %d frame %d (%d bytes): Buf set = %v", chunk, i, n, f.Buf != nil)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("chunk %d: at end %v", chunk, err)
		}
		if allocs != 2 {
			t.Errorf("chunk %d: %d allocations, want 2", chunk, allocs)
		}
	}
	// A large payload cut short is an unexpected EOF.
	r := NewReader(bytes.NewReader(buf[:len(buf)/2]), 0)
	r.Alloc = func(n int) *[]byte { b := make([]byte, n); return &b }
	var err error
	for err == nil {
		_, err = r.Next()
	}
	if err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v", err)
	}
}

type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"truncated header", []byte{1, 0, 0}, io.ErrUnexpectedEOF},
		{"truncated payload", AppendHeader(nil, TypeData, 0, 1, 10), io.ErrUnexpectedEOF},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 0, 0, 0}, ErrFrame},
		{"reserved set", []byte{0, 0, 0, 0, 2, 0, 1, 0, 1, 0, 0, 0}, ErrFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.in), 0).Next()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	block := []byte("200 OK\x00Content-Type\x00text/plain\x00X\x00\x00")
	var names []string
	status, err := ParseResponseHeaders(block, func(k, v []byte) { names = append(names, string(k)+":"+string(v)) })
	if err != nil || string(status) != "200 OK" || len(names) != 2 || names[1] != "X:" {
		t.Fatalf("status %q names %q err %v", status, names, err)
	}
	if _, err := ParseResponseHeaders([]byte("200 OK\x00Name-only\x00"), func(k, v []byte) {}); !errors.Is(err, ErrFrame) {
		t.Fatalf("name without value: err = %v", err)
	}
}

func TestShmData(t *testing.T) {
	b := AppendShmData(nil, FlagEnd, 7, 3<<18, 12345)
	ty, fl, stream, n, err := ParseHeader(b)
	if err != nil || ty != TypeShmData || fl != FlagEnd || stream != 7 || n != 8 || len(b) != HeaderSize+8 {
		t.Fatalf("header %v %v %v %v %v", ty, fl, stream, n, err)
	}
	off, length, err := ParseShmData(b[HeaderSize:])
	if err != nil || off != 3<<18 || length != 12345 {
		t.Fatalf("ParseShmData = %d, %d, %v", off, length, err)
	}
	for _, bad := range [][]byte{nil, make([]byte, 7), make([]byte, 9)} {
		if _, _, err := ParseShmData(bad); !errors.Is(err, ErrFrame) {
			t.Errorf("ParseShmData(%d bytes): err = %v", len(bad), err)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(AppendBlockFrame(nil, TypeHeaders, FlagEnd, 1, []byte("200 OK\x00A\x00b\x00"), []byte("x")))
	f.Add(AppendFrame(nil, TypeFile, FlagEnd, 3, make([]byte, 16)))
	f.Add(AppendRequestFrame(AppendFrame(nil, TypeTemplate, 0, 1, []byte("K\x00v\x00")), FlagEnd, 2, 1, []byte("A\x00b\x00"), nil))
	f.Add(AppendRequestFrame(nil, 0, 2, 0, nil, []byte("x")))
	f.Add([]byte{4, 0, 0, 0, 0x12, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 4})
	f.Add(AppendShmData(nil, FlagEnd, 5, 1<<18, 77))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 8)
		for i := 0; i < 100; i++ {
			fr, err := r.Next()
			if err != nil {
				return
			}
			if len(fr.Payload) > MaxPayload {
				t.Fatalf("payload over limit")
			}
			switch fr.Type {
			case TypeHeaders:
				if block, _, err := SplitBlock(fr.Payload); err == nil {
					ParseResponseHeaders(block, func(k, v []byte) {})
				}
			case TypeRequest:
				if _, block, _, err := SplitRequest(fr.Payload); err == nil {
					ParsePairs(block, func(k, v []byte) {})
				}
			case TypeTemplate:
				ParsePairs(fr.Payload, func(k, v []byte) {})
			case TypeFile:
				ParseFile(fr.Payload)
			case TypeError:
				ParseError(fr.Payload)
			case TypeRead, TypeWindow, TypeShmFree:
				Uint32(fr.Payload)
			case TypeShmData:
				if off, n, err := ParseShmData(fr.Payload); err == nil {
					if again := AppendShmData(nil, fr.Flags, fr.Stream, off, n); !bytes.Equal(again[HeaderSize:], fr.Payload) {
						t.Fatalf("shm frame does not round-trip: %x", fr.Payload)
					}
				}
			}
		}
	})
}

// BenchmarkEncodeDecode is one request's framing on both sides of Go:
// the REQUEST frame out, a HEADERS+body frame in.
func BenchmarkEncodeDecode(b *testing.B) {
	env := AppendPair(AppendPair(AppendPair(nil, "REQUEST_METHOD", "GET"), "PATH_INFO", "/wsgi/sample.py"), "HTTP_HOST", "127.0.0.1:8080")
	resp := AppendBlockFrame(nil, TypeHeaders, FlagEnd, 1, []byte("200 OK\x00Content-Type\x00text/plain\x00Content-Length\x0077\x00"), make([]byte, 77))
	var out []byte
	rd := &repeatReader{data: resp}
	r := NewReader(rd, 0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out = AppendRequestFrame(out[:0], FlagEnd, uint32(i), 1, env, nil)
		f, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		block, _, _ := SplitBlock(f.Payload)
		ParseResponseHeaders(block, func(k, v []byte) {})
	}
}

type repeatReader struct{ data []byte }

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for len(p)-n >= len(r.data) {
		n += copy(p[n:], r.data)
	}
	return n, nil
}
