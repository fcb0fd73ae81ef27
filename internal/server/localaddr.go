package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
)

// localAddr returns the address a request arrived on, without the
// allocations of formatting and parsing it as a string.
func localAddr(ctx context.Context) netip.AddrPort {
	switch la := ctx.Value(http.LocalAddrContextKey).(type) {
	case *net.TCPAddr:
		ap := la.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case net.Addr:
		if ap, err := netip.ParseAddrPort(la.String()); err == nil {
			return ap
		}
	}
	return netip.AddrPort{}
}

// addrNames keeps the text of the local addresses requests arrive on
// (SERVER_ADDR, mod_wsgi.listener_host and _port): a server has only a
// few, and formatting them for every request cost four allocations.
type addrNames struct {
	mu sync.RWMutex
	m  map[netip.AddrPort][2]string
}

// maxAddrNames bounds the cache: a wildcard listener sees one address
// per local interface, so it stays small unless something is odd.
const maxAddrNames = 256

func (n *addrNames) get(ap netip.AddrPort) (host, port string) {
	if !ap.IsValid() {
		return "", ""
	}
	n.mu.RLock()
	v, ok := n.m[ap]
	n.mu.RUnlock()
	if ok {
		return v[0], v[1]
	}
	v = [2]string{ap.Addr().String(), strconv.Itoa(int(ap.Port()))}
	n.mu.Lock()
	if n.m == nil || len(n.m) >= maxAddrNames {
		n.m = make(map[netip.AddrPort][2]string)
	}
	n.m[ap] = v
	n.mu.Unlock()
	return v[0], v[1]
}
