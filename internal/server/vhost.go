package server

import (
	"net"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"wsgid/internal/config"
)

// vhostAddr is one address of a <VirtualHost>, parsed.
type vhostAddr struct {
	ip   netip.Addr // invalid = any ("*" or "_default_")
	port int        // 0 = any
	dflt bool       // _default_
}

func parseVhostAddr(s string) (vhostAddr, bool) {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i > 0 {
			host = s[1:i]
			port = strings.TrimPrefix(s[i+1:], ":")
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 && strings.Count(s, ":") == 1 {
		host, port = s[:i], s[i+1:]
	}
	var a vhostAddr
	switch host {
	case "*":
	case "_default_":
		a.dflt = true
	default:
		ip, err := netip.ParseAddr(host)
		if err != nil {
			// A name: Apache resolves it at start-up; so do we.
			ips, lerr := net.LookupIP(host)
			if lerr != nil || len(ips) == 0 {
				return a, false
			}
			ip, _ = netip.AddrFromSlice(ips[0])
		}
		a.ip = ip.Unmap()
	}
	if port != "" && port != "*" {
		n, err := strconv.Atoi(port)
		if err != nil {
			return a, false
		}
		a.port = n
	}
	return a, true
}

// vhostSet picks the virtual host for a request as Apache does: among the
// hosts whose address matches the connection's local IP:port (exact IP
// beats "*" beats _default_), the first whose ServerName or ServerAlias
// matches the Host header, else the first of them; with none, the main
// server.
type vhostSet struct {
	main  *hostRuntime
	hosts []*hostRuntime
}

func (vs *vhostSet) pick(local netip.AddrPort, hostHeader string) *hostRuntime {
	name := strings.ToLower(hostHeader)
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	ip := local.Addr().Unmap()
	port := int(local.Port())
	for _, rank := range [...]int{2, 1, 0} {
		var first *hostRuntime
		for _, h := range vs.hosts {
			if !h.matchesAddr(ip, port, rank) {
				continue
			}
			if first == nil {
				first = h
			}
			if h.matchesName(name) {
				return h
			}
		}
		if first != nil {
			return first
		}
	}
	return vs.main
}

// matchesAddr: rank 2 = exact IP, 1 = wildcard "*", 0 = _default_.
func (h *hostRuntime) matchesAddr(ip netip.Addr, port, rank int) bool {
	for _, a := range h.addrs {
		if a.port != 0 && a.port != port {
			continue
		}
		switch rank {
		case 2:
			if a.ip.IsValid() && a.ip == ip {
				return true
			}
		case 1:
			if !a.ip.IsValid() && !a.dflt {
				return true
			}
		case 0:
			if a.dflt {
				return true
			}
		}
	}
	return false
}

func (h *hostRuntime) matchesName(name string) bool {
	if name == "" {
		return false
	}
	if strings.EqualFold(h.cfg.ServerName, name) {
		return true
	}
	for _, a := range h.cfg.ServerAliases {
		a = strings.ToLower(a)
		if a == name {
			return true
		}
		if strings.ContainsAny(a, "*?[") {
			if ok, _ := path.Match(a, name); ok {
				return true
			}
		}
	}
	return false
}

// hostAddrs parses a host's <VirtualHost> addresses, skipping bad ones.
func hostAddrs(h *config.Host) []vhostAddr {
	var out []vhostAddr
	for _, s := range h.Addrs {
		if a, ok := parseVhostAddr(s); ok {
			out = append(out, a)
		}
	}
	return out
}
