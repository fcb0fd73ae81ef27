// Package wsgi is the PEP 3333 gateway: an http.Handler-style entry point
// that turns an HTTP request already mapped to a WSGI application into an
// environ, sends it to a worker group, and streams the response back.
// It knows nothing of Apache syntax; package route fills in a Target.
package wsgi

import "time"

// Target is everything the gateway needs to know about where a request
// goes, decided by the routing layer (or by quick mode).
type Target struct {
	// Script is the absolute path of the WSGI script file (SCRIPT_FILENAME).
	// Empty when Module is set.
	Script string
	// Module is a dotted module name to import instead of a script file
	// (quick mode "pkg.mod:callable").
	Module string
	// Callable is the name of the application object; default "application".
	Callable string

	// ScriptName and PathInfo are SCRIPT_NAME and PATH_INFO, already
	// %-decoded and with repeated slashes collapsed, as mod_wsgi gives them.
	ScriptName string
	PathInfo   string

	// Group names the worker group; "" selects the default group.
	Group string
	// ProcessGroup is mod_wsgi.process_group as mod_wsgi reports it:
	// "" where mod_wsgi would have run embedded (no WSGIProcessGroup).
	ProcessGroup string
	// ApplicationGroup is mod_wsgi.application_group (default
	// "host:port|/script" for %{RESOURCE}, "" for %{GLOBAL}).
	ApplicationGroup string

	PassAuthorization bool   // WSGIPassAuthorization: send HTTP_AUTHORIZATION
	ScriptReloading   bool   // WSGIScriptReloading: worker checks the script mtime per request
	ChunkedRequest    bool   // WSGIChunkedRequest: accept Transfer-Encoding: chunked bodies (else 411)
	MapHEADToGET      bool   // WSGIMapHEADToGET On: the app sees GET for HEAD
	Handler           string // mod_wsgi.request_handler, e.g. "wsgi-script"

	// Server-level CGI variables.
	ServerName          string // SERVER_NAME; default the Host header's host
	ServerPort          string // SERVER_PORT; default the local port
	ServerAdmin         string // SERVER_ADMIN
	ServerSoftware      string // SERVER_SOFTWARE
	ServerSignature     string // SERVER_SIGNATURE (usually "")
	DocumentRoot        string // DOCUMENT_ROOT
	ContextPrefix       string // CONTEXT_PREFIX (the Alias URL, or "")
	ContextDocumentRoot string // CONTEXT_DOCUMENT_ROOT (the Alias target, or DocumentRoot)
	PathTranslated      string // PATH_TRANSLATED; "" = omit
	// LocalHost and LocalPort are the address the request arrived on
	// (SERVER_ADDR); "" makes the gateway read it from the request.
	LocalHost, LocalPort string

	// LimitRequestBody caps the body size in bytes; 0 = unlimited.
	LimitRequestBody int64
	// BodyTimeout is how long one read of the request body may wait for
	// the client: Apache's Timeout, which bounds the time between a
	// body's packets. A client that stalls gets 408, and the process
	// thread reading wsgi.input is freed. 0 = no limit.
	BodyTimeout time.Duration

	// RequestID and ConnectionID are mod_wsgi.request_id and
	// mod_wsgi.connection_id (Apache's %L log ids); "" lets the gateway
	// make them up (a counter, and the client address).
	RequestID    string
	ConnectionID string

	// Env holds extra environ entries (SetEnv, PassEnv, REMOTE_USER…),
	// as key, value pairs; later entries override earlier ones.
	Env []string
}
