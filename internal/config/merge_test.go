package config_test

import (
	"net/netip"
	"testing"

	"wsgid/internal/access"
	"wsgid/internal/config"
)

func require(provider string, args ...string) *config.Authz {
	return &config.Authz{Pos: "t.conf:1", Kind: config.AuthzAny, Children: []*config.Authz{
		{Pos: "t.conf:1", Kind: config.AuthzRequire, Provider: provider, Args: args}}}
}

// TestMergeAccess checks MergeDir's handling of Require trees
// (mod_authz_core's AuthMerging) and of mod_access_compat's settings by
// the decisions the merged rules make for two clients.
func TestMergeAccess(t *testing.T) {
	inNet := require("ip", "192.0.2.0/24")
	trusted := require("env", "trusted")
	nope := require("env", "nope")
	compat := func(order string, allow, deny []string) *config.AccessCompat {
		return &config.AccessCompat{Pos: "t.conf:2", Order: order, Allow: allow, Deny: deny}
	}
	tests := []struct {
		name         string
		outer, inner config.PerDir
		// want is the decision for 192.0.2.10, other for 10.0.0.9; both
		// have the environment variable "trusted".
		want, other access.Decision
	}{
		{"nothing", config.PerDir{}, config.PerDir{}, access.Granted, access.Granted},
		{"unset inherits", config.PerDir{Authz: inNet}, config.PerDir{}, access.Granted, access.Denied},
		{"unset replaces", config.PerDir{Authz: inNet}, config.PerDir{Authz: nope}, access.Denied, access.Denied},
		{"off replaces", config.PerDir{Authz: inNet}, config.PerDir{Authz: trusted, AuthMerging: "off"}, access.Granted, access.Granted},
		{"off alone lifts", config.PerDir{Authz: require("all", "denied")}, config.PerDir{AuthMerging: "off"}, access.Granted, access.Granted},
		{"and", config.PerDir{Authz: inNet}, config.PerDir{Authz: trusted, AuthMerging: "and"}, access.Granted, access.Denied},
		{"and failing inner", config.PerDir{Authz: inNet}, config.PerDir{Authz: nope, AuthMerging: "and"}, access.Denied, access.Denied},
		{"or", config.PerDir{Authz: inNet}, config.PerDir{Authz: nope, AuthMerging: "or"}, access.Granted, access.Denied},
		{"or either", config.PerDir{Authz: inNet}, config.PerDir{Authz: trusted, AuthMerging: "or"}, access.Granted, access.Granted},
		{"and no outer", config.PerDir{}, config.PerDir{Authz: nope, AuthMerging: "and"}, access.Denied, access.Denied},
		{"and no inner", config.PerDir{Authz: inNet}, config.PerDir{AuthMerging: "and"}, access.Granted, access.Denied},
		// mod_access_compat: the inner scope replaces entirely, so the
		// outer "Deny from all" is gone.
		{"compat replaces", config.PerDir{Access: compat("deny,allow", []string{"127.0.0.1"}, []string{"all"})},
			config.PerDir{Access: compat("allow,deny", []string{"all"}, nil)}, access.Granted, access.Granted},
		{"compat inherits", config.PerDir{Access: compat("deny,allow", []string{"192.0.2.0/24"}, []string{"all"})},
			config.PerDir{}, access.Granted, access.Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outer, inner := tt.outer, tt.inner
			m := config.MergeDir(&outer, &inner)
			p, err := access.Compile(m.Authz, m.Access)
			if err != nil {
				t.Fatal(err)
			}
			env := func(k string) (string, bool) { return "", k == "trusted" }
			for _, c := range []struct {
				ip   string
				want access.Decision
			}{{"192.0.2.10", tt.want}, {"10.0.0.9", tt.other}} {
				r := &access.Request{RemoteIP: netip.MustParseAddr(c.ip), LocalIP: netip.MustParseAddr("10.0.0.1"), Method: "GET", Env: env}
				if got := p.Check(r); got != c.want {
					t.Errorf("%s: Check = %v, want %v", c.ip, got, c.want)
				}
			}
		})
	}
	// Merging shares, and never modifies, its arguments.
	outer := config.PerDir{Authz: inNet}
	m := config.MergeDir(&outer, &config.PerDir{Authz: trusted, AuthMerging: "and"})
	if m.Authz.Children[0] != inNet || outer.Authz != inNet || inNet.Children[0].Provider != "ip" {
		t.Error("MergeDir modified its arguments")
	}
}
