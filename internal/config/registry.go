package config

import (
	"sort"
	"strings"

	"wsgid/internal/httpdconf"
)

// Context says where a directive may appear.
type Context uint8

const (
	CtxServer Context = 1 << iota // main server configuration
	CtxVhost                      // inside <VirtualHost>
	CtxDir                        // inside <Directory>, <Location>, <Files> and their Match forms
	CtxAny    = CtxServer | CtxVhost | CtxDir
	CtxSrv    = CtxServer | CtxVhost // RSRC_CONF outside directories
)

// Status is how wsgid treats a directive.
type Status uint8

const (
	Supported Status = iota // implemented
	Partial                 // implemented in part; Note says what is missing
	Ignored                 // accepted with one warning: ignoring it cannot make the server more open
	Refused                 // start-up error: ignoring it could weaken what the configuration asks
)

func (s Status) String() string {
	return [...]string{"supported", "partial", "ignored", "refused"}[s]
}

// Directive is one registry entry: everything wsgid knows about a
// directive name.
type Directive struct {
	Name    string  // canonical spelling
	Module  string  // e.g. "mod_alias"
	Context Context // where it may appear
	Status  Status
	Note    string // for docs/configuration.md and warnings
	Section bool   // a <Section>
	fn      func(st *state, d *httpdconf.Directive) error
}

// Module is an Apache module wsgid knows of.
type Module struct {
	Name        string // "mod_alias"
	ID          string // "alias_module"
	BuiltIn     bool   // always loaded, as in a stock static build
	Implemented bool   // LoadModule enables it; otherwise LoadModule warns
}

var (
	registry = map[string]*Directive{}
	modules  = map[string]*Module{}
)

// Lookup returns the registry entry for a directive name (any case).
func Lookup(name string) (*Directive, bool) {
	d, ok := registry[strings.ToLower(name)]
	return d, ok
}

// Directives returns every registry entry sorted by module then name,
// for documentation.
func Directives() []*Directive {
	out := make([]*Directive, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Module != out[j].Module {
			return out[i].Module < out[j].Module
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func mod(name string, builtIn, implemented bool) {
	id := strings.TrimPrefix(name, "mod_") + "_module"
	if name == "core" {
		id = "core_module"
	}
	modules[name] = &Module{Name: name, ID: id, BuiltIn: builtIn, Implemented: implemented}
}

func reg(module, name string, ctx Context, st Status, note string, fn func(*state, *httpdconf.Directive) error) {
	section := strings.HasPrefix(name, "<")
	name = strings.Trim(name, "<>")
	registry[strings.ToLower(name)] = &Directive{Name: name, Module: module, Context: ctx, Status: st, Note: note, Section: section, fn: fn}
}

// ignore registers directives that are accepted with a warning.
func ignore(module string, ctx Context, note string, names ...string) {
	for _, n := range names {
		reg(module, n, ctx, Ignored, note, nil)
	}
}

// refuse registers directives that stop start-up.
func refuse(module string, ctx Context, note string, names ...string) {
	for _, n := range names {
		reg(module, n, ctx, Refused, note, nil)
	}
}

func init() {
	for _, m := range []string{"core", "http_core", "mod_so", "mod_log_config", "mod_logio", "mod_version", "mod_unixd", "mod_watchdog"} {
		mod(m, true, true)
	}
	for _, m := range []string{"mod_mpm_prefork", "mod_mpm_worker", "mod_mpm_event"} {
		mod(m, false, true)
	}
	modules["mod_mpm_prefork"].ID = "mpm_prefork_module"
	modules["mod_mpm_worker"].ID = "mpm_worker_module"
	modules["mod_mpm_event"].ID = "mpm_event_module"
	for _, m := range []string{"mod_alias", "mod_mime", "mod_dir", "mod_autoindex", "mod_authz_core", "mod_authz_host",
		"mod_access_compat", "mod_headers", "mod_env", "mod_wsgi", "mod_reqtimeout", "mod_setenvif", "mod_negotiation",
		"mod_filter", "mod_deflate", "mod_status", "mod_authn_core", "mod_authn_file", "mod_authz_user",
		"mod_authz_groupfile", "mod_auth_basic", "mod_mime_magic", "mod_expires", "mod_http2", "mod_socache_shmcb",
		"mod_remoteip"} {
		mod(m, false, true)
	}
	for _, m := range []string{"mod_rewrite", "mod_ssl", "mod_proxy", "mod_proxy_http", "mod_proxy_fcgi", "mod_proxy_uwsgi",
		"mod_proxy_html", "mod_cgi", "mod_cgid", "mod_userdir", "mod_info", "mod_include", "mod_actions", "mod_speling",
		"mod_usertrack", "mod_dav", "mod_dav_fs", "mod_cache", "mod_cache_disk", "mod_unique_id", "mod_vhost_alias",
		"mod_php", "mod_php7", "mod_auth_digest", "mod_authn_dbm", "mod_authz_dbm", "mod_ldap",
		"mod_authnz_ldap", "mod_lua", "mod_session", "mod_ratelimit", "mod_substitute", "mod_sed", "mod_macro",
		"mod_buffer", "mod_request", "mod_slotmem_shm", "mod_lbmethod_byrequests", "mod_python"} {
		mod(m, false, false)
	}
	modules["mod_php"].ID = "php_module"
	modules["mod_php7"].ID = "php7_module"
	for _, m := range modules {
		if prev, dup := moduleIDs[m.ID]; dup {
			panic("config: module id " + m.ID + " used by " + prev.Name + " and " + m.Name)
		}
		moduleIDs[m.ID] = m
	}
	registerCore()
	registerModules()
	registerWSGI()
}

// moduleIDs indexes modules by identifier ("alias_module").
var moduleIDs = map[string]*Module{}

// moduleByRef finds a module by identifier ("alias_module") or source
// file name ("mod_alias.c").
func moduleByRef(ref string) *Module {
	ref = strings.ToLower(ref)
	if src, ok := strings.CutSuffix(ref, ".c"); ok {
		if m, ok := modules[src]; ok {
			return m
		}
		if src == "core" || src == "http_core" {
			return modules[src]
		}
		if strings.HasPrefix(src, "prefork") || strings.HasPrefix(src, "worker") || strings.HasPrefix(src, "event") {
			return modules["mod_mpm_"+src]
		}
		return nil
	}
	return moduleIDs[ref]
}
