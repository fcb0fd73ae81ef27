package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"wsgid/internal/protocol"
	"wsgid/internal/shm"
	"wsgid/internal/worker/fakeworker"
)

// readShm runs /shm?n on a stream, granting window as the gateway does,
// and checks every byte against the stream's pattern.
func readShm(ctx context.Context, g *Group, n int) error {
	s, err := g.Open(ctx, "test")
	if err != nil {
		return err
	}
	defer s.Close()
	if err := send(s, "/shm", strconv.Itoa(n), nil, true); err != nil {
		return err
	}
	got := 0
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			return err
		}
		for i, b := range ev.Data {
			if want := fakeworker.ShmPattern(s.id, got+i); b != want {
				ev.Release()
				return fmt.Errorf("stream %#x byte %d = %d, want %d", s.id, got+i, b, want)
			}
		}
		m := len(ev.Data)
		got += m
		ev.Release()
		if ev.End {
			break
		}
		s.Window(m)
	}
	if got != n {
		return fmt.Errorf("stream %#x: %d bytes, want %d", s.id, got, n)
	}
	return nil
}

// TestSharedMemoryBodies sends bodies through the region, each longer
// than all its slots together, on several streams at once: a slot handed
// back too early or a wrong offset shows in the bytes, one never handed
// back in the count of free slots at the end.
func TestSharedMemoryBodies(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.MaxDepth = 8 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sizes := []int{1, shm.SlotSize - 1, shm.SlotSize, 3*shm.SlotSize + 5, (shm.DefaultSlots + 3) * shm.SlotSize}
	var wg sync.WaitGroup
	errs := make(chan error, len(sizes))
	for _, n := range sizes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- readShm(ctx, g, n)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := g.Stats(); st.Restarts != 0 {
		t.Errorf("the worker restarted:\n%s", logs)
	}
	// Every slot is back: the frees wsgid queued leave ahead of this
	// request.
	if n, err := do(t, g, "/shm-free", ""); err != nil || n != strconv.Itoa(shm.DefaultSlots) {
		t.Errorf("the worker has %q of its %d slots (%v)", n, shm.DefaultSlots, err)
	}
}

// TestSharedMemoryBadFrame: a frame naming bytes outside the region's
// slots is a protocol error, like any other malformed frame: 502 for the
// request, the process replaced, nothing read out of bounds.
func TestSharedMemoryBadFrame(t *testing.T) {
	size := shm.DefaultSlots * shm.SlotSize
	for _, q := range []string{
		strconv.Itoa(size) + ",1",           // past the end
		"1,10",                              // not a slot's start
		"0," + strconv.Itoa(shm.SlotSize+1), // longer than a slot
		strconv.Itoa(size-shm.SlotSize) + "," + strconv.Itoa(shm.SlotSize+1), // across the end
		"4294705152,524288", // wraps around 32 bits
	} {
		t.Run(q, func(t *testing.T) {
			expectProtocolError(t, "/shm-bad", q, "outside the region's slots")
		})
	}
}

// TestSharedMemoryOutlivesProcess: body bytes a relay still holds stay
// mapped after their process died and was replaced (reading them would
// fault if the region were unmapped with the process).
func TestSharedMemoryOutlivesProcess(t *testing.T) {
	g, _ := fakeGroup(t, nil)
	ctx, s := openStream(t, g, "test")
	const n = 3 * shm.SlotSize
	send(s, "/shm", strconv.Itoa(n), nil, true)
	ev, err := s.Next(ctx) // the headers
	if err != nil || ev.Type != protocol.TypeHeaders {
		t.Fatalf("first event: %v, %v", ev.Type, err)
	}
	ev.Release()
	ev, err = s.Next(ctx)
	if err != nil || len(ev.Data) != shm.SlotSize {
		t.Fatalf("second event: %d bytes, %v", len(ev.Data), err)
	}
	pid := s.Pid()
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "a new process", func() bool {
		body, err := do(t, g, "/pid", "")
		return err == nil && body != strconv.Itoa(pid)
	})
	for i, b := range ev.Data {
		if b != fakeworker.ShmPattern(s.id, i) {
			t.Fatalf("byte %d changed after the process died", i)
		}
	}
	ev.Release()
	// The rest: the pieces the process sent before it died, then the
	// end, or the failure.
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			if !errors.Is(err, ErrWorkerDied) {
				t.Fatalf("after the kill: %v", err)
			}
			break
		}
		ev.Release()
		if ev.End {
			break
		}
	}
}

// sendBody answers the worker's READs with body, a slot of the shared
// region per piece while one is free, as the gateway does.
func sendBody(ctx context.Context, s *Stream, body []byte) (string, error) {
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			return "", err
		}
		if ev.Type != protocol.TypeRead {
			data := string(ev.Data)
			ev.Release()
			return data, nil
		}
		for want := int(ev.N); want > 0 && len(body) > 0; {
			n := min(want, len(body), shm.SlotSize)
			if off, p, ok := s.BodySlot(); ok {
				copy(p, body[:n])
				err = s.SendSlot(off, n, n == len(body))
			} else {
				err = s.SendData(body[:n], n == len(body))
			}
			if err != nil {
				return "", err
			}
			body, want = body[n:], want-n
		}
	}
}

// TestSharedMemoryRequestBodies sends request bodies through wsgid's
// slots on several streams at once, more than the slots can carry, and
// checks what the worker received by its hash.
func TestSharedMemoryRequestBodies(t *testing.T) {
	g, logs := fakeGroup(t, func(c *GroupConfig) { c.MaxDepth = 8 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i, n := range []int{1, shm.SlotSize - 1, 3*shm.SlotSize + 7, 5 << 20, 9 << 20} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := make([]byte, n)
			for j := range body {
				body[j] = byte(j*31 + j>>9 + i)
			}
			s, err := g.Open(ctx, "test")
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			send(s, "/sum", "", nil, false)
			got, err := sendBody(ctx, s, body)
			sum := sha256.Sum256(body)
			if want := strconv.Itoa(n) + ":" + hex.EncodeToString(sum[:]); err != nil || got != want {
				t.Errorf("%d bytes: worker saw %q, %v; want %q", n, got, err, want)
			}
		}()
	}
	wg.Wait()
	if st := g.Stats(); st.Restarts != 0 {
		t.Errorf("the worker restarted:\n%s", logs)
	}
}

// TestSharedMemoryBadFree: giving back a slot that is not wsgid's, or
// not lent, is a protocol error.
func TestSharedMemoryBadFree(t *testing.T) {
	own := shm.DefaultSlots * shm.SlotSize // wsgid's first slot
	for _, q := range []int{0, own, own + 1, 2 * own} {
		t.Run(strconv.Itoa(q), func(t *testing.T) {
			expectProtocolError(t, "/shm-free-bad", strconv.Itoa(q), "given back but not lent")
		})
	}
}
