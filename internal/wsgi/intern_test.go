package wsgi

import (
	"strconv"
	"strings"
	"testing"
)

func TestIntern(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"content-type", "Content-Type"}, {"X-FOO-bar", "X-Foo-Bar"}, {"content-type", "Content-Type"},
		{"Bad Name", "Bad Name"},
	} {
		if got := canonicalName([]byte(tt.in)); got != tt.want {
			t.Errorf("canonicalName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	b := []byte("text/plain")
	v := headerValue(b)
	b[0] = 'X' // the interned string must not share the caller's bytes
	if v != "text/plain" || headerValue([]byte("text/plain")) != "text/plain" {
		t.Fatalf("headerValue = %q", v)
	}
	long := strings.Repeat("v", internMaxValue+1)
	if headerValue([]byte(long)) != long {
		t.Fatal("long value changed")
	}
	for i := 0; i < 3*internMax; i++ {
		s := strconv.Itoa(i)
		if got := headerValue([]byte(s)); got != s {
			t.Fatalf("headerValue(%q) = %q", s, got)
		}
	}
	headerValues.mu.RLock()
	n := len(headerValues.m)
	headerValues.mu.RUnlock()
	if n > internMax {
		t.Fatalf("%d interned values, bound %d", n, internMax)
	}
}
