package server

import (
	"html"
	"net/http"
	"strconv"
)

// errorText is the body text Apache's default error pages use, so clients
// and monitoring that look for them see the same words.
var errorText = map[int]string{
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

// defaultErrorPage renders Apache's built-in error document for status.
// It never includes request data other than the escaped redirect target.
func defaultErrorPage(status int, location string) []byte {
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	b := make([]byte, 0, 400)
	b = append(b, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>"...)
	b = append(b, title...)
	b = append(b, "</title>\n</head><body>\n<h1>"...)
	b = append(b, http.StatusText(status)...)
	b = append(b, "</h1>\n"...)
	switch {
	case status >= 300 && status < 400 && location != "":
		b = append(b, "<p>The document has moved <a href=\""...)
		b = append(b, html.EscapeString(location)...)
		b = append(b, "\">here</a>.</p>\n"...)
	case errorText[status] != "":
		b = append(b, "<p>"...)
		b = append(b, errorText[status]...)
		b = append(b, "</p>\n"...)
	}
	b = append(b, "</body></html>\n"...)
	return b
}
