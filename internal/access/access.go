// Package access decides whether a request may proceed, as Apache 2.4's
// mod_authz_core, mod_authz_host and mod_access_compat do.
//
// A per-directory configuration (the merged Require tree and the legacy
// Order/Allow/Deny/Satisfy rules) is compiled once with Compile, which
// also enforces Apache's start-up checks on the Require tree. Check is the
// hot path: it allocates nothing and performs no name lookups.
//
// Merging across scopes happens on the configuration trees, before
// compilation (config.MergeDir), so a Policy is compiled once per
// combination of sections.
package access

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"wsgid/internal/config"
)

// Decision is the outcome of Check.
type Decision int

const (
	// Granted lets the request proceed.
	Granted Decision = iota
	// Denied is a 403: "client denied by server configuration"
	// (Apache's AH01630 from mod_authz_core, AH01797 from
	// mod_access_compat).
	Denied
	// AuthRequired means the rules would be decided by knowing the user:
	// a Require user, valid-user or group that an authenticated user could
	// satisfy, and no user given. Apache answers 401 and runs
	// authentication; wsgid has no authentication yet, so callers treat
	// it as a refusal but can log it distinctly.
	AuthRequired
)

// String returns "granted", "denied" or "auth-required".
func (d Decision) String() string {
	switch d {
	case Granted:
		return "granted"
	case Denied:
		return "denied"
	case AuthRequired:
		return "auth-required"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Request is what a decision looks at. Only RemoteIP is needed by most
// rules; the zero value of every other field means "unknown" and makes the
// rules that need it fail to match, never match by accident.
type Request struct {
	// RemoteIP is the client address (Apache's useragent_ip). IPv4-mapped
	// IPv6 addresses match IPv4 rules.
	RemoteIP netip.Addr
	// LocalIP is the server address the connection arrived on; with the
	// loopback range it makes up "Require local".
	LocalIP netip.Addr
	// Method is the request method; HEAD is treated as GET, as Apache's
	// method numbers do.
	Method string
	// RemoteHost is the client's host name when it is known and verified
	// (Apache's double-reverse lookup). wsgid performs no DNS lookups
	// itself, so "Require host" and "Allow from <name>" match only when
	// the caller fills this in; "" never matches.
	RemoteHost string
	// LookupHost resolves a name for "Require forward-dns"; nil means no
	// resolution, and forward-dns rules never match.
	LookupHost func(name string) []netip.Addr
	// Env looks up the request's environment variables (SetEnv,
	// SetEnvIf...) for "Require env" and "Allow from env=".
	Env func(name string) (string, bool)
	// User is the authenticated user, "" when none.
	User string
	// Groups are the groups User belongs to, for "Require group".
	Groups []string
}

// Policy is a compiled set of access rules for one merged per-directory
// configuration. A nil *Policy grants everything. A Policy is immutable
// and safe for concurrent use.
type Policy struct {
	authz  *node   // nil: no Require directives apply (mod_authz_core grants)
	compat *compat // nil: no Order/Allow/Deny/Satisfy apply
}

// result is mod_authz_core's tri-state authz_status.
type result uint8

const (
	neutral result = iota
	granted
	denied
	deniedNoUser
)

type op uint8

const (
	opLeaf op = iota
	opAll     // AND
	opAny     // OR
)

type provider uint8

const (
	provAll provider = iota
	provIP
	provLocal
	provHost
	provForwardDNS
	provEnv
	provMethod
	provUser
	provValidUser
	provGroup
)

// node is a compiled authz section: a provider leaf or a container.
// <RequireNone> is an Any container with negate set, as in Apache.
type node struct {
	op       op
	negate   bool
	prov     provider
	grant    bool           // Require all granted
	prefixes []netip.Prefix // ip
	names    []string       // host/forward-dns names, env variables, users, groups
	methods  []string       // method
	children []*node
}

// Compile builds a Policy from the merged Require tree a and the merged
// legacy rules c; either may be nil. It checks the tree as Apache does at
// start-up and parses every address, so that errors cite the directive's
// file:line. With neither a nor c everything is granted, as in Apache 2.4
// with no authorization configured.
func Compile(a *config.Authz, c *config.AccessCompat) (*Policy, error) {
	p := &Policy{}
	if a != nil && !(a.Kind != config.AuthzRequire && len(a.Children) == 0) {
		if err := checkRoot(a); err != nil {
			return nil, err
		}
		n, err := compileNode(a)
		if err != nil {
			return nil, err
		}
		p.authz = n
	}
	if c != nil {
		cc, err := compileCompat(c)
		if err != nil {
			return nil, err
		}
		p.compat = cc
	}
	return p, nil
}

// Check decides a request. It follows Apache 2.4's request processing:
// mod_access_compat's host check runs first (the access_checker hook),
// then mod_authz_core evaluates the Require tree. With "Satisfy All" (the
// default) both must pass; with "Satisfy Any" passing the host check is
// enough, and otherwise the Require tree decides.
func (p *Policy) Check(r *Request) Decision {
	if p == nil {
		return Granted
	}
	if p.compat != nil {
		hostOK := p.compat.check(r)
		if p.compat.satisfyAny {
			if hostOK {
				return Granted
			}
		} else if !hostOK {
			return Denied
		}
	}
	if p.authz == nil {
		return Granted
	}
	switch p.authz.eval(r, opAll) {
	case granted:
		return Granted
	case deniedNoUser:
		return AuthRequired
	}
	return Denied
}

// eval is mod_authz_core's apply_authz_sections: an All container is
// denied as soon as one child is denied and granted if some child granted;
// an Any container is granted as soon as one child is granted and denied
// if some child denied; neutral children do not count. Negation turns
// granted into denied and denied into neutral: not being excluded never
// grants access by itself.
func (n *node) eval(r *Request, parent op) result {
	var res result
	if n.op == opLeaf {
		res = n.check(r)
	} else {
		res = neutral
		for _, c := range n.children {
			cr := c.eval(r, n.op)
			if cr == neutral {
				continue
			}
			if n.op == opAll {
				if cr == denied {
					res = denied
					break
				}
				if (cr == deniedNoUser && res != denied) || res == neutral {
					res = cr
				}
			} else {
				if cr == granted {
					res = granted
					break
				}
				if (cr == deniedNoUser && res == denied) || res == neutral {
					res = cr
				}
			}
		}
	}
	if n.negate {
		switch res {
		case granted:
			res = denied
		case denied, deniedNoUser:
			res = neutral
		}
	}
	return res
}

// check runs one provider, as mod_authz_host and mod_authz_user do.
func (n *node) check(r *Request) result {
	switch n.prov {
	case provAll:
		return grantIf(n.grant)
	case provIP:
		return grantIf(matchIP(n.prefixes, r.RemoteIP))
	case provLocal:
		ip := r.RemoteIP.Unmap()
		return grantIf(ip.IsValid() && (ip.IsLoopback() || ip == r.LocalIP.Unmap()))
	case provHost:
		return grantIf(matchHost(n.names, r.RemoteHost))
	case provForwardDNS:
		if r.LookupHost == nil || !r.RemoteIP.IsValid() {
			return denied
		}
		ip := r.RemoteIP.Unmap()
		for _, name := range n.names {
			for _, a := range r.LookupHost(name) {
				if a.Unmap() == ip {
					return granted
				}
			}
		}
		return denied
	case provEnv:
		if r.Env == nil {
			return denied
		}
		for _, v := range n.names {
			if _, ok := r.Env(v); ok {
				return granted
			}
		}
		return denied
	case provMethod:
		m := r.Method
		if m == "HEAD" {
			m = "GET"
		}
		for _, x := range n.methods {
			if x == m {
				return granted
			}
		}
		return denied
	case provValidUser:
		if r.User == "" {
			return deniedNoUser
		}
		return granted
	case provUser:
		if r.User == "" {
			return deniedNoUser
		}
		for _, u := range n.names {
			if u == r.User {
				return granted
			}
		}
		return denied
	case provGroup:
		if r.User == "" {
			return deniedNoUser
		}
		for _, g := range r.Groups {
			for _, want := range n.names {
				if g == want {
					return granted
				}
			}
		}
		return denied
	}
	return denied
}

func grantIf(ok bool) result {
	if ok {
		return granted
	}
	return denied
}

func matchIP(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if matchPrefix(p, ip) {
			return true
		}
	}
	return false
}

func matchPrefix(p netip.Prefix, ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	// An IPv6 spec written as ::ffff:a.b.c.d/n still matches the IPv4
	// client it denotes.
	return p.Contains(ip) || ip.Is4() && p.Addr().Is6() && p.Contains(netip.AddrFrom16(ip.As16()))
}

func matchHost(rules []string, host string) bool {
	for _, d := range rules {
		if matchDomain(d, host) {
			return true
		}
	}
	return false
}

// matchDomain is Apache's in_domain: the client's verified host name ends
// with the rule, on a label boundary ("example.com" matches
// "www.example.com" but not "badexample.com"), ignoring case. A host
// that is an address is not a verified name and matches nothing.
func matchDomain(d, host string) bool {
	if host == "" || d == "" || looksLikeIP(host) {
		return false
	}
	if len(host) < len(d) || !strings.EqualFold(host[len(host)-len(d):], d) {
		return false
	}
	return len(host) == len(d) || d[0] == '.' || host[len(host)-len(d)-1] == '.'
}

// kindName is how Apache names a section in its messages.
func kindName(a *config.Authz) string {
	switch a.Kind {
	case config.AuthzAll:
		return "<RequireAll>"
	case config.AuthzNone:
		return "<RequireNone>"
	case config.AuthzAny:
		return "<RequireAny>"
	}
	s := "Require "
	if a.Negate {
		s += "not "
	}
	return s + strings.TrimSpace(a.Provider+" "+strings.Join(a.Args, " "))
}

// negated reports whether a section inverts its result: "Require not"
// and <RequireNone>.
func negated(a *config.Authz) bool {
	return a.Negate || a.Kind == config.AuthzNone
}

// isAnd reports whether a container combines with AND.
func isAnd(a *config.Authz) bool { return a.Kind == config.AuthzAll }

// checkRoot applies mod_authz_core's start-up checks to a tree:
// a negative directive directly in a <RequireAny> (including the implicit
// one of a <Directory> scope) has no effect, a container must not be
// empty, and a container must hold at least one positive directive after
// De Morgan flattening of <RequireNone> into <RequireAll>.
func checkRoot(a *config.Authz) error {
	if a.Kind == config.AuthzRequire {
		if a.Negate {
			return fmt.Errorf("%s: negative Require directive has no effect in <RequireAny> directive", a.Pos)
		}
		return nil
	}
	return checkSection(a, true)
}

func checkSection(s *config.Authz, isConf bool) error {
	if len(s.Children) == 0 {
		return fmt.Errorf("%s: %s directive contains no authorization directives", s.Pos, kindName(s))
	}
	positive := false
	for _, c := range s.Children {
		if c == nil {
			return fmt.Errorf("%s: %s directive holds an empty entry", s.Pos, kindName(s))
		}
		if negated(c) && !isAnd(s) {
			if c.Kind == config.AuthzRequire {
				return fmt.Errorf("%s: negative Require directive has no effect in %s directive", c.Pos, kindName(s))
			}
			return fmt.Errorf("%s: %s directive has no effect in %s directive", c.Pos, kindName(c), kindName(s))
		}
		if c.Kind == config.AuthzRequire {
			positive = positive || !c.Negate
			continue
		}
		if err := checkSection(c, false); err != nil {
			return err
		}
		if negated(c) && isAnd(c) != isAnd(s) {
			// Apache flattens <RequireNone> inside <RequireAll> into
			// its children, negated.
			for _, g := range c.Children {
				positive = positive || negated(g)
			}
		} else {
			positive = positive || !negated(c)
		}
	}
	if !positive {
		what := kindName(s)
		if isConf {
			what = "<Directory>, <Location>, or similar"
		}
		return fmt.Errorf("%s: %s directive contains only negative authorization directives", s.Pos, what)
	}
	return nil
}

func compileNode(a *config.Authz) (*node, error) {
	switch a.Kind {
	case config.AuthzAll, config.AuthzAny, config.AuthzNone:
		n := &node{op: opAll, negate: a.Negate}
		if a.Kind != config.AuthzAll {
			n.op = opAny
		}
		if a.Kind == config.AuthzNone {
			n.negate = !n.negate
		}
		for _, c := range a.Children {
			cn, err := compileNode(c)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, cn)
		}
		return n, nil
	case config.AuthzRequire:
	default:
		return nil, fmt.Errorf("%s: unknown authorization section kind %d", a.Pos, a.Kind)
	}
	n := &node{op: opLeaf, negate: a.Negate}
	where := func(err error) error {
		return fmt.Errorf("%s: %s: %w", a.Pos, kindName(a), err)
	}
	need := func() error {
		if len(a.Args) == 0 {
			return where(fmt.Errorf("'Require %s' requires an argument", a.Provider))
		}
		return nil
	}
	switch strings.ToLower(a.Provider) {
	case "all":
		n.prov = provAll
		if len(a.Args) != 1 {
			return nil, where(errors.New("argument for 'Require all' must be 'granted' or 'denied'"))
		}
		switch strings.ToLower(a.Args[0]) {
		case "granted":
			n.grant = true
		case "denied":
		default:
			return nil, where(errors.New("argument for 'Require all' must be 'granted' or 'denied'"))
		}
	case "ip":
		n.prov = provIP
		if err := need(); err != nil {
			return nil, err
		}
		for _, s := range a.Args {
			pfx, looksIP, err := parseIPSpec(s)
			if err != nil {
				if !looksIP {
					return nil, where(fmt.Errorf("ip address '%s' appears to be invalid", s))
				}
				return nil, where(err)
			}
			n.prefixes = append(n.prefixes, pfx)
		}
	case "local":
		n.prov = provLocal
	case "host", "forward-dns":
		n.prov = provHost
		if strings.EqualFold(a.Provider, "forward-dns") {
			n.prov = provForwardDNS
		}
		if err := need(); err != nil {
			return nil, err
		}
		n.names = append([]string(nil), a.Args...)
	case "env":
		n.prov = provEnv
		if err := need(); err != nil {
			return nil, err
		}
		n.names = append([]string(nil), a.Args...)
	case "method":
		n.prov = provMethod
		if err := need(); err != nil {
			return nil, err
		}
		for _, m := range a.Args {
			if !knownMethod(m) {
				return nil, where(fmt.Errorf("Invalid Method '%s'", m))
			}
			if m == "HEAD" {
				m = "GET"
			}
			n.methods = append(n.methods, m)
		}
	case "valid-user":
		n.prov = provValidUser
	case "user":
		n.prov = provUser
		if err := need(); err != nil {
			return nil, err
		}
		n.names = append([]string(nil), a.Args...)
	case "group":
		n.prov = provGroup
		if err := need(); err != nil {
			return nil, err
		}
		n.names = append([]string(nil), a.Args...)
	default:
		return nil, fmt.Errorf("%s: Unknown Authz provider: %s", a.Pos, a.Provider)
	}
	return n, nil
}

// knownMethod reports whether Apache's method registry knows m (case
// matters, as in Apache: "get" is not GET).
func knownMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
		"VERSION-CONTROL", "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL",
		"REPORT", "MKWORKSPACE", "MKACTIVITY", "BASELINE-CONTROL", "MERGE":
		return true
	}
	return false
}
