package wsgi

import (
	"net/http"

	"wsgid/internal/errorpage"
)

// error writes an error response through ErrorPage or the default page.
func (g *Gateway) error(w http.ResponseWriter, r *http.Request, status int) {
	if g.ErrorPage != nil {
		g.ErrorPage(w, r, status)
		return
	}
	errorpage.Write(w, r, status, "")
}
