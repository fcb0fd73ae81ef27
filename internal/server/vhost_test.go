package server

import (
	"net/netip"
	"testing"

	"wsgid/internal/config"
)

func TestVhostPick(t *testing.T) {
	mk := func(name string, aliases []string, addrs ...string) *hostRuntime {
		h := &config.Host{ServerName: name, ServerAliases: aliases, Addrs: addrs}
		return &hostRuntime{cfg: h, addrs: hostAddrs(h), serverName: name}
	}
	main := mk("main", nil)
	first := mk("first.example", nil, "*:80")
	second := mk("second.example", []string{"*.second.example", "alias.example"}, "*:80")
	exact := mk("exact.example", nil, "127.0.0.2:80")
	dflt := mk("default.example", nil, "_default_:8080")
	vs := &vhostSet{main: main, hosts: []*hostRuntime{first, second, exact, dflt}}
	tests := []struct {
		local, host string
		want        *hostRuntime
	}{
		{"127.0.0.1:80", "second.example", second},
		{"127.0.0.1:80", "SECOND.example:80", second},
		{"127.0.0.1:80", "www.second.example", second},
		{"127.0.0.1:80", "alias.example", second},
		{"127.0.0.1:80", "unknown.example", first}, // first name-based host is the default
		{"127.0.0.1:80", "", first},
		{"127.0.0.2:80", "second.example", exact}, // an exact address beats "*"
		{"127.0.0.1:8080", "x", dflt},
		{"127.0.0.1:9999", "first.example", main},
	}
	for _, tt := range tests {
		if got := vs.pick(netip.MustParseAddrPort(tt.local), tt.host); got != tt.want {
			t.Errorf("pick(%s, %q) = %s, want %s", tt.local, tt.host, got.serverName, tt.want.serverName)
		}
	}
}
