package server

import (
	"strconv"
	"testing"
	"time"

	"wsgid/internal/statcache"
)

func TestTranslations(t *testing.T) {
	var ts translations
	if _, ok := ts.get("/"); ok {
		t.Fatal("empty cache answered")
	}
	ts.put("/", "/srv/www/index.html")
	if p, ok := ts.get("/"); !ok || p != "/srv/www/index.html" {
		t.Fatalf("get = %q %v", p, ok)
	}
	// Expired entries are not answered.
	ts.m["/old/"] = translation{path: "/x", until: time.Now().Add(-time.Nanosecond).UnixNano()}
	if _, ok := ts.get("/old/"); ok {
		t.Fatal("expired entry answered")
	}
	if e := ts.m["/"]; e.until > time.Now().Add(statcache.TTL).UnixNano() {
		t.Fatal("entry outlives statcache.TTL")
	}
	// Bounded: a flood of distinct PATH_INFOs starts the table over.
	for i := range maxTranslations + 10 {
		ts.put("/"+strconv.Itoa(i)+"/", "p")
	}
	if len(ts.m) > maxTranslations {
		t.Fatalf("%d entries, bound %d", len(ts.m), maxTranslations)
	}
}
