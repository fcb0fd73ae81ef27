package shm

import (
	"errors"
	"syscall"
	"testing"
)

func newRegion(t *testing.T, slots int) *Region {
	t.Helper()
	r, f, err := New(slots, 2)
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
	if r.Size() != 6*SlotSize || r.WorkerSlots() != 4 {
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
	r, f, err := New(1, 0)
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
	if _, _, err := New(0, 0); err == nil {
		t.Fatal("New(0, 0) succeeded")
	}
}

// TestOwnSlots walks wsgid's slots through take, lend, give and return,
// and checks that a give the state does not allow changes nothing.
func TestOwnSlots(t *testing.T) {
	r := newRegion(t, 1) // worker slot 0; wsgid's at SlotSize and 2*SlotSize
	a, p, ok := r.Take()
	if !ok || a != SlotSize || len(p) != SlotSize {
		t.Fatalf("Take = %d, %d bytes, %v", a, len(p), ok)
	}
	b, _, _ := r.Take()
	if _, _, ok := r.Take(); ok {
		t.Fatal("a third slot out of two")
	}
	if r.Give(a) {
		t.Fatal("gave back a slot taken but not lent")
	}
	r.Lend(a)
	for _, off := range []uint32{0, a + 1, 3 * SlotSize, 1 << 31} {
		if r.Give(off) {
			t.Errorf("Give(%d) accepted", off)
		}
	}
	if !r.Give(a) || r.Give(a) {
		t.Fatal("a lent slot must be given back exactly once")
	}
	r.Return(b)
	if got := r.refs.Load(); got != 1 {
		t.Fatalf("refs = %d with every slot free", got)
	}
	// Closing with a slot lent (the worker died with it) frees it; one
	// still being filled keeps the region mapped until it is returned.
	c, _, _ := r.Take()
	d, _, _ := r.Take()
	r.Lend(c)
	r.Close()
	if r.b == nil {
		t.Fatal("unmapped while a slot is being filled")
	}
	r.Lend(d) // too late: the worker is gone, so it is just freed
	if r.b != nil {
		t.Fatal("still mapped after the last slot came back")
	}
	if _, _, ok := r.Take(); ok {
		t.Fatal("Take after Close")
	}
}
