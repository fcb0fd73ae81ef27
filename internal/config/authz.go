package config

import (
	"strings"

	"wsgid/internal/httpdconf"
)

// container returns the Require container directives go into: the
// enclosing <RequireAll|Any|None>, else the scope's implicit RequireAny.
func (st *state) container(d *httpdconf.Directive) *Authz {
	if st.authz != nil {
		return st.authz
	}
	if st.dir.Authz == nil {
		st.dir.Authz = &Authz{Pos: d.Pos(), Kind: AuthzAny}
	}
	return st.dir.Authz
}

var authzProviders = map[string]bool{"all": true, "ip": true, "host": true, "local": true, "env": true, "method": true, "forward-dns": true}

func requireFn(st *state, d *httpdconf.Directive) error {
	if err := nargs(d, 1, -1); err != nil {
		return err
	}
	args := d.Args
	a := &Authz{Pos: d.Pos(), Kind: AuthzRequire}
	if strings.EqualFold(args[0], "not") {
		a.Negate, args = true, args[1:]
		if len(args) == 0 {
			return d.Errorf("Require not needs a provider")
		}
	}
	a.Provider = strings.ToLower(args[0])
	a.Args = args[1:]
	switch a.Provider {
	case "user", "valid-user", "group", "file-owner", "file-group", "expr", "ldap-user", "ldap-group", "ldap-dn", "ldap-attribute", "ldap-filter", "dbm-group", "wsgi-group":
		return d.Errorf("Require %s is not supported by wsgid (no authentication yet); refusing to start rather than ignore it", a.Provider)
	}
	if !authzProviders[a.Provider] {
		return d.Errorf("Unknown Authz provider: %s", args[0])
	}
	if a.Provider == "all" {
		if len(a.Args) != 1 || (a.Args[0] != "granted" && a.Args[0] != "denied") {
			return d.Errorf("Require all must be followed by 'granted' or 'denied'")
		}
		if a.Negate {
			return d.Errorf("'Require not all' is not supported, use 'Require all denied' instead")
		}
	}
	if len(a.Args) == 0 && a.Provider != "local" {
		return d.Errorf("Require %s needs an argument", a.Provider)
	}
	c := st.container(d)
	if a.Negate && c.Kind == AuthzAny && st.authz != nil {
		return d.Errorf("negative Require directive has no effect in <RequireAny> directive")
	}
	c.Children = append(c.Children, a)
	return nil
}

func requireSectionFn(st *state, d *httpdconf.Directive) error {
	if len(d.Args) != 0 {
		return d.Errorf("<%s> does not take an argument", d.Name)
	}
	a := &Authz{Pos: d.Pos()}
	switch strings.ToLower(d.Name) {
	case "requireall":
		a.Kind = AuthzAll
	case "requireany":
		a.Kind = AuthzAny
	default:
		a.Kind = AuthzNone
	}
	parent := st.container(d)
	parent.Children = append(parent.Children, a)
	saved := st.authz
	st.authz = a
	st.walk(d.Body)
	st.authz = saved
	if len(a.Children) == 0 {
		return d.Errorf("<%s> container requires at least one Require directive", d.Name)
	}
	if a.Kind != AuthzNone {
		neg := true
		for _, c := range a.Children {
			if !c.Negate || c.Kind != AuthzRequire {
				neg = false
			}
		}
		if neg {
			return d.Errorf("<%s> directive contains only negative authorization directives", d.Name)
		}
	}
	return nil
}

func (st *state) compat(d *httpdconf.Directive) *AccessCompat {
	if st.dir.Access == nil {
		st.dir.Access = &AccessCompat{Pos: d.Pos(), Order: "deny,allow", Satisfy: "all"}
	}
	return st.dir.Access
}

func allowDenyFn(allow bool) func(*state, *httpdconf.Directive) error {
	return func(st *state, d *httpdconf.Directive) error {
		if len(d.Args) < 2 || !strings.EqualFold(d.Args[0], "from") {
			return d.Errorf("allow and deny must be followed by 'from'")
		}
		c := st.compat(d)
		if allow {
			c.Allow = append(c.Allow, d.Args[1:]...)
		} else {
			c.Deny = append(c.Deny, d.Args[1:]...)
		}
		return nil
	}
}
