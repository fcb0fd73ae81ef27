// Package protocol encodes and decodes the frames exchanged between wsgid
// and its Python worker processes. It is pure: no sockets, no processes.
// docs/protocol.md is the specification; the Python side lives in
// internal/worker/python/wsgid_worker.py.
//
// Every frame is a 12-byte header followed by a payload:
//
//	u32 payload length | u8 type | u8 flags | u16 zero | u32 stream
//
// all little-endian. Several requests (streams) are in flight on one
// connection at a time; stream 0 is the connection itself. The layout is
// chosen so that Python decodes a header with one struct.unpack_from and an
// environ with one bytes.split.
package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderSize is the size of a frame header in bytes.
const HeaderSize = 12

// MaxPayload bounds a frame's payload. A larger length is a protocol
// error: it means the peer is broken, not that it has a lot to say.
const MaxPayload = 16 << 20

// Type is a frame type.
type Type uint8

// Frame types. Values below 0x10 travel from wsgid to the worker, values
// from 0x10 up from the worker to wsgid; TypeData, TypeShmData and
// TypeShmFree travel both ways (body bytes one way, shared-memory slots
// of the other side given back).
const (
	TypeRequest  Type = 0x01 // u32 template | u32 envLen | environ block | body bytes
	TypeData     Type = 0x02 // body bytes (request body to worker, response body to wsgid)
	TypeCancel   Type = 0x03 // the client went away: stop the application
	TypeWindow   Type = 0x04 // u32 more response bytes the worker may send on the stream
	TypeShutdown Type = 0x05 // stream 0: finish what is in flight, then exit
	TypeDump     Type = 0x06 // stream 0: log the stack of every thread
	TypePing     Type = 0x07 // stream 0: answer with TypePong (deadlock-timeout probe)
	TypeTemplate Type = 0x08 // stream field = template id; payload = environ block later requests start from
	TypeShmFree  Type = 0x09 // stream 0: u32 offset of the other side's shared-memory slot, done with

	TypeReady   Type = 0x10 // stream 0: environ-style block "pid\0N\0python\0X.Y.Z\0"
	TypeHeaders Type = 0x11 // u32 hdrLen | "status\0name\0value\0..." | body bytes
	TypeRead    Type = 0x12 // u32 the most request-body bytes the application wants now
	TypeFile    Type = 0x13 // u64 offset | i64 length (-1 = to end); the fd rides as SCM_RIGHTS
	TypeLog     Type = 0x14 // flags = level; stream 0 = process-wide; payload = UTF-8 text
	TypeError   Type = 0x15 // u16 status | UTF-8 reason: the application failed on this stream
	TypePong    Type = 0x16 // stream 0: the answer to TypePing
	TypeRestart Type = 0x17 // the script changed before the application saw the request: restart and replay it
	TypeShmData Type = 0x18 // u32 offset | u32 length: body bytes in one of the sender's shared-memory slots (see internal/shm)
)

// Flags modify a frame.
type Flags uint8

// FlagEnd on TypeRequest/TypeData (to worker) means the request body is
// complete; on TypeHeaders/TypeData/TypeFile (to wsgid) it means the
// response is complete and the stream is finished.
const FlagEnd Flags = 0x01

// Levels carried in the flags of TypeLog, matching config.LogLevel.
const (
	LevelError  Flags = 3
	LevelWarn   Flags = 4
	LevelNotice Flags = 5
	LevelInfo   Flags = 6
	LevelDebug  Flags = 7
)

// DefaultWindow is the response window a stream starts with: the bytes
// a worker may send before wsgid grants more with TypeWindow.
const DefaultWindow = 1 << 20

// ErrFrame reports a malformed frame. A connection that produced one is
// closed: the stream boundaries can no longer be trusted.
var ErrFrame = errors.New("protocol: malformed frame")

// Frame is one decoded frame. Payload aliases the Reader's buffer and is
// valid only until the next call to Next.
type Frame struct {
	Type    Type
	Flags   Flags
	Stream  uint32
	Payload []byte
	// Buf, when not nil, holds Payload: a large payload was read
	// straight into a buffer from Reader.Alloc, which now belongs to the
	// caller. Otherwise Payload is valid until the next Reader.Next.
	Buf *[]byte
}

// AppendHeader appends a frame header for a payload of n bytes.
func AppendHeader(dst []byte, t Type, f Flags, stream uint32, n int) []byte {
	return append(dst,
		byte(n), byte(n>>8), byte(n>>16), byte(n>>24),
		byte(t), byte(f), 0, 0,
		byte(stream), byte(stream>>8), byte(stream>>16), byte(stream>>24))
}

// AppendFrame appends a whole frame.
func AppendFrame(dst []byte, t Type, f Flags, stream uint32, payload []byte) []byte {
	dst = AppendHeader(dst, t, f, stream, len(payload))
	return append(dst, payload...)
}

// ParseHeader decodes a frame header from the first HeaderSize bytes of b.
func ParseHeader(b []byte) (t Type, f Flags, stream uint32, n int, err error) {
	if len(b) < HeaderSize {
		return 0, 0, 0, 0, io.ErrUnexpectedEOF
	}
	size := binary.LittleEndian.Uint32(b)
	if size > MaxPayload {
		return 0, 0, 0, 0, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrFrame, size, MaxPayload)
	}
	if b[6] != 0 || b[7] != 0 {
		return 0, 0, 0, 0, fmt.Errorf("%w: reserved bytes not zero", ErrFrame)
	}
	return Type(b[4]), Flags(b[5]), binary.LittleEndian.Uint32(b[8:]), int(size), nil
}

// Block frames (TypeHeaders, and TypeRequest after its template id) carry
// a NUL-separated block followed by body bytes, the block prefixed by its
// u32 length.

// AppendBlockFrame appends a TypeHeaders frame whose payload is block
// then body (TypeRequest has AppendRequestFrame).
func AppendBlockFrame(dst []byte, t Type, f Flags, stream uint32, block, body []byte) []byte {
	dst = AppendHeader(dst, t, f, stream, 4+len(block)+len(body))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(block)))
	dst = append(dst, block...)
	return append(dst, body...)
}

// AppendRequestFrame appends a TypeRequest frame: the request's own
// environ block, the template (a TypeTemplate sent earlier on the same
// connection, 0 for none) it extends, and as much body as is inline.
func AppendRequestFrame(dst []byte, f Flags, stream, template uint32, block, body []byte) []byte {
	dst = AppendHeader(dst, TypeRequest, f, stream, 8+len(block)+len(body))
	dst = binary.LittleEndian.AppendUint32(dst, template)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(block)))
	dst = append(dst, block...)
	return append(dst, body...)
}

// SplitRequest separates a TypeRequest payload into its template id,
// environ block and body.
func SplitRequest(payload []byte) (template uint32, block, body []byte, err error) {
	if len(payload) < 4 {
		return 0, nil, nil, fmt.Errorf("%w: request frame shorter than its template id", ErrFrame)
	}
	block, body, err = SplitBlock(payload[4:])
	return binary.LittleEndian.Uint32(payload), block, body, err
}

// SplitBlock separates a block frame's payload into its block and body.
func SplitBlock(payload []byte) (block, body []byte, err error) {
	if len(payload) < 4 {
		return nil, nil, fmt.Errorf("%w: block frame shorter than its length prefix", ErrFrame)
	}
	n := binary.LittleEndian.Uint32(payload)
	if uint64(n) > uint64(len(payload)-4) {
		return nil, nil, fmt.Errorf("%w: block length %d exceeds payload", ErrFrame, n)
	}
	return payload[4 : 4+n], payload[4+n:], nil
}

// AppendPair appends "key\0value\0" to an environ block. Neither may
// contain NUL; callers reject such requests before encoding.
func AppendPair(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, 0)
	dst = append(dst, value...)
	return append(dst, 0)
}

// ParseResponseHeaders decodes a TypeHeaders block: the status line then
// name/value pairs, each NUL-terminated. fn is called for each header.
func ParseResponseHeaders(block []byte, fn func(name, value []byte)) (status []byte, err error) {
	i := indexNUL(block)
	if i < 0 {
		return nil, fmt.Errorf("%w: header block without status", ErrFrame)
	}
	status, block = block[:i], block[i+1:]
	for len(block) > 0 {
		k := indexNUL(block)
		if k < 0 {
			return nil, fmt.Errorf("%w: unterminated header name", ErrFrame)
		}
		v := indexNUL(block[k+1:])
		if v < 0 {
			return nil, fmt.Errorf("%w: header %q without value", ErrFrame, block[:k])
		}
		fn(block[:k], block[k+1:k+1+v])
		block = block[k+1+v+1:]
	}
	return status, nil
}

// ParsePairs decodes an environ-style block into key/value pairs.
func ParsePairs(block []byte, fn func(key, value []byte)) error {
	for len(block) > 0 {
		k := indexNUL(block)
		if k < 0 {
			return fmt.Errorf("%w: unterminated key", ErrFrame)
		}
		v := indexNUL(block[k+1:])
		if v < 0 {
			return fmt.Errorf("%w: key %q without value", ErrFrame, block[:k])
		}
		fn(block[:k], block[k+1:k+1+v])
		block = block[k+1+v+1:]
	}
	return nil
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// Uint32 payloads (TypeRead, TypeWindow).

// AppendUint32Frame appends a frame whose payload is one u32.
func AppendUint32Frame(dst []byte, t Type, stream uint32, v uint32) []byte {
	dst = AppendHeader(dst, t, 0, stream, 4)
	return binary.LittleEndian.AppendUint32(dst, v)
}

// Uint32 decodes a one-u32 payload.
func Uint32(payload []byte) (uint32, error) {
	if len(payload) != 4 {
		return 0, fmt.Errorf("%w: want 4-byte payload, have %d", ErrFrame, len(payload))
	}
	return binary.LittleEndian.Uint32(payload), nil
}

// ParseShmData decodes a TypeShmData payload: where in the shared region
// the body bytes are, and how many.
func ParseShmData(payload []byte) (offset, length uint32, err error) {
	if len(payload) != 8 {
		return 0, 0, fmt.Errorf("%w: shared-memory frame of %d bytes, want 8", ErrFrame, len(payload))
	}
	return binary.LittleEndian.Uint32(payload), binary.LittleEndian.Uint32(payload[4:]), nil
}

// AppendShmData appends a TypeShmData frame naming length bytes at
// offset of the shared region.
func AppendShmData(dst []byte, f Flags, stream, offset, length uint32) []byte {
	dst = AppendHeader(dst, TypeShmData, f, stream, 8)
	dst = binary.LittleEndian.AppendUint32(dst, offset)
	return binary.LittleEndian.AppendUint32(dst, length)
}

// ParseFile decodes a TypeFile payload.
func ParseFile(payload []byte) (offset, length int64, err error) {
	if len(payload) != 16 {
		return 0, 0, fmt.Errorf("%w: file frame of %d bytes, want 16", ErrFrame, len(payload))
	}
	offset = int64(binary.LittleEndian.Uint64(payload))
	length = int64(binary.LittleEndian.Uint64(payload[8:]))
	if offset < 0 || length < -1 {
		return 0, 0, fmt.Errorf("%w: file frame offset %d length %d", ErrFrame, offset, length)
	}
	return offset, length, nil
}

// ParseError decodes a TypeError payload.
func ParseError(payload []byte) (status int, reason string, err error) {
	if len(payload) < 2 {
		return 0, "", fmt.Errorf("%w: error frame of %d bytes", ErrFrame, len(payload))
	}
	status = int(binary.LittleEndian.Uint16(payload))
	if status < 100 || status > 999 {
		return 0, "", fmt.Errorf("%w: error frame status %d", ErrFrame, status)
	}
	return status, string(payload[2:]), nil
}

// Reader reads frames from a stream, reusing one buffer. It reads as much
// as the kernel has in one call, so a batch of frames costs one syscall.
type Reader struct {
	r    io.Reader
	buf  []byte
	r0   int // start of unread data
	r1   int // end of unread data
	next int // bytes of the previous frame to discard on the next call

	// Alloc, if set, provides a buffer of at least n bytes for a payload
	// of LargePayload bytes or more, which is then read into it directly
	// and handed over in Frame.Buf: a large response body is copied once
	// (kernel to buffer) instead of twice.
	Alloc func(n int) *[]byte
}

// LargePayload is the payload size from which Reader uses Alloc.
const LargePayload = 32 << 10

// NewReader returns a Reader with an initial buffer of size bytes (64 KiB
// if size <= 0); the buffer grows for larger frames up to MaxPayload.
func NewReader(r io.Reader, size int) *Reader {
	if size <= 0 {
		size = 64 << 10
	}
	return &Reader{r: r, buf: make([]byte, size)}
}

// Buffered reports whether a whole frame is already buffered, so that a
// caller can handle it before flushing its own output.
func (r *Reader) Buffered() bool {
	avail := r.r1 - r.r0 - r.next
	if avail < HeaderSize {
		return false
	}
	_, _, _, n, err := ParseHeader(r.buf[r.r0+r.next:])
	return err != nil || avail >= HeaderSize+n
}

// Next returns the next frame. Its payload is valid until the next call.
func (r *Reader) Next() (Frame, error) {
	r.r0 += r.next
	r.next = 0
	if err := r.fill(HeaderSize); err != nil {
		return Frame{}, err
	}
	t, f, stream, n, err := ParseHeader(r.buf[r.r0:r.r1])
	if err != nil {
		return Frame{}, err
	}
	if n >= LargePayload && r.Alloc != nil {
		return r.readLarge(Frame{Type: t, Flags: f, Stream: stream}, n)
	}
	if err := r.fill(HeaderSize + n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	p := r.buf[r.r0+HeaderSize : r.r0+HeaderSize+n]
	r.next = HeaderSize + n
	return Frame{Type: t, Flags: f, Stream: stream, Payload: p}, nil
}

// readLarge reads the n-byte payload of fr, whose header is buffered,
// into a buffer from Alloc: what is buffered already is copied, the rest
// read directly.
func (r *Reader) readLarge(fr Frame, n int) (Frame, error) {
	b := r.Alloc(n)
	p := (*b)[:n]
	r.r0 += HeaderSize
	k := copy(p, r.buf[r.r0:r.r1])
	r.r0 += k
	if _, err := io.ReadFull(r.r, p[k:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	fr.Payload, fr.Buf = p, b
	return fr, nil
}

// fill makes at least n unread bytes available.
func (r *Reader) fill(n int) error {
	if r.r1-r.r0 >= n {
		return nil
	}
	if r.r0 > 0 {
		copy(r.buf, r.buf[r.r0:r.r1])
		r.r1 -= r.r0
		r.r0 = 0
	}
	if n > len(r.buf) {
		nb := make([]byte, max(n, 2*len(r.buf)))
		copy(nb, r.buf[:r.r1])
		r.buf = nb
	}
	for r.r1 < n {
		m, err := r.r.Read(r.buf[r.r1:])
		r.r1 += m
		if err != nil {
			if r.r1 >= n {
				return nil
			}
			if err == io.EOF && r.r1 > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
