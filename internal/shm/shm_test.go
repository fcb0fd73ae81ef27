package shm

import (
	"errors"
	"syscall"
	"testing"
)

func newRegion(t *testing.T, slots int) *Region {
	t.Helper()
	r, f, err := New(slots)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return r
}

func TestSlice(t *testing.T) {
	r := newRegion(t, 4)
	defer r.Close()
	if r.Size() != 4*SlotSize {
		t.Fatalf("size %d", r.Size())
	}
	for _, c := range []struct {
		off, n uint32
		ok     bool
	}{
		{0, 0, true},
		{0, SlotSize, true},
		{3 * SlotSize, SlotSize, true},
		{SlotSize, 1, true},
		{0, SlotSize + 1, false}, // longer than a slot
		{1, 1, false},            // not a slot's start
		{4 * SlotSize, 0, false}, // past the end
		{3 * SlotSize, SlotSize + 1, false},
		{1<<32 - SlotSize, SlotSize, false}, // wraps around 32 bits
	} {
		p, ok := r.Slice(c.off, c.n)
		if ok != c.ok {
			t.Errorf("Slice(%d, %d) ok = %v, want %v", c.off, c.n, ok, c.ok)
			continue
		}
		if ok {
			if len(p) != int(c.n) || cap(p) != int(c.n) {
				t.Errorf("Slice(%d, %d): len %d cap %d", c.off, c.n, len(p), cap(p))
			}
			r.Release()
		}
	}
	if got := r.refs.Load(); got != 1 {
		t.Errorf("refs = %d after every slice was released, want 1", got)
	}
}

// TestSharedWithFile: bytes written through the memfd are what the
// mapping shows, as a worker's writes are.
func TestSharedWithFile(t *testing.T) {
	r, f, err := New(1)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, SlotSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	copy(m[100:], "from the worker")
	p, ok := r.Slice(0, 115)
	if !ok || string(p[100:]) != "from the worker" {
		t.Fatalf("region shows %q", p[100:])
	}
	r.Release()
}

// TestCloseWaitsForSlices: the owner's Close leaves the bytes mapped until
// the last slice is released.
func TestCloseWaitsForSlices(t *testing.T) {
	r := newRegion(t, 1)
	p, _ := r.Slice(0, 10)
	r.Close()
	copy(p, "still here") // would fault if unmapped
	if r.b == nil {
		t.Fatal("unmapped with a slice in use")
	}
	r.Release()
	if r.b != nil {
		t.Fatal("still mapped after the last release")
	}
}

func TestNewRejectsNoSlots(t *testing.T) {
	if _, _, err := New(0); err == nil {
		t.Fatal("New(0) succeeded")
	}
}
