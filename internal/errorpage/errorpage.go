// Package errorpage renders the error and redirect pages the server writes
// itself, in the words and markup of Apache httpd 2.4's built-in ones, so
// that clients and monitoring that look for them see what they expect.
// A page never contains request data other than the escaped redirect
// target.
package errorpage

import (
	"html"
	"net/http"
	"strconv"
)

// text is the sentence Apache's default page gives per status.
var text = map[int]string{
	400: "Your browser sent a request that this server could not understand.",
	401: "This server could not verify that you are authorized to access the document requested.",
	403: "You don't have permission to access this resource.",
	404: "The requested URL was not found on this server.",
	405: "The requested method is not allowed for this URL.",
	408: "Server timeout waiting for the HTTP request from the client.",
	410: "The requested resource is no longer available on this server and there is no forwarding address. Please remove all references to this resource.",
	411: "A request of the requested method requires a valid Content-length.",
	413: "The requested resource does not allow request data with this method, or the amount of data provided in the request exceeds the capacity limit.",
	414: "The requested URL's length exceeds the capacity limit for this server.",
	500: "The server encountered an internal error or misconfiguration and was unable to complete your request.",
	501: "This server does not support the action requested.",
	502: "The proxy server received an invalid response from an upstream server.",
	503: "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.",
	504: "The gateway did not receive a timely response from the upstream server or application.",
}

// ContentType is the type of every page, as Apache sends it.
const ContentType = "text/html; charset=iso-8859-1"

// Body renders the page for status. For a 3xx status, location is the
// redirect target the page links to.
func Body(status int, location string) []byte {
	reason := http.StatusText(status)
	b := make([]byte, 0, 400)
	b = append(b, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>"...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, reason...)
	b = append(b, "</title>\n</head><body>\n<h1>"...)
	b = append(b, reason...)
	b = append(b, "</h1>\n"...)
	switch {
	case status >= 300 && status < 400 && location != "":
		b = append(b, "<p>The document has moved <a href=\""...)
		b = append(b, html.EscapeString(location)...)
		b = append(b, "\">here</a>.</p>\n"...)
	case text[status] != "":
		b = append(b, "<p>"...)
		b = append(b, text[status]...)
		b = append(b, "</p>\n"...)
	}
	return append(b, "</body></html>\n"...)
}

// Write answers status with its page (a HEAD gets the headers only). For
// a 3xx status it also sets Location.
func Write(w http.ResponseWriter, r *http.Request, status int, location string) {
	body := Body(status, location)
	h := w.Header()
	if location != "" && status >= 300 && status < 400 {
		h.Set("Location", location)
	}
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
