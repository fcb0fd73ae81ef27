package config

// MergeDir merges an inner per-directory scope onto an outer one, as
// Apache merges per-directory configurations: what the inner scope sets
// wins, Options with +/- adjust the inherited set, Require replaces the
// outer rules unless AuthMerging says And/Or, maps and lists add up.
// Neither argument is modified; nil means "nothing set".
func MergeDir(outer, inner *PerDir) *PerDir {
	if inner == nil {
		if outer == nil {
			return &PerDir{}
		}
		return outer
	}
	if outer == nil {
		outer = &PerDir{}
	}
	m := *outer
	if inner.Options != nil {
		if inner.Options.Replace || outer.Options == nil {
			o := *inner.Options
			m.Options = &o
		} else {
			o := *outer.Options
			if o.Replace {
				o.Set = (o.Set | o.Add) &^ o.Remove
				o.Set = (o.Set | inner.Options.Add) &^ inner.Options.Remove
				o.Add, o.Remove = 0, 0
			} else {
				o.Add = (o.Add | inner.Options.Add) &^ inner.Options.Remove
				o.Remove = (o.Remove | inner.Options.Remove) &^ inner.Options.Add
			}
			m.Options = &o
		}
	}
	if inner.AllowOverride != nil {
		m.AllowOverride = inner.AllowOverride
	}
	m.Authz = mergeAuthz(outer.Authz, inner.Authz, inner.AuthMerging)
	if inner.AuthMerging != "" {
		m.AuthMerging = inner.AuthMerging
	}
	if inner.Access != nil {
		// mod_access_compat has no merge function, so Apache's default
		// applies: a scope that writes any of Order, Allow, Deny or
		// Satisfy replaces the inherited settings entirely (the ones it
		// leaves out take their defaults); one that writes none inherits.
		m.Access = inner.Access
	}
	if inner.Handler != nil {
		m.Handler = inner.Handler
	}
	m.AddHandlers = mergeMap(outer.AddHandlers, inner.AddHandlers)
	m.AddTypes = mergeMap(outer.AddTypes, inner.AddTypes)
	m.AddCharsets = mergeMap(outer.AddCharsets, inner.AddCharsets)
	m.SetEnv = mergeMap(outer.SetEnv, inner.SetEnv)
	if len(inner.RemoveHandlers) > 0 {
		m.RemoveHandlers = append(append([]string(nil), outer.RemoveHandlers...), inner.RemoveHandlers...)
	}
	if inner.DefaultType != nil {
		m.DefaultType = inner.DefaultType
	}
	if inner.ForceType != nil {
		m.ForceType = inner.ForceType
	}
	if inner.AddDefaultCharset != nil {
		m.AddDefaultCharset = inner.AddDefaultCharset
	}
	if inner.DirectoryIndex != nil {
		m.DirectoryIndex = inner.DirectoryIndex
	}
	if inner.UseCanonicalName != nil {
		m.UseCanonicalName = inner.UseCanonicalName
	}
	if inner.DirectorySlash != nil {
		m.DirectorySlash = inner.DirectorySlash
	}
	if len(inner.IndexIgnore) > 0 {
		m.IndexIgnore = append(append([]string(nil), outer.IndexIgnore...), inner.IndexIgnore...)
	}
	if inner.AcceptPathInfo != nil {
		m.AcceptPathInfo = inner.AcceptPathInfo
	}
	if len(inner.ErrorDocuments) > 0 {
		m.ErrorDocuments = map[int]string{}
		for k, v := range outer.ErrorDocuments {
			m.ErrorDocuments[k] = v
		}
		for k, v := range inner.ErrorDocuments {
			m.ErrorDocuments[k] = v
		}
	}
	if len(inner.UnsetEnv) > 0 {
		m.UnsetEnv = append(append([]string(nil), outer.UnsetEnv...), inner.UnsetEnv...)
	}
	if len(inner.PassEnv) > 0 {
		m.PassEnv = append(append([]string(nil), outer.PassEnv...), inner.PassEnv...)
	}
	if len(inner.Headers) > 0 {
		m.Headers = append(append([]HeaderOp(nil), outer.Headers...), inner.Headers...)
	}
	if len(inner.RequestHeaders) > 0 {
		m.RequestHeaders = append(append([]HeaderOp(nil), outer.RequestHeaders...), inner.RequestHeaders...)
	}
	if inner.LimitRequestBody != nil {
		m.LimitRequestBody = inner.LimitRequestBody
	}
	m.WSGI = mergeWSGI(outer.WSGI, inner.WSGI)
	return &m
}

func mergeMap(outer, inner map[string]string) map[string]string {
	if len(inner) == 0 {
		return outer
	}
	if len(outer) == 0 {
		return inner
	}
	m := make(map[string]string, len(outer)+len(inner))
	for k, v := range outer {
		m[k] = v
	}
	for k, v := range inner {
		m[k] = v
	}
	return m
}

func mergeWSGI(o, i WSGIDir) WSGIDir {
	pick := func(a, b *string) *string {
		if b != nil {
			return b
		}
		return a
	}
	pickB := func(a, b *bool) *bool {
		if b != nil {
			return b
		}
		return a
	}
	o.ProcessGroup = pick(o.ProcessGroup, i.ProcessGroup)
	o.ApplicationGroup = pick(o.ApplicationGroup, i.ApplicationGroup)
	o.CallableObject = pick(o.CallableObject, i.CallableObject)
	o.MapHEADToGET = pick(o.MapHEADToGET, i.MapHEADToGET)
	o.PassAuthorization = pickB(o.PassAuthorization, i.PassAuthorization)
	o.ScriptReloading = pickB(o.ScriptReloading, i.ScriptReloading)
	o.ChunkedRequest = pickB(o.ChunkedRequest, i.ChunkedRequest)
	o.ErrorOverride = pickB(o.ErrorOverride, i.ErrorOverride)
	o.EnableSendfile = pickB(o.EnableSendfile, i.EnableSendfile)
	o.IgnoreActivity = pickB(o.IgnoreActivity, i.IgnoreActivity)
	if i.RestrictProcess != nil {
		o.RestrictProcess = i.RestrictProcess
	}
	return o
}

// mergeAuthz merges an inner scope's Require tree onto the outer one as
// mod_authz_core does. mode is the inner scope's AuthMerging ("" when it
// is not written there): unwritten, an inner tree replaces the outer one
// and no inner tree inherits it; Off replaces even with no inner tree, so
// "AuthMerging Off" alone lifts inherited restrictions; And/Or combine
// both trees in a <RequireAll>/<RequireAny>, leaving out a missing side.
// The result shares nodes with its arguments, which are not modified.
func mergeAuthz(outer, inner *Authz, mode string) *Authz {
	switch mode {
	case "off":
		return inner
	case "and", "or":
		if inner == nil {
			return outer
		}
		if outer == nil {
			return inner
		}
		kind := AuthzAny
		if mode == "and" {
			kind = AuthzAll
		}
		return &Authz{Pos: inner.Pos, Kind: kind, Children: []*Authz{outer, inner}}
	}
	if inner == nil {
		return outer
	}
	return inner
}
