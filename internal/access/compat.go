package access

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"wsgid/internal/config"
)

// compat is a compiled mod_access_compat configuration.
type compat struct {
	order      order
	allow      []hostRule
	deny       []hostRule
	satisfyAny bool
}

type order uint8

const (
	denyAllow     order = iota // Order Deny,Allow (Apache's default)
	allowDeny                  // Order Allow,Deny
	mutualFailure              // Order Mutual-failure
)

type ruleKind uint8

const (
	ruleAll ruleKind = iota
	ruleIP
	ruleEnv
	ruleNotEnv
	ruleHost
)

// hostRule is one argument of Allow from / Deny from.
type hostRule struct {
	kind   ruleKind
	prefix netip.Prefix
	name   string // env variable or host name
}

func compileCompat(c *config.AccessCompat) (*compat, error) {
	cc := &compat{}
	switch strings.ToLower(strings.ReplaceAll(c.Order, " ", "")) {
	case "", "deny,allow":
		cc.order = denyAllow
	case "allow,deny":
		cc.order = allowDeny
	case "mutual-failure":
		cc.order = mutualFailure
	default:
		return nil, fmt.Errorf("%s: Order %s: unknown order", c.Pos, c.Order)
	}
	switch strings.ToLower(c.Satisfy) {
	case "", "all":
	case "any":
		cc.satisfyAny = true
	default:
		return nil, fmt.Errorf("%s: Satisfy %s: Satisfy either 'any' or 'all'.", c.Pos, c.Satisfy)
	}
	var err error
	if cc.allow, err = compileHostRules(c.Pos, "Allow", c.Allow); err != nil {
		return nil, err
	}
	if cc.deny, err = compileHostRules(c.Pos, "Deny", c.Deny); err != nil {
		return nil, err
	}
	return cc, nil
}

func compileHostRules(pos, directive string, args []string) ([]hostRule, error) {
	var rules []hostRule
	for _, s := range args {
		r, err := parseHostRule(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %s from %s: %w", pos, directive, s, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parseHostRule parses one argument of mod_access_compat's "Allow from" or
// "Deny from": "all", "env=VAR", "env=!VAR", an IP specification (see
// ParseIPSpec) or a host name (a domain suffix). As in Apache, anything
// with a "/" or made only of digits and dots, or holding a ":", must be a
// valid IP specification; everything else is a host name.
func parseHostRule(s string) (hostRule, error) {
	ls := strings.ToLower(s)
	switch {
	case s == "":
		return hostRule{}, errors.New("empty host specification")
	case strings.HasPrefix(ls, "env=!"):
		return hostRule{kind: ruleNotEnv, name: s[5:]}, nil
	case strings.HasPrefix(ls, "env="):
		return hostRule{kind: ruleEnv, name: s[4:]}, nil
	case ls == "all":
		return hostRule{kind: ruleAll}, nil
	}
	pfx, looksIP, err := parseIPSpec(s)
	switch {
	case err == nil:
		return hostRule{kind: ruleIP, prefix: pfx}, nil
	case looksIP || strings.Contains(s, "/"):
		if !looksIP {
			return hostRule{}, errors.New("An IP address was expected")
		}
		return hostRule{}, err
	}
	return hostRule{kind: ruleHost, name: s}, nil
}

func (h *hostRule) match(r *Request) bool {
	switch h.kind {
	case ruleAll:
		return true
	case ruleIP:
		return matchPrefix(h.prefix, r.RemoteIP)
	case ruleEnv, ruleNotEnv:
		set := false
		if r.Env != nil {
			_, set = r.Env(h.name)
		}
		return set == (h.kind == ruleEnv)
	case ruleHost:
		return matchDomain(h.name, r.RemoteHost)
	}
	return false
}

func anyRule(rules []hostRule, r *Request) bool {
	for i := range rules {
		if rules[i].match(r) {
			return true
		}
	}
	return false
}

// check is mod_access_compat's check_dir_access. Deny,Allow: allowed
// unless a Deny matches and no Allow does. Allow,Deny: denied unless an
// Allow matches and no Deny does. Mutual-failure: allowed only when an
// Allow matches and no Deny does.
func (c *compat) check(r *Request) bool {
	switch c.order {
	case allowDeny, mutualFailure:
		return anyRule(c.allow, r) && !anyRule(c.deny, r)
	}
	return !anyRule(c.deny, r) || anyRule(c.allow, r)
}

// ParseIPSpec parses an IP specification of mod_authz_host ("Require ip")
// and mod_access_compat: a full IPv4 or IPv6 address, a partial IPv4
// address naming a network ("10.1" or "10.1." is 10.1.0.0/16), an address
// with a prefix length ("10.0.0.0/8", "2001:db8::/32") or an IPv4 address
// with a netmask ("10.0.0.0/255.0.0.0"). As with APR, a prefix length must
// be at least 1; host bits are cleared. Netmasks must be contiguous.
func ParseIPSpec(s string) (netip.Prefix, error) {
	p, _, err := parseIPSpec(s)
	return p, err
}

// looksLikeIP is APR's looks_like_ip: a ':' means IPv6, otherwise only
// digits and dots.
func looksLikeIP(s string) bool {
	if s == "" {
		return false
	}
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// parseIPSpec also reports whether the address part looked like an IP
// address, which decides between "invalid address" and "host name".
func parseIPSpec(s string) (netip.Prefix, bool, error) {
	addr, mask, hasMask := strings.Cut(s, "/")
	if !looksLikeIP(addr) {
		return netip.Prefix{}, false, fmt.Errorf("%q is not an IP address", addr)
	}
	if !hasMask {
		if ip, err := netip.ParseAddr(addr); err == nil {
			if ip.Zone() != "" {
				return netip.Prefix{}, true, fmt.Errorf("the specified IP address %q is invalid", addr)
			}
			return netip.PrefixFrom(ip, ip.BitLen()), true, nil
		}
		if strings.IndexByte(addr, ':') >= 0 {
			return netip.Prefix{}, true, fmt.Errorf("the specified IP address %q is invalid", addr)
		}
		p, err := parsePartialIPv4(addr)
		return p, true, err
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return netip.Prefix{}, true, fmt.Errorf("the specified IP address %q is invalid", addr)
	}
	bits, err := strconv.Atoi(mask)
	if err != nil {
		m, merr := netip.ParseAddr(mask)
		if merr != nil || !m.Is4() || !ip.Is4() {
			return netip.Prefix{}, true, fmt.Errorf("the specified network mask %q is invalid", mask)
		}
		b := m.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		bits = 0
		for v&0x80000000 != 0 {
			bits++
			v <<= 1
		}
		if v != 0 || bits == 0 {
			return netip.Prefix{}, true, fmt.Errorf("the specified network mask %q is invalid (not contiguous)", mask)
		}
	}
	if bits < 1 || bits > ip.BitLen() || mask[0] == '+' || mask[0] == '-' {
		return netip.Prefix{}, true, fmt.Errorf("the specified network mask %q is invalid", mask)
	}
	return netip.PrefixFrom(ip, bits).Masked(), true, nil
}

// parsePartialIPv4 is APR's legacy network syntax: one to four decimal
// octets separated by dots, an optional trailing dot; each given octet
// adds 8 bits to the prefix.
func parsePartialIPv4(s string) (netip.Prefix, error) {
	bad := fmt.Errorf("the specified IP address %q is invalid", s)
	var b [4]byte
	n := 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j-i > 3 || n == 4 {
			return netip.Prefix{}, bad
		}
		v, _ := strconv.Atoi(s[i:j])
		if v > 255 {
			return netip.Prefix{}, bad
		}
		b[n] = byte(v)
		n++
		if j < len(s) {
			j++ // the dot
		}
		i = j
	}
	if n == 0 {
		return netip.Prefix{}, bad
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*n), nil
}
