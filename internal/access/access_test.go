package access

import (
	"net/netip"
	"strings"
	"testing"

	"wsgid/internal/config"
)

// client describes a test request; the zero value is a GET from 192.0.2.10
// to 10.0.0.1 with no host name, no user and only "trusted" in the env.
type client struct {
	ip, local, method, host, user string
	groups                        []string
	env                           map[string]string
	lookup                        map[string][]string
}

func (c client) request() *Request {
	r := &Request{RemoteIP: netip.MustParseAddr(or(c.ip, "192.0.2.10")), LocalIP: netip.MustParseAddr(or(c.local, "10.0.0.1")),
		Method: or(c.method, "GET"), RemoteHost: c.host, User: c.user, Groups: c.groups}
	env := c.env
	if env == nil {
		env = map[string]string{"trusted": ""}
	}
	r.Env = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if c.lookup != nil {
		r.LookupHost = func(name string) []netip.Addr {
			var out []netip.Addr
			for _, s := range c.lookup[name] {
				out = append(out, netip.MustParseAddr(s))
			}
			return out
		}
	}
	return r
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func leaf(provider string, args ...string) *config.Authz {
	return &config.Authz{Pos: "t.conf:1", Kind: config.AuthzRequire, Provider: provider, Args: args}
}

func not(provider string, args ...string) *config.Authz {
	a := leaf(provider, args...)
	a.Negate = true
	return a
}

func all(kids ...*config.Authz) *config.Authz   { return sec(config.AuthzAll, kids...) }
func anyOf(kids ...*config.Authz) *config.Authz { return sec(config.AuthzAny, kids...) }
func none(kids ...*config.Authz) *config.Authz  { return sec(config.AuthzNone, kids...) }

func sec(kind config.AuthzKind, kids ...*config.Authz) *config.Authz {
	return &config.Authz{Pos: "t.conf:2", Kind: kind, Children: kids}
}

// scope wraps Require lines the way config does: an implicit RequireAny.
func scope(kids ...*config.Authz) *config.Authz { return anyOf(kids...) }

// authzCase is a Require tree and the decision it makes for a client.
type authzCase struct {
	name  string
	authz *config.Authz
	c     client
	want  Decision
}

func runAuthzCases(t *testing.T, tests []authzCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.authz, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Check(tt.c.request()); got != tt.want {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProviders(t *testing.T) {
	tests := []authzCase{
		{"nothing configured", nil, client{}, Granted},
		{"empty root is no directives", scope(), client{}, Granted},
		{"all granted", scope(leaf("all", "granted")), client{}, Granted},
		{"all denied", scope(leaf("all", "denied")), client{}, Denied},
		{"all GRANTED any case", scope(leaf("all", "GRANTED")), client{}, Granted},

		{"ip exact", scope(leaf("ip", "192.0.2.10")), client{}, Granted},
		{"ip exact other", scope(leaf("ip", "192.0.2.11")), client{}, Denied},
		{"ip list second", scope(leaf("ip", "10.0.0.0/8", "192.0.2.0/24")), client{}, Granted},
		{"ip cidr in", scope(leaf("ip", "10.0.0.0/8")), client{ip: "10.9.8.7"}, Granted},
		{"ip cidr out", scope(leaf("ip", "10.0.0.0/8")), client{ip: "11.0.0.1"}, Denied},
		{"ip cidr host bits set", scope(leaf("ip", "10.1.2.3/16")), client{ip: "10.1.200.1"}, Granted},
		{"ip partial", scope(leaf("ip", "192.168")), client{ip: "192.168.5.2"}, Granted},
		{"ip partial out", scope(leaf("ip", "192.168")), client{ip: "192.169.5.2"}, Denied},
		{"ip partial trailing dot", scope(leaf("ip", "10.1.")), client{ip: "10.1.7.7"}, Granted},
		{"ip netmask", scope(leaf("ip", "172.16.0.0/255.240.0.0")), client{ip: "172.31.1.1"}, Granted},
		{"ip netmask out", scope(leaf("ip", "172.16.0.0/255.240.0.0")), client{ip: "172.32.1.1"}, Denied},
		{"ipv6 cidr", scope(leaf("ip", "2001:db8::/32")), client{ip: "2001:db8::1"}, Granted},
		{"ipv6 cidr out", scope(leaf("ip", "2001:db8::/32")), client{ip: "2001:db9::1"}, Denied},
		{"ipv6 exact", scope(leaf("ip", "::1")), client{ip: "::1"}, Granted},
		{"ipv4 rule, mapped client", scope(leaf("ip", "192.0.2.0/24")), client{ip: "::ffff:192.0.2.10"}, Granted},
		{"mapped rule, ipv4 client", scope(leaf("ip", "::ffff:192.0.2.0/120")), client{}, Granted},
		{"ipv4 rule, ipv6 client", scope(leaf("ip", "0.0.0.0/1")), client{ip: "2001:db8::1"}, Denied},

		{"local loopback", scope(leaf("local")), client{ip: "127.0.0.1"}, Granted},
		{"local loopback range", scope(leaf("local")), client{ip: "127.9.9.9"}, Granted},
		{"local ipv6 loopback", scope(leaf("local")), client{ip: "::1", local: "::1"}, Granted},
		{"local same address", scope(leaf("local")), client{ip: "10.0.0.1"}, Granted},
		{"local same address mapped", scope(leaf("local")), client{ip: "::ffff:10.0.0.1"}, Granted},
		{"local remote", scope(leaf("local")), client{ip: "8.8.8.8"}, Denied},

		{"env set", scope(leaf("env", "trusted")), client{}, Granted},
		{"env second", scope(leaf("env", "nope", "trusted")), client{}, Granted},
		{"env unset", scope(leaf("env", "nope")), client{}, Denied},
		{"env set empty value", scope(leaf("env", "x")), client{env: map[string]string{"x": ""}}, Granted},

		{"method GET", scope(leaf("method", "GET", "POST")), client{}, Granted},
		{"method HEAD is GET", scope(leaf("method", "GET")), client{method: "HEAD"}, Granted},
		{"method rule HEAD allows GET", scope(leaf("method", "HEAD")), client{method: "GET"}, Granted},
		{"method other", scope(leaf("method", "POST")), client{}, Denied},
		{"method case matters", scope(leaf("method", "POST")), client{method: "post"}, Denied},

		{"host exact", scope(leaf("host", "example.com")), client{host: "example.com"}, Granted},
		{"host subdomain", scope(leaf("host", "example.com")), client{host: "www.Example.COM"}, Granted},
		{"host label boundary", scope(leaf("host", "example.com")), client{host: "badexample.com"}, Denied},
		{"host leading dot", scope(leaf("host", ".example.com")), client{host: "a.example.com"}, Granted},
		{"host leading dot not bare", scope(leaf("host", ".example.com")), client{host: "example.com"}, Denied},
		{"host unknown", scope(leaf("host", "example.com")), client{}, Denied},
		{"host is an address", scope(leaf("host", "2.10")), client{host: "192.0.2.10"}, Denied},

		{"forward-dns no resolver", scope(leaf("forward-dns", "dyn.example.org")), client{}, Denied},
		{"forward-dns match", scope(leaf("forward-dns", "dyn.example.org")), client{lookup: map[string][]string{"dyn.example.org": {"198.51.100.1", "192.0.2.10"}}}, Granted},
		{"forward-dns other", scope(leaf("forward-dns", "dyn.example.org")), client{lookup: map[string][]string{"dyn.example.org": {"198.51.100.1"}}}, Denied},

		{"valid-user none", scope(leaf("valid-user")), client{}, AuthRequired},
		{"valid-user some", scope(leaf("valid-user")), client{user: "ann"}, Granted},
		{"user listed", scope(leaf("user", "bob", "ann")), client{user: "ann"}, Granted},
		{"user not listed", scope(leaf("user", "bob")), client{user: "ann"}, Denied},
		{"user none", scope(leaf("user", "bob")), client{}, AuthRequired},
		{"group member", scope(leaf("group", "admin")), client{user: "ann", groups: []string{"staff", "admin"}}, Granted},
		{"group not member", scope(leaf("group", "admin")), client{user: "ann", groups: []string{"staff"}}, Denied},
		{"group no user", scope(leaf("group", "admin")), client{}, AuthRequired},
	}
	runAuthzCases(t, tests)
}

func TestNesting(t *testing.T) {
	exceptBad := all(leaf("all", "granted"), not("ip", "10.1.0.0/16"))
	noneBad := scope(all(leaf("all", "granted"), none(leaf("ip", "10.1.0.0/16"), leaf("env", "blocked"))))
	tests := []authzCase{
		{"all+not excluded", scope(exceptBad), client{ip: "10.1.2.3"}, Denied},
		{"all+not others", scope(exceptBad), client{ip: "10.2.2.3"}, Granted},
		{"none matches ip", noneBad, client{ip: "10.1.2.3"}, Denied},
		{"none matches env", noneBad, client{env: map[string]string{"blocked": "1"}}, Denied},
		{"none matches nothing", noneBad, client{}, Granted},
		{"several lines are any", scope(leaf("ip", "10.0.0.0/8"), leaf("env", "trusted")), client{}, Granted},
		{"several lines none pass", scope(leaf("ip", "10.0.0.0/8"), leaf("env", "nope")), client{}, Denied},
		{"all needs every positive", scope(all(leaf("ip", "192.0.2.0/24"), leaf("env", "trusted"))), client{}, Granted},
		{"all one fails", scope(all(leaf("ip", "192.0.2.0/24"), leaf("env", "nope"))), client{}, Denied},
		{"any in all", scope(all(anyOf(leaf("ip", "10.0.0.0/8"), leaf("ip", "192.0.2.0/24")), leaf("method", "GET"))), client{}, Granted},
		{"any in all, method fails", scope(all(anyOf(leaf("ip", "10.0.0.0/8"), leaf("ip", "192.0.2.0/24")), leaf("method", "GET"))), client{method: "POST"}, Denied},
		{"not in all, with not matching", scope(all(leaf("env", "trusted"), not("method", "POST"), not("ip", "10.0.0.0/8"))), client{}, Granted},
		{"not in all, second not matches", scope(all(leaf("env", "trusted"), not("method", "POST"), not("ip", "192.0.2.0/24"))), client{}, Denied},
		// A user could still satisfy an Any: 401, not 403.
		{"any: ip fails, user could", scope(leaf("ip", "10.0.0.0/8"), leaf("valid-user")), client{}, AuthRequired},
		{"any: ip passes", scope(leaf("ip", "192.0.2.0/24"), leaf("valid-user")), client{}, Granted},
		// In an All, a plain denial cannot be fixed by a user: 403.
		{"all: user first then ip fails", scope(all(leaf("valid-user"), leaf("ip", "10.0.0.0/8"))), client{}, Denied},
		{"all: ip fails then user", scope(all(leaf("ip", "10.0.0.0/8"), leaf("valid-user"))), client{}, Denied},
		{"all: ip passes, user missing", scope(all(leaf("ip", "192.0.2.0/24"), leaf("valid-user"))), client{}, AuthRequired},
		{"all: ip passes, user given", scope(all(leaf("ip", "192.0.2.0/24"), leaf("valid-user"))), client{user: "ann"}, Granted},
		{"none of users", scope(all(leaf("all", "granted"), none(leaf("user", "mallory")))), client{}, Granted},
	}
	runAuthzCases(t, tests)
}

// TestNeutralRootDenies covers a tree Compile would refuse: a neutral
// result at the top is a denial, as in mod_authz_core.
func TestNeutralRootDenies(t *testing.T) {
	n, err := compileNode(all(not("ip", "10.0.0.0/8")))
	if err != nil {
		t.Fatal(err)
	}
	p := &Policy{authz: n}
	if got := n.eval(client{}.request(), opAll); got != neutral {
		t.Fatalf("eval = %v, want neutral", got)
	}
	if got := p.Check(client{}.request()); got != Denied {
		t.Errorf("Check = %v, want Denied", got)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		authz *config.Authz
		want  string
	}{
		{"not at top level", scope(leaf("all", "granted"), not("ip", "10.1")), "t.conf:1: negative Require directive has no effect in <RequireAny> directive"},
		{"bare not", not("ip", "10.1"), "negative Require directive has no effect in <RequireAny> directive"},
		{"not in explicit any", scope(all(leaf("all", "granted"), anyOf(leaf("env", "x"), not("ip", "10.1")))), "negative Require directive has no effect in <RequireAny> directive"},
		{"none at top level", scope(leaf("all", "granted"), none(leaf("ip", "10.1"))), "t.conf:2: <RequireNone> directive has no effect in <RequireAny> directive"},
		{"none in none", scope(all(leaf("all", "granted"), none(none(leaf("ip", "10.1"))))), "<RequireNone> directive has no effect in <RequireNone> directive"},
		{"empty all", scope(all()), "<RequireAll> directive contains no authorization directives"},
		{"only negatives in all", scope(all(not("ip", "10.1"), not("env", "x"))), "<RequireAll> directive contains only negative authorization directives"},
		{"only none in all", scope(all(none(leaf("ip", "10.1")))), "<RequireAll> directive contains only negative authorization directives"},
		{"merged top only negative", all(not("ip", "10.1")), "<Directory>, <Location>, or similar directive contains only negative"},
		{"bad cidr", scope(leaf("ip", "10.0.0.0/33")), "t.conf:1: Require ip 10.0.0.0/33: the specified network mask \"33\" is invalid"},
		{"ip not an address", scope(leaf("ip", "example.com")), "ip address 'example.com' appears to be invalid"},
		{"ip bad octet", scope(leaf("ip", "10.300")), "is invalid"},
		{"ip no args", scope(leaf("ip")), "'Require ip' requires an argument"},
		{"unknown provider", scope(leaf("expr", "true")), "Unknown Authz provider: expr"},
		{"all bad arg", scope(leaf("all", "yes")), "must be 'granted' or 'denied'"},
		{"all no arg", scope(leaf("all")), "must be 'granted' or 'denied'"},
		{"method lower case", scope(leaf("method", "get")), "Invalid Method 'get'"},
		{"env no args", scope(leaf("env")), "requires an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.authz, nil)
			if err == nil {
				t.Fatalf("Compile succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func compatOf(order string, allow, deny []string, satisfy string) *config.AccessCompat {
	return &config.AccessCompat{Pos: "t.conf:9", Order: order, Allow: allow, Deny: deny, Satisfy: satisfy}
}

func TestCompat(t *testing.T) {
	l := func(s ...string) []string { return s }
	tests := []struct {
		name   string
		compat *config.AccessCompat
		authz  *config.Authz
		c      client
		want   Decision
	}{
		{"allow,deny allow all", compatOf("allow,deny", l("all"), nil, ""), nil, client{}, Granted},
		{"allow,deny nothing", compatOf("allow,deny", nil, nil, ""), nil, client{}, Denied},
		{"deny,allow nothing", compatOf("deny,allow", nil, nil, ""), nil, client{}, Granted},
		{"default order is deny,allow", compatOf("", nil, l("all"), ""), nil, client{}, Denied},
		{"deny all alone", compatOf("deny,allow", nil, l("all"), ""), nil, client{}, Denied},
		{"deny all allow local: local", compatOf("deny,allow", l("127.0.0.1"), l("all"), ""), nil, client{ip: "127.0.0.1"}, Granted},
		{"deny all allow local: other", compatOf("deny,allow", l("127.0.0.1"), l("all"), ""), nil, client{}, Denied},
		{"allow,deny both match: deny wins", compatOf("allow,deny", l("all"), l("192.0.2.0/24"), ""), nil, client{}, Denied},
		{"deny,allow both match: allow wins", compatOf("deny,allow", l("192.0.2.0/24"), l("all"), ""), nil, client{}, Granted},
		{"allow,deny allow net deny host", compatOf("allow,deny", l("10.0.0.0/8"), l("10.1.1.1"), ""), nil, client{ip: "10.1.1.1"}, Denied},
		{"allow,deny allow net other host", compatOf("allow,deny", l("10.0.0.0/8"), l("10.1.1.1"), ""), nil, client{ip: "10.1.1.2"}, Granted},
		{"mutual-failure allow only", compatOf("mutual-failure", l("192.0.2"), nil, ""), nil, client{}, Granted},
		{"mutual-failure both", compatOf("mutual-failure", l("192.0.2"), l("192.0.2.10"), ""), nil, client{}, Denied},
		{"mutual-failure neither", compatOf("mutual-failure", nil, nil, ""), nil, client{}, Denied},
		{"allow env", compatOf("allow,deny", l("env=trusted"), nil, ""), nil, client{}, Granted},
		{"allow env unset", compatOf("allow,deny", l("env=nope"), nil, ""), nil, client{}, Denied},
		{"deny env=! unset", compatOf("deny,allow", nil, l("env=!letmein"), ""), nil, client{}, Denied},
		{"deny env=! set", compatOf("deny,allow", nil, l("env=!letmein"), ""), nil, client{env: map[string]string{"letmein": "1"}}, Granted},
		{"ENV= any case", compatOf("allow,deny", l("ENV=trusted"), nil, ""), nil, client{}, Granted},
		{"allow host name", compatOf("allow,deny", l("example.com"), nil, ""), nil, client{host: "www.example.com"}, Granted},
		{"allow host name unknown", compatOf("allow,deny", l("example.com"), nil, ""), nil, client{}, Denied},
		{"allow netmask", compatOf("allow,deny", l("192.0.2.0/255.255.255.0"), nil, ""), nil, client{}, Granted},
		{"allow ipv6", compatOf("allow,deny", l("2001:db8::/32"), nil, ""), nil, client{ip: "2001:db8::5"}, Granted},
		{"order with spaces and case", compatOf("Allow, Deny", l("all"), nil, ""), nil, client{}, Granted},

		// Satisfy: with All (default) both must pass.
		{"satisfy all: host ok, authz denies", compatOf("allow,deny", l("all"), nil, "all"), scope(leaf("all", "denied")), client{}, Denied},
		{"satisfy all: host denies, authz ok", compatOf("allow,deny", nil, nil, ""), scope(leaf("all", "granted")), client{}, Denied},
		{"satisfy all: both ok", compatOf("allow,deny", l("all"), nil, ""), scope(leaf("all", "granted")), client{}, Granted},
		{"satisfy all: host ok, user needed", compatOf("allow,deny", l("all"), nil, ""), scope(leaf("valid-user")), client{}, AuthRequired},
		{"satisfy all: host denies, user needed", compatOf("allow,deny", nil, nil, ""), scope(leaf("valid-user")), client{}, Denied},
		// With Any, passing the host check is enough.
		{"satisfy any: host ok, authz denies", compatOf("allow,deny", l("all"), nil, "any"), scope(leaf("all", "denied")), client{}, Granted},
		{"satisfy any: host fails, authz grants", compatOf("allow,deny", l("10.0.0.0/8"), nil, "any"), scope(leaf("env", "trusted")), client{}, Granted},
		{"satisfy any: host fails, authz denies", compatOf("allow,deny", l("10.0.0.0/8"), nil, "any"), scope(leaf("env", "nope")), client{}, Denied},
		{"satisfy any: host fails, user needed", compatOf("allow,deny", l("10.0.0.0/8"), nil, "any"), scope(leaf("valid-user")), client{}, AuthRequired},
		{"satisfy any: internal net skips login", compatOf("allow,deny", l("192.0.2.0/24"), nil, "any"), scope(leaf("valid-user")), client{}, Granted},
		{"satisfy any: host fails, no authz", compatOf("allow,deny", nil, nil, "any"), nil, client{}, Granted},
		{"satisfy all: host fails, no authz", compatOf("allow,deny", nil, nil, "all"), nil, client{}, Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.authz, tt.compat)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Check(tt.c.request()); got != tt.want {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompatErrors(t *testing.T) {
	tests := []struct {
		compat *config.AccessCompat
		want   string
	}{
		{compatOf("allow,deny", []string{"10.0.0.0/33"}, nil, ""), `t.conf:9: Allow from 10.0.0.0/33: the specified network mask "33" is invalid`},
		{compatOf("allow,deny", nil, []string{"1.2.3.999"}, ""), `t.conf:9: Deny from 1.2.3.999: the specified IP address "1.2.3.999" is invalid`},
		{compatOf("allow,deny", []string{"example.com/8"}, nil, ""), "An IP address was expected"},
		{compatOf("allow,deny", []string{"::zz"}, nil, ""), "is invalid"},
		{compatOf("allow,deny", []string{""}, nil, ""), "empty host specification"},
		{compatOf("first,last", nil, nil, ""), "unknown order"},
		{compatOf("", nil, nil, "some"), "Satisfy either 'any' or 'all'"},
	}
	for _, tt := range tests {
		_, err := Compile(nil, tt.compat)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%+v) error = %v, want %q", tt.compat, err, tt.want)
		}
	}
}

func TestParseIPSpec(t *testing.T) {
	good := map[string]string{
		"10.1.2.3":                  "10.1.2.3/32",
		"10":                        "10.0.0.0/8",
		"10.1":                      "10.1.0.0/16",
		"10.1.2":                    "10.1.2.0/24",
		"10.1.":                     "10.1.0.0/16",
		"1.2.3.04":                  "1.2.3.4/32",
		"10.0.0.0/8":                "10.0.0.0/8",
		"10.9.9.9/8":                "10.0.0.0/8",
		"10.0.0.0/255.0.0.0":        "10.0.0.0/8",
		"192.0.2.0/255.255.255.252": "192.0.2.0/30",
		"::1":                       "::1/128",
		"2001:db8::/32":             "2001:db8::/32",
		"2001:db8::1/64":            "2001:db8::/64",
		"::ffff:10.0.0.1":           "::ffff:10.0.0.1/128",
	}
	for in, want := range good {
		p, err := ParseIPSpec(in)
		if err != nil {
			t.Errorf("ParseIPSpec(%q): %v", in, err)
			continue
		}
		if p.String() != want {
			t.Errorf("ParseIPSpec(%q) = %s, want %s", in, p, want)
		}
	}
	for _, s := range []string{"", "10.0.0.0/33", "10.0.0.0/0", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/255.0.255.0",
		"10.0.0.0/0.0.0.0", "300.1", "1.2.3.4.5", "10..1", ".", "::1/200", "::1/255.0.0.0", "10.1/16", "fe80::1%eth0",
		"example.com", "1.2.3.4/", "/8", "0001.2"} {
		if p, err := ParseIPSpec(s); err == nil {
			t.Errorf("ParseIPSpec(%q) = %s, want an error", s, p)
		}
	}
}

func TestCheckAllocs(t *testing.T) {
	p, err := Compile(scope(all(leaf("ip", "192.0.2.0/24", "10.0.0.0/8"), leaf("method", "GET"), none(leaf("host", "bad.example")))),
		compatOf("allow,deny", []string{"all"}, []string{"env=blocked"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	r := client{host: "ok.example"}.request()
	if got := p.Check(r); got != Granted {
		t.Fatalf("Check = %v, want Granted", got)
	}
	if n := testing.AllocsPerRun(100, func() { p.Check(r) }); n != 0 {
		t.Errorf("Check allocates %v times per call", n)
	}
}

func TestNilPolicy(t *testing.T) {
	var p *Policy
	if p.Check(client{}.request()) != Granted {
		t.Error("a nil Policy must grant")
	}
	q, _ := Compile(nil, nil)
	if q.Check(client{}.request()) != Granted || q.authz != nil || q.compat != nil {
		t.Error("Compile(nil, nil) has rules")
	}
	if Denied.String() != "denied" || AuthRequired.String() != "auth-required" || Granted.String() != "granted" {
		t.Error("Decision.String")
	}
}

func FuzzParseIPSpec(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.1", "10.1.", "::1", "1.2.3.4/255.255.0.0", "2001:db8::/32", "::ffff:1.2.3.4/120", "example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseIPSpec(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Bits() < 1 {
			t.Fatalf("ParseIPSpec(%q) = %v: not a valid masked prefix", s, p)
		}
		q, err := ParseIPSpec(p.String())
		if err != nil || q != p {
			t.Fatalf("ParseIPSpec(%q) = %v, which reparses as %v, %v", s, p, q, err)
		}
	})
}

func FuzzHostRule(f *testing.F) {
	for _, s := range []string{"all", "env=X", "env=!X", "10.1", "example.com", "a/b", "::1/64"} {
		f.Add(s, "192.0.2.1", "host.example.com")
	}
	f.Fuzz(func(t *testing.T, rule, ip, host string) {
		h, err := parseHostRule(rule)
		if err != nil {
			return
		}
		addr, _ := netip.ParseAddr(ip)
		h.match(&Request{RemoteIP: addr, RemoteHost: host})
	})
}
