// Package shm owns the memory a worker process and wsgid share for large
// response bodies.
//
// A worker that sends a large body over its socket pays for a copy into
// socket buffers, and wsgid pays for a copy out of them before it copies
// the bytes a third time into the client's socket. With a shared region
// the worker copies the body once, into a slot of the region, and sends a
// small frame naming the slot; wsgid writes the client straight from the
// slot and then hands it back. The region is a memfd each worker process
// inherits, mapped by both sides (docs/protocol.md, "Shared memory").
//
// Nothing depends on the region for correctness: a worker with no free
// slot sends its body over the socket as before, and so does a worker on
// a system without memfd.
package shm

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// SlotSize is the size of one slot: the largest body piece one frame
// names. A 1 MiB reply takes four.
const SlotSize = 256 << 10

// DefaultSlots is the number of slots per worker process: four windows'
// worth, so four streams of a process can each have a full window of
// response in flight through the region at once (4 MiB of address space,
// resident only once used).
const DefaultSlots = 16

// ErrUnsupported is returned by New where the system has no memfd.
var ErrUnsupported = errors.New("shm: shared memory is not supported on this system")

// Region is one worker process's shared memory, as wsgid maps it. Its
// bytes stay mapped while any reference taken with Acquire is held, so a
// client write from a slot can outlive the process that filled it.
type Region struct {
	b    []byte
	refs atomic.Int64 // one for the owner (until Close) plus one per Acquire
}

// New creates a region of slots × SlotSize bytes. The returned file is
// the memfd to pass to the worker process; the caller closes it once the
// process has it.
func New(slots int) (*Region, *os.File, error) {
	if slots <= 0 {
		return nil, nil, fmt.Errorf("shm: %d slots", slots)
	}
	b, f, err := create(slots * SlotSize)
	if err != nil {
		return nil, nil, err
	}
	r := &Region{b: b}
	r.refs.Store(1)
	return r, f, nil
}

// Size returns the region's size in bytes.
func (r *Region) Size() int { return len(r.b) }

// Slice returns the n bytes at off, taking a reference that Release
// drops. ok is false when the range is not inside the region or does not
// fit in the slot at off (a worker's frame is checked before it is
// believed).
func (r *Region) Slice(off, n uint32) (p []byte, ok bool) {
	if off%SlotSize != 0 || uint64(off) >= uint64(len(r.b)) || uint64(off)+uint64(n) > uint64(len(r.b)) || n > SlotSize {
		return nil, false
	}
	r.refs.Add(1)
	return r.b[off : off+n : off+n], true
}

// Release drops a reference taken by Slice; the bytes Slice returned must
// not be used afterwards.
func (r *Region) Release() { r.unref() }

// Close drops the owner's reference: the region is unmapped as soon as no
// slice of it is in use.
func (r *Region) Close() { r.unref() }

func (r *Region) unref() {
	if r.refs.Add(-1) == 0 {
		unmap(r.b)
		r.b = nil
	}
}
