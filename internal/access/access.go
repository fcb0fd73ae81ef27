// Package access decides whether a request may proceed, as Apache 2.4's
// mod_authz_core, mod_authz_host and mod_access_compat do. Rules are
// compiled once per merged configuration; Check is cheap and allocates
// nothing.
package access

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"wsgid/internal/config"
)

// Decision is the outcome of Check.
type Decision int

const (
	Granted Decision = iota
	Denied
)

// Request is what a decision looks at.
type Request struct {
	RemoteIP   netip.Addr
	LocalIP    netip.Addr
	Method     string
	RemoteHost string // client host name when known; host rules never resolve names
	Env        func(string) (string, bool)
}

// Policy is a compiled set of access rules.
type Policy struct {
	authz  *node
	compat *compat
}

type result int

const (
	neutral result = iota
	granted
	denied
)

type node struct {
	kind     config.AuthzKind
	negate   bool
	test     func(*Request) bool // leaf
	children []*node
}

type compat struct {
	order   string
	allow   []matcher
	deny    []matcher
	satisfy string
}

type matcher func(*Request) bool

// Compile builds a Policy from the merged Require tree and legacy
// Order/Allow/Deny rules. With neither, everything is granted (Apache
// 2.4 with no authorization configured).
func Compile(a *config.Authz, c *config.AccessCompat) (*Policy, error) {
	p := &Policy{}
	if a != nil {
		n, err := compileNode(a)
		if err != nil {
			return nil, err
		}
		p.authz = n
	}
	if c != nil {
		cc := &compat{order: c.Order, satisfy: c.Satisfy}
		if cc.order == "" {
			cc.order = "deny,allow"
		}
		for _, s := range c.Allow {
			m, err := hostMatcher(s)
			if err != nil {
				return nil, fmt.Errorf("%s: Allow from %s: %w", c.Pos, s, err)
			}
			cc.allow = append(cc.allow, m)
		}
		for _, s := range c.Deny {
			m, err := hostMatcher(s)
			if err != nil {
				return nil, fmt.Errorf("%s: Deny from %s: %w", c.Pos, s, err)
			}
			cc.deny = append(cc.deny, m)
		}
		p.compat = cc
	}
	return p, nil
}

func compileNode(a *config.Authz) (*node, error) {
	n := &node{kind: a.Kind, negate: a.Negate}
	if a.Kind != config.AuthzRequire {
		for _, c := range a.Children {
			cn, err := compileNode(c)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, cn)
		}
		return n, nil
	}
	switch a.Provider {
	case "all":
		g := len(a.Args) > 0 && a.Args[0] == "granted"
		n.test = func(*Request) bool { return g }
	case "ip":
		var ms []matcher
		for _, s := range a.Args {
			m, err := ipMatcher(s)
			if err != nil {
				return nil, fmt.Errorf("%s: Require ip %s: %w", a.Pos, s, err)
			}
			ms = append(ms, m)
		}
		n.test = anyOf(ms)
	case "local":
		n.test = func(r *Request) bool {
			return r.RemoteIP.IsLoopback() || (r.RemoteIP.IsValid() && r.RemoteIP == r.LocalIP)
		}
	case "host", "forward-dns":
		names := append([]string(nil), a.Args...)
		n.test = func(r *Request) bool {
			h := strings.ToLower(r.RemoteHost)
			if h == "" {
				return false
			}
			for _, s := range names {
				s = strings.ToLower(s)
				if h == s || strings.HasSuffix(h, "."+strings.TrimPrefix(s, ".")) {
					return true
				}
			}
			return false
		}
	case "env":
		vars := append([]string(nil), a.Args...)
		n.test = func(r *Request) bool {
			if r.Env == nil {
				return false
			}
			for _, v := range vars {
				if _, ok := r.Env(v); ok {
					return true
				}
			}
			return false
		}
	case "method":
		methods := map[string]bool{}
		for _, m := range a.Args {
			methods[strings.ToUpper(m)] = true
		}
		n.test = func(r *Request) bool { return methods[r.Method] }
	default:
		return nil, fmt.Errorf("%s: Require %s is not supported", a.Pos, a.Provider)
	}
	return n, nil
}

func anyOf(ms []matcher) func(*Request) bool {
	return func(r *Request) bool {
		for _, m := range ms {
			if m(r) {
				return true
			}
		}
		return false
	}
}

// eval follows mod_authz_core: a leaf is granted or denied (negated:
// denied or neutral); RequireAll is denied if any child is denied, else
// granted if any child granted; RequireAny is granted if any child is
// granted, else denied if any is denied; RequireNone inverts grants.
func (n *node) eval(r *Request) result {
	switch n.kind {
	case config.AuthzRequire:
		ok := n.test(r)
		if n.negate {
			if ok {
				return denied
			}
			return neutral
		}
		if ok {
			return granted
		}
		return denied
	case config.AuthzAll:
		res := neutral
		for _, c := range n.children {
			switch c.eval(r) {
			case denied:
				return denied
			case granted:
				res = granted
			}
		}
		return res
	case config.AuthzNone:
		for _, c := range n.children {
			if c.eval(r) == granted {
				return denied
			}
		}
		return neutral
	default:
		res := neutral
		for _, c := range n.children {
			switch c.eval(r) {
			case granted:
				return granted
			case denied:
				res = denied
			}
		}
		return res
	}
}

// Check decides a request.
func (p *Policy) Check(r *Request) Decision {
	authzOK := true
	if p.authz != nil {
		authzOK = p.authz.eval(r) == granted
	}
	if p.compat == nil {
		return decide(authzOK)
	}
	hostOK := p.compat.check(r)
	if p.compat.satisfy == "any" && p.authz != nil {
		return decide(hostOK || authzOK)
	}
	return decide(hostOK && authzOK)
}

func decide(ok bool) Decision {
	if ok {
		return Granted
	}
	return Denied
}

func (c *compat) check(r *Request) bool {
	match := func(ms []matcher) bool {
		for _, m := range ms {
			if m(r) {
				return true
			}
		}
		return false
	}
	switch c.order {
	case "allow,deny":
		return match(c.allow) && !match(c.deny)
	case "mutual-failure":
		return match(c.allow) && !match(c.deny)
	default: // deny,allow
		if match(c.deny) && !match(c.allow) {
			return false
		}
		return true
	}
}

// hostMatcher parses an Allow/Deny argument: all, env=[!]VAR, an IP
// specification, or a host name (matched only when known).
func hostMatcher(s string) (matcher, error) {
	ls := strings.ToLower(s)
	switch {
	case ls == "all":
		return func(*Request) bool { return true }, nil
	case strings.HasPrefix(ls, "env="):
		v := s[4:]
		neg := strings.HasPrefix(v, "!")
		v = strings.TrimPrefix(v, "!")
		return func(r *Request) bool {
			set := false
			if r.Env != nil {
				_, set = r.Env(v)
			}
			return set != neg
		}, nil
	}
	if m, err := ipMatcher(s); err == nil {
		return m, nil
	}
	if strings.ContainsAny(s, "/:") {
		return nil, fmt.Errorf("not a valid IP address or network")
	}
	name := strings.ToLower(s)
	return func(r *Request) bool {
		h := strings.ToLower(r.RemoteHost)
		return h != "" && (h == name || strings.HasSuffix(h, "."+strings.TrimPrefix(name, ".")))
	}, nil
}

// ipMatcher parses mod_authz_host's IP forms: a full address, a partial
// IPv4 address ("10.1"), a CIDR ("10.0.0.0/8", "2001:db8::/32") or a
// netmask ("10.0.0.0/255.0.0.0").
func ipMatcher(s string) (matcher, error) {
	pfx, err := ParseIPSpec(s)
	if err != nil {
		return nil, err
	}
	return func(r *Request) bool { return r.RemoteIP.IsValid() && pfx.Contains(r.RemoteIP.Unmap()) }, nil
}

// ParseIPSpec parses an Apache IP specification into a prefix.
func ParseIPSpec(s string) (netip.Prefix, error) {
	if addr, mask, ok := strings.Cut(s, "/"); ok {
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid address %q", addr)
		}
		ip = ip.Unmap()
		if bits, err := strconv.Atoi(mask); err == nil {
			p, err := ip.Prefix(bits)
			if err != nil || bits < 0 {
				return netip.Prefix{}, fmt.Errorf("invalid prefix length %q", mask)
			}
			return p, nil
		}
		m, err := netip.ParseAddr(mask)
		if err != nil || !m.Is4() || !ip.Is4() {
			return netip.Prefix{}, fmt.Errorf("invalid netmask %q", mask)
		}
		b := m.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		bits := 0
		for v&0x80000000 != 0 {
			bits++
			v <<= 1
		}
		if v != 0 {
			return netip.Prefix{}, fmt.Errorf("netmask %q is not contiguous", mask)
		}
		return ip.Prefix(bits)
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	// Partial IPv4: "10", "10.1", "10.1.2" (a trailing dot is allowed).
	parts := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(parts) == 0 || len(parts) > 3 {
		return netip.Prefix{}, fmt.Errorf("invalid IP specification %q", s)
	}
	var b [4]byte
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return netip.Prefix{}, fmt.Errorf("invalid IP specification %q", s)
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b).Prefix(8 * len(parts))
}
