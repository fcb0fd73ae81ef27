package access

import (
	"net/netip"
	"testing"

	"wsgid/internal/config"
)

func req(ip string) *Request {
	return &Request{RemoteIP: netip.MustParseAddr(ip), LocalIP: netip.MustParseAddr("10.0.0.1"), Method: "GET",
		Env: func(k string) (string, bool) { return "", k == "trusted" }}
}

func leaf(neg bool, provider string, args ...string) *config.Authz {
	return &config.Authz{Kind: config.AuthzRequire, Negate: neg, Provider: provider, Args: args}
}

func group(kind config.AuthzKind, kids ...*config.Authz) *config.Authz {
	return &config.Authz{Kind: kind, Children: kids}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		authz  *config.Authz
		compat *config.AccessCompat
		ip     string
		want   Decision
	}{
		{"nothing configured", nil, nil, "1.2.3.4", Granted},
		{"all granted", group(config.AuthzAny, leaf(false, "all", "granted")), nil, "1.2.3.4", Granted},
		{"all denied", group(config.AuthzAny, leaf(false, "all", "denied")), nil, "1.2.3.4", Denied},
		{"ip cidr in", group(config.AuthzAny, leaf(false, "ip", "10.0.0.0/8")), nil, "10.9.8.7", Granted},
		{"ip cidr out", group(config.AuthzAny, leaf(false, "ip", "10.0.0.0/8")), nil, "11.0.0.1", Denied},
		{"ip partial", group(config.AuthzAny, leaf(false, "ip", "192.168")), nil, "192.168.5.2", Granted},
		{"ip netmask", group(config.AuthzAny, leaf(false, "ip", "172.16.0.0/255.240.0.0")), nil, "172.31.1.1", Granted},
		{"ipv6", group(config.AuthzAny, leaf(false, "ip", "2001:db8::/32")), nil, "2001:db8::1", Granted},
		{"local loopback", group(config.AuthzAny, leaf(false, "local")), nil, "127.0.0.1", Granted},
		{"local same address", group(config.AuthzAny, leaf(false, "local")), nil, "10.0.0.1", Granted},
		{"local remote", group(config.AuthzAny, leaf(false, "local")), nil, "8.8.8.8", Denied},
		{"env", group(config.AuthzAny, leaf(false, "env", "trusted")), nil, "8.8.8.8", Granted},
		{"method", group(config.AuthzAny, leaf(false, "method", "POST")), nil, "8.8.8.8", Denied},
		{"all with not: excluded", group(config.AuthzAll, leaf(false, "all", "granted"), leaf(true, "ip", "10.1.0.0/16")), nil, "10.1.2.3", Denied},
		{"all with not: others", group(config.AuthzAll, leaf(false, "all", "granted"), leaf(true, "ip", "10.1.0.0/16")), nil, "10.2.2.3", Granted},
		{"none", group(config.AuthzAny, group(config.AuthzAll, leaf(false, "all", "granted"), group(config.AuthzNone, leaf(false, "ip", "1.2.3.4")))), nil, "1.2.3.4", Denied},
		{"compat allow,deny all", nil, &config.AccessCompat{Order: "allow,deny", Allow: []string{"all"}}, "1.2.3.4", Granted},
		{"compat allow,deny nothing", nil, &config.AccessCompat{Order: "allow,deny"}, "1.2.3.4", Denied},
		{"compat deny all", nil, &config.AccessCompat{Order: "deny,allow", Deny: []string{"all"}}, "1.2.3.4", Denied},
		{"compat deny all allow local", nil, &config.AccessCompat{Order: "deny,allow", Deny: []string{"all"}, Allow: []string{"127.0.0.1"}}, "127.0.0.1", Granted},
		{"compat deny all allow local, other", nil, &config.AccessCompat{Order: "deny,allow", Deny: []string{"all"}, Allow: []string{"127.0.0.1"}}, "1.2.3.4", Denied},
		{"compat env", nil, &config.AccessCompat{Order: "allow,deny", Allow: []string{"env=trusted"}}, "1.2.3.4", Granted},
		{"satisfy any", group(config.AuthzAny, leaf(false, "all", "denied")), &config.AccessCompat{Order: "allow,deny", Allow: []string{"all"}, Satisfy: "any"}, "1.2.3.4", Granted},
		{"satisfy all", group(config.AuthzAny, leaf(false, "all", "denied")), &config.AccessCompat{Order: "allow,deny", Allow: []string{"all"}, Satisfy: "all"}, "1.2.3.4", Denied},
	}
	for _, tt := range tests {
		p, err := Compile(tt.authz, tt.compat)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := p.Check(req(tt.ip)); got != tt.want {
			t.Errorf("%s: Check(%s) = %v, want %v", tt.name, tt.ip, got, tt.want)
		}
	}
}

func TestBadSpecs(t *testing.T) {
	for _, s := range []string{"10.0.0.0/33", "10.0.0.0/255.0.255.0", "300.1", "1.2.3.4.5", "::1/200"} {
		if _, err := ParseIPSpec(s); err == nil {
			t.Errorf("ParseIPSpec(%q) succeeded", s)
		}
	}
}

func FuzzParseIPSpec(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.1", "::1", "1.2.3.4/255.255.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseIPSpec(s)
		if err == nil && !p.IsValid() {
			t.Fatalf("ParseIPSpec(%q) returned an invalid prefix without error", s)
		}
	})
}
