package wsgi

import (
	"net/http"
	"strconv"
)

// error writes an error response through ErrorPage or the default page.
func (g *Gateway) error(w http.ResponseWriter, r *http.Request, status int) {
	if g.ErrorPage != nil {
		g.ErrorPage(w, r, status)
		return
	}
	WriteErrorPage(w, r, status)
}

// errorText is the sentence of the default page per status.
var errorText = map[int]string{
	http.StatusBadRequest:            "Your browser sent a request that this server could not understand.",
	http.StatusLengthRequired:        "A request of the requested method requires a valid Content-length.",
	http.StatusRequestEntityTooLarge: "The requested resource does not allow request data with this request, or the amount of data provided exceeds the capacity limit.",
	http.StatusInternalServerError:   "The server encountered an internal error or misconfiguration and was unable to complete your request.",
	http.StatusBadGateway:            "The server received an invalid response from an upstream process.",
	http.StatusServiceUnavailable:    "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.",
	http.StatusGatewayTimeout:        "The upstream process did not answer in time.",
}

// WriteErrorPage writes a small generic HTML error page in the manner of
// Apache's built-in ones. It never says anything about the cause.
func WriteErrorPage(w http.ResponseWriter, r *http.Request, status int) {
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	msg := errorText[status]
	if msg == "" {
		msg = "The request could not be completed."
	}
	body := "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>" + title +
		"</title>\n</head><body>\n<h1>" + http.StatusText(status) + "</h1>\n<p>" + msg + "</p>\n</body></html>\n"
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=iso-8859-1")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}
