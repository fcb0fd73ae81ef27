// Package config turns a parsed Apache configuration into typed structs.
//
// It is the only package that knows Apache directive names: every directive
// is one entry in the registry (registry.go) naming its module, the contexts
// it may appear in, how wsgid treats it, and the function that fills these
// structs. Everything downstream (route, server, app) reads only the types
// below.
package config

import (
	"regexp"
	"time"
)

// Config is a whole server configuration: the result of Load.
type Config struct {
	File       string // the main configuration file, absolute
	ServerRoot string // ServerRoot; default the directory given with -d, else "/usr/local/apache2"

	Listeners []Listener // Listen, in order; at least one after Validate

	User, Group string // User / Group: workers drop to these when wsgid runs as root
	PidFile     string // PidFile, absolute; "" = none

	ErrorLog   string   // ErrorLog, absolute path; "" = standard error
	LogLevel   LogLevel // LogLevel; default warn
	LogFormats map[string]string

	Timeout          time.Duration // Timeout; default 60s
	KeepAlive        bool          // KeepAlive; default On
	KeepAliveTimeout time.Duration // KeepAliveTimeout; default 5s
	// GracefulShutdownTimeout bounds how long a graceful stop or restart
	// lets requests in flight finish; 0 = wsgid's default (60s).
	GracefulShutdownTimeout time.Duration
	MaxKeepAliveRequests    int // MaxKeepAliveRequests; default 100, 0 = unlimited

	LimitRequestFields    int // default 100
	LimitRequestFieldSize int // default 8190
	LimitRequestLine      int // default 8190

	ServerTokens    string // Full|OS|Minimal|Minor|Major|Prod; default Full
	ServerSignature string // On|Off|EMail; default Off

	TypesConfig string // TypesConfig, absolute; "" = built-in table

	// Main is the main server: directives outside any <VirtualHost>.
	Main *Host
	// VirtualHosts in configuration order.
	VirtualHosts []*Host

	// Daemons are the WSGIDaemonProcess groups in configuration order.
	Daemons []*DaemonProcess
	// Python holds the server-wide WSGIPython* settings.
	Python Python
	// ImportScripts are WSGIImportScript lines, run at worker start.
	ImportScripts []ImportScript

	// Modules are the module identifiers enabled (LoadModule or built in).
	Modules map[string]bool

	// Warnings are "file:line: message" notes about directives wsgid
	// accepted but ignores; printed once at start-up and by -t.
	Warnings []string
}

// Listener is one Listen directive.
type Listener struct {
	Pos   string // file:line
	Addr  string // host:port for net.Listen; host may be empty or an IPv6 literal in brackets
	Proto string // "http" or "https"; default by port
}

// LogLevel orders Apache's log levels: lower is more severe.
type LogLevel int

const (
	LevelEmerg LogLevel = iota
	LevelAlert
	LevelCrit
	LevelError
	LevelWarn
	LevelNotice
	LevelInfo
	LevelDebug
	LevelTrace // trace1..trace8 all map here
)

// Host is the main server or one <VirtualHost>.
type Host struct {
	Pos   string   // file:line of <VirtualHost>, or of the main file
	Addrs []string // <VirtualHost> addresses as written: "*:80", "_default_:*", "[::1]:8080"

	ServerName    string   // ServerName without scheme/port; "" = inherit from main
	ServerPort    int      // port part of ServerName; 0 = the connection's
	ServerAliases []string // ServerAlias, may contain * and ?
	ServerAdmin   string
	DocumentRoot  string // absolute; default ServerRoot/htdocs for Main

	ErrorLog   string // "" = inherit
	CustomLogs []CustomLog

	// Maps are Alias, AliasMatch, ScriptAlias, Redirect*, WSGIScriptAlias*
	// in configuration order; the first that matches a URL wins, as in
	// mod_alias (redirects are checked before aliases, as Apache does).
	Maps []*Map

	// Sections are the <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>,
	// <Location>, <LocationMatch> sections, in configuration order.
	// The main server's sections also apply to every virtual host.
	Sections []*Section

	// Dir holds per-directory settings written directly at server or
	// virtual-host level; sections merge on top of it.
	Dir *PerDir
}

// CustomLog is one CustomLog / TransferLog directive.
type CustomLog struct {
	Pos    string
	Path   string // absolute file path
	Format string // the format string, nicknames resolved
	Env    string // env=[!]VAR condition, "" = always
}

// MapKind says what a Map does.
type MapKind int

const (
	MapAlias    MapKind = iota // Alias / AliasMatch
	MapRedirect                // Redirect / RedirectMatch / RedirectPermanent / RedirectTemp
	MapScript                  // ScriptAlias / ScriptAliasMatch (CGI: refused at start-up)
	MapWSGI                    // WSGIScriptAlias / WSGIScriptAliasMatch
)

// Map is one URL-mapping directive.
type Map struct {
	Pos    string
	Kind   MapKind
	Prefix string         // URL prefix for the non-Match forms
	Regex  *regexp.Regexp `json:"-"` // for the *Match forms
	Match  string         // the regular expression of the *Match forms, as written
	Target string         // file system path (may hold $1), or redirect URL ("" for gone)
	Status int            // redirect status (301, 302, 303, 410...)

	// WSGI options of WSGIScriptAlias[Match]; nil fields = not given.
	ProcessGroup      *string
	ApplicationGroup  *string
	CallableObject    *string
	PassAuthorization *bool
}

// SectionKind is the kind of a per-directory section.
type SectionKind int

const (
	SectionDirectory SectionKind = iota // <Directory> (Regex set for "~")
	SectionDirectoryMatch
	SectionFiles // <Files> (Regex set for "~")
	SectionFilesMatch
	SectionLocation // <Location> (Regex set for "~")
	SectionLocationMatch
)

// Section is one per-directory section.
type Section struct {
	Pos     string
	Kind    SectionKind
	Pattern string         // path, wildcard pattern or regex source as written (unquoted)
	Regex   *regexp.Regexp `json:"-"` // set for *Match and "~" forms
	Dir     *PerDir
	// Nested are <Files>/<FilesMatch> inside a <Directory>; they apply
	// only below that directory.
	Nested []*Section
}

// IsRegex reports whether the section matches by regular expression.
func (s *Section) IsRegex() bool { return s.Regex != nil }

// PerDir is the per-directory configuration one scope sets. Pointer and nil
// fields mean "not set here", so that Merge can let inner scopes override
// only what they set, as Apache's per-directory merge does.
type PerDir struct {
	Options       *Options      // Options; nil = not set here
	AllowOverride []string      // AllowOverride as written; parsed only
	Authz         *Authz        // Require / <RequireAll|Any|None>; nil = not set here
	AuthMerging   string        // AuthMerging Off|And|Or; "" = Off
	Access        *AccessCompat // Order/Allow/Deny/Satisfy; nil = not set here

	Handler           *string           // SetHandler; "" after "SetHandler None"
	AddHandlers       map[string]string // extension (lower, with dot) -> handler; AddHandler
	RemoveHandlers    []string          // RemoveHandler extensions
	AddTypes          map[string]string // extension -> MIME type; AddType
	DefaultType       *string           // DefaultType (Apache 2.4 ignores all but "none")
	ForceType         *string           // ForceType
	AddCharsets       map[string]string // AddCharset (ignored on output, parsed)
	AddDefaultCharset *string           // AddDefaultCharset; "" = Off

	DirectoryIndex []string // DirectoryIndex; nil = not set, ["disabled"] = off
	DirectorySlash *bool    // DirectorySlash; default On
	IndexIgnore    []string // IndexIgnore patterns (added to)
	AcceptPathInfo *string  // On|Off|Default
	// UseCanonicalName: "off" (default) takes SERVER_NAME/SERVER_PORT
	// from the Host header, "on" from ServerName; "dns" is read as "off"
	// (wsgid makes no DNS lookups).
	UseCanonicalName *string
	ErrorDocuments   map[int]string // status -> "/local/path", "http://…" or "text…" (text has leading quote stripped and a marker '"' prefix kept)

	SetEnv   map[string]string // SetEnv
	UnsetEnv []string          // UnsetEnv
	PassEnv  []string          // PassEnv

	Headers        []HeaderOp // Header
	RequestHeaders []HeaderOp // RequestHeader

	LimitRequestBody *int64 // LimitRequestBody bytes; 0 = unlimited; Apache 2.4.54+ default 1 GiB

	// mod_wsgi per-directory settings.
	WSGI WSGIDir
}

// Options is the Options bit set with Apache's +/- merging.
type Options struct {
	// Set is the absolute set when the directive had no +/- (Replace true);
	// otherwise Add and Remove are applied to the inherited set.
	Replace bool
	Set     Opt
	Add     Opt
	Remove  Opt
}

// Opt is a set of Options flags.
type Opt uint16

const (
	OptIndexes Opt = 1 << iota
	OptFollowSymLinks
	OptSymLinksIfOwnerMatch
	OptExecCGI
	OptIncludes
	OptIncludesNoExec
	OptMultiViews
	OptAll = OptIndexes | OptFollowSymLinks | OptSymLinksIfOwnerMatch | OptExecCGI | OptIncludes
)

// AuthzKind is the node type of an authorization tree.
type AuthzKind int

const (
	AuthzRequire AuthzKind = iota // a single "Require [not] provider args..."
	AuthzAll                      // <RequireAll>
	AuthzAny                      // <RequireAny>; also the implicit container of several Require lines
	AuthzNone                     // <RequireNone>
)

// Authz is mod_authz_core's tree of Require directives.
type Authz struct {
	Pos      string
	Kind     AuthzKind
	Negate   bool     // "Require not ..."
	Provider string   // lower-case: all, ip, host, local, env, method, expr, user, valid-user, group
	Args     []string // provider arguments
	Children []*Authz // for All/Any/None
}

// AccessCompat is mod_access_compat's Order/Allow/Deny/Satisfy.
type AccessCompat struct {
	Pos     string
	Order   string   // "deny,allow" (default), "allow,deny", "mutual-failure"
	Allow   []string // "all", IPs, CIDRs, partial IPs, hostnames, "env=X"
	Deny    []string
	Satisfy string // "all" (default) or "any"
}

// HeaderOp is one mod_headers action.
type HeaderOp struct {
	Pos       string
	Action    string // set, unset, append, add, merge, setifempty, echo, edit, edit*
	Name      string
	Value     string
	Early     bool
	Always    bool   // "Header always ..." condition
	Condition string // env=[!]VAR or expr=...; "" = always
}

// WSGIDir is the per-directory mod_wsgi configuration; nil = not set here.
type WSGIDir struct {
	ProcessGroup        *string // WSGIProcessGroup; "%{GLOBAL}" / "" = no daemon group named
	ApplicationGroup    *string // WSGIApplicationGroup; default %{RESOURCE}
	CallableObject      *string // WSGICallableObject; default "application"
	PassAuthorization   *bool   // WSGIPassAuthorization; default Off
	ScriptReloading     *bool   // WSGIScriptReloading; default On
	ChunkedRequest      *bool   // WSGIChunkedRequest; default Off
	MapHEADToGET        *string // WSGIMapHEADToGET On|Off|Auto
	ErrorOverride       *bool   // WSGIErrorOverride
	RestrictProcess     []string
	TrustedProxyHeaders []string
	TrustedProxies      []string
	EnableSendfile      *bool
	IgnoreActivity      *bool
}

// DaemonProcess is one WSGIDaemonProcess group.
type DaemonProcess struct {
	Pos  string
	Name string
	Host *Host `json:"-"` // the virtual host it was defined in; nil = server-wide

	Processes           int  // processes=; default 1
	ProcessesGiven      bool // processes= was written (sets wsgi.multiprocess)
	Threads             int  // threads=; default 15
	DisplayName         string
	Home                string
	User, Group         string
	SupplementaryGroups []string
	Umask               *int
	Lang, Locale        string
	PythonHome          string
	PythonPath          []string
	PythonEggs          string

	MaximumRequests         int
	RestartInterval         time.Duration
	InactivityTimeout       time.Duration
	RequestTimeout          time.Duration
	DeadlockTimeout         time.Duration // default 300s
	StartupTimeout          time.Duration
	GracefulTimeout         time.Duration // default 15s
	EvictionTimeout         time.Duration
	ShutdownTimeout         time.Duration // default 5s
	ConnectTimeout          time.Duration // default 15s
	SocketTimeout           time.Duration
	QueueTimeout            time.Duration
	ListenBacklog           int // default 100
	MemoryLimit             int64
	VirtualMemoryLimit      int64
	CPUTimeLimit            time.Duration
	CPUPriority             int
	StackSize               int64
	HeaderBufferSize        int
	ResponseBufferSize      int
	SendBufferSize          int
	ReceiveBufferSize       int
	ResponseSocketTimeout   time.Duration
	ScriptUser, ScriptGroup string
	ServerMetrics           bool
	// Ignored holds options accepted without effect, for -S and docs.
	Ignored []string
}

// Python is the server-wide interpreter configuration (WSGIPython*).
type Python struct {
	Home              string   // WSGIPythonHome; "" = python3 on PATH
	Path              []string // WSGIPythonPath
	Eggs              string
	Optimize          int
	DontWriteBytecode bool
	Warnings          []string
	HashSeed          string
	RestrictEmbedded  bool
	RestrictStdin     bool
	RestrictStdout    bool
	RestrictSignal    bool // default On
	SocketPrefix      string
	// PythonExecutable overrides the interpreter (wsgid serve --python).
	PythonExecutable string
	// ReloadOnChanges restarts workers when a loaded module's file
	// changes (wsgid serve --reload).
	ReloadOnChanges bool
}

// ImportScript is one WSGIImportScript.
type ImportScript struct {
	Pos              string
	Path             string
	ProcessGroup     string
	ApplicationGroup string
}
