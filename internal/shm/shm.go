// Package shm owns the memory a worker process and wsgid share for large
// response bodies.
//
// A worker that sends a large body over its socket pays for a copy into
// socket buffers, and wsgid pays for a copy out of them before it copies
// the bytes a third time into the client's socket. With a shared region
// the worker copies the body once, into a slot of the region, and sends a
// small frame naming the slot; wsgid writes the client straight from the
// slot and then hands it back. Request bodies cross the other way: wsgid
// reads the client into a slot of its own and the worker copies the bytes
// out. The region is a memfd each worker process inherits, mapped by both
// sides (docs/protocol.md, "Shared memory").
//
// Nothing depends on the region for correctness: a side with no free
// slot sends its bytes over the socket as before, and so does everything
// on a system without memfd.
package shm

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// SlotSize is the size of one slot: the largest body piece one frame
// names. A 1 MiB reply takes four.
const SlotSize = 256 << 10

// DefaultSlots is the number of slots per worker process for each
// direction: four windows' worth, so four streams of a process can each
// have a full window of response (or a READ's worth of request body) in
// flight through the region at once. Both directions together are 8 MiB
// of address space, resident only once used.
const DefaultSlots = 16

// ErrUnsupported is returned by New where the system has no memfd.
var ErrUnsupported = errors.New("shm: shared memory is not supported on this system")

// Region is one worker process's shared memory, as wsgid maps it. Its
// bytes stay mapped while any reference taken with Acquire is held, so a
// client write from a slot can outlive the process that filled it.
//
// The first WorkerSlots slots are the worker's to fill (response bodies);
// the rest are wsgid's (request bodies): taken for a read from the
// client, then lent to the worker until it gives the slot back.
type Region struct {
	b       []byte
	workers uint32       // bytes of the worker's slots, from offset 0
	refs    atomic.Int64 // one for the owner (until Close) plus one per Slice and per wsgid slot not free

	mu     sync.Mutex
	closed bool
	free   []uint32    // wsgid's free slots, by offset
	state  []slotState // per wsgid slot
}

type slotState uint8

const (
	slotFree  slotState = iota
	slotTaken           // being filled by wsgid
	slotLent            // named to the worker, not yet given back
)

// New creates a region of workerSlots slots the worker fills and
// ownSlots slots wsgid fills, each SlotSize bytes. The returned file is
// the memfd to pass to the worker process; the caller closes it once the
// process has it.
func New(workerSlots, ownSlots int) (*Region, *os.File, error) {
	if workerSlots < 0 || ownSlots < 0 || workerSlots+ownSlots == 0 {
		return nil, nil, fmt.Errorf("shm: %d and %d slots", workerSlots, ownSlots)
	}
	b, f, err := create((workerSlots + ownSlots) * SlotSize)
	if err != nil {
		return nil, nil, err
	}
	r := &Region{b: b, workers: uint32(workerSlots * SlotSize), state: make([]slotState, ownSlots)}
	for i := ownSlots - 1; i >= 0; i-- {
		r.free = append(r.free, r.workers+uint32(i*SlotSize))
	}
	r.refs.Store(1)
	return r, f, nil
}

// Size returns the region's size in bytes.
func (r *Region) Size() int { return len(r.b) }

// WorkerSlots returns the number of slots the worker fills.
func (r *Region) WorkerSlots() int { return int(r.workers / SlotSize) }

// Slice returns the n bytes at off in one of the worker's slots, taking
// a reference that Release drops. ok is false when the range is not one
// of the worker's slots or does not fit in it (a worker's frame is
// checked before it is believed).
func (r *Region) Slice(off, n uint32) (p []byte, ok bool) {
	if off%SlotSize != 0 || off >= r.workers || n > SlotSize {
		return nil, false
	}
	r.refs.Add(1)
	return r.b[off : off+n : off+n], true
}

// Take hands out one of wsgid's free slots to fill with request body
// bytes; the caller then either lends it to the worker (Lend) or puts it
// back (Return). ok is false when no slot is free or the region is
// closed.
func (r *Region) Take() (off uint32, p []byte, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || len(r.free) == 0 {
		return 0, nil, false
	}
	off = r.free[len(r.free)-1]
	r.free = r.free[:len(r.free)-1]
	r.state[(off-r.workers)/SlotSize] = slotTaken
	r.refs.Add(1)
	return off, r.b[off : off+SlotSize : off+SlotSize], true
}

// Lend marks a taken slot as named to the worker, which gives it back
// with Give. Once the region is closed (the worker is gone) the slot is
// simply freed.
func (r *Region) Lend(off uint32) { r.move(off, slotTaken, slotLent) }

// Return puts back a taken slot that was not lent.
func (r *Region) Return(off uint32) { r.move(off, slotTaken, slotFree) }

// Give takes back a slot the worker was lent. It reports false, and
// changes nothing, if off is not one of wsgid's slots or is not lent: a
// worker's SHM_FREE is checked before it is believed, as a slot given
// back twice could be filled for two requests at once.
func (r *Region) Give(off uint32) bool { return r.move(off, slotLent, slotFree) }

func (r *Region) move(off uint32, from, to slotState) bool {
	if off%SlotSize != 0 || off < r.workers || uint64(off) >= uint64(len(r.b)) {
		return false
	}
	i := (off - r.workers) / SlotSize
	r.mu.Lock()
	if r.state[i] != from {
		r.mu.Unlock()
		return false
	}
	if to == slotLent && r.closed {
		to = slotFree
	}
	r.state[i] = to
	if to != slotFree {
		r.mu.Unlock()
		return true
	}
	r.free = append(r.free, off)
	r.mu.Unlock()
	r.unref()
	return true
}

// Release drops a reference taken by Slice; the bytes Slice returned must
// not be used afterwards.
func (r *Region) Release() { r.unref() }

// Close drops the owner's reference and those of the slots lent to the
// worker, which is gone: the region is unmapped as soon as no slice of it
// is in use and no slot is being filled.
func (r *Region) Close() {
	r.mu.Lock()
	r.closed = true
	lent := 0
	for i, st := range r.state {
		if st == slotLent {
			r.state[i] = slotFree
			r.free = append(r.free, r.workers+uint32(i*SlotSize))
			lent++
		}
	}
	r.mu.Unlock()
	for range lent {
		r.unref()
	}
	r.unref()
}

func (r *Region) unref() {
	if r.refs.Add(-1) == 0 {
		unmap(r.b)
		r.b = nil
	}
}
