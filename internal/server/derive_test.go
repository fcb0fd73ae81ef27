package server

import (
	"slices"
	"testing"

	"wsgid/internal/config"
)

// SetEnv pairs reach every request in one order: they open the environ
// template, and a worker connection caches one template per distinct
// block, so an order that varied (a map's) would send a new one for most
// requests.
func TestCompileEnvOrder(t *testing.T) {
	t.Setenv("WSGID_TEST_PASSED", "p")
	d := &config.PerDir{
		SetEnv:   map[string]string{"ZETA": "z", "ALPHA": "a", "MID": "m", "GONE": "g"},
		PassEnv:  []string{"WSGID_TEST_PASSED", "WSGID_TEST_UNSET"},
		UnsetEnv: []string{"GONE"},
	}
	s := &Server{}
	want := []string{"ALPHA", "a", "MID", "m", "WSGID_TEST_PASSED", "p", "ZETA", "z"}
	for range 20 {
		eff, err := s.compile(d)
		if err != nil {
			t.Fatal(err)
		}
		dv := eff.Derived.(*derived)
		if !slices.Equal(dv.envList, want) {
			t.Fatalf("envList = %q, want %q", dv.envList, want)
		}
		if v, ok := dv.lookup("MID"); !ok || v != "m" || dv.value("ZETA") != "z" {
			t.Fatalf("lookup(MID) = %q %v, value(ZETA) = %q", v, ok, dv.value("ZETA"))
		}
		if _, ok := dv.lookup("GONE"); ok {
			t.Fatal("UnsetEnv left GONE")
		}
	}
}
