package statcache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStat(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")

	// A missing file is never remembered: it is seen as soon as it exists.
	if _, err := Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
	if err := os.WriteFile(name, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := Stat(name)
	if err != nil || fi.Size() != 1 {
		t.Fatalf("new file: %v, %v", fi, err)
	}

	// A found file is trusted for TTL, then looked at again.
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if _, err := Stat(name); err != nil {
		t.Fatalf("within TTL: err = %v, want the remembered result", err)
	}
	mu.Lock()
	e := entries[name]
	e.until = time.Now().UnixNano() - 1
	entries[name] = e
	mu.Unlock()
	if _, err := Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after TTL: err = %v, want not exist", err)
	}
	mu.RLock()
	_, kept := entries[name]
	mu.RUnlock()
	if kept {
		t.Fatal("a failed stat left its old entry behind")
	}
}

func TestBounded(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < maxEntries+10; i++ {
		name := filepath.Join(dir, "f"+string(rune('a'+i%26))+time.Duration(i).String())
		os.WriteFile(name, nil, 0o644)
		if _, err := Stat(name); err != nil {
			t.Fatal(err)
		}
	}
	mu.RLock()
	n := len(entries)
	mu.RUnlock()
	if n > maxEntries {
		t.Fatalf("%d entries, limit %d", n, maxEntries)
	}
}
