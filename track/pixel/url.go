package pixel

import (
	"html"
	"strings"
)

// PathPrefix is where pixel URLs live on mailack's HTTP listener:
// PathPrefix + token + ".gif" (or ".png").
const PathPrefix = "/o/"

// URL returns the pixel URL of token under baseURL, the public address of
// mailack's HTTP listener (a trailing slash is allowed).
func URL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + PathPrefix + token + ".gif"
}

// Snippet returns the HTML element that embeds the pixel of token. It is
// ASCII, a single line, and carries no style that would stop a mail
// program from loading it.
func Snippet(baseURL, token string) string {
	return `<img src="` + html.EscapeString(URL(baseURL, token)) + `" width="1" height="1" alt="" style="border:0;width:1px;height:1px">`
}

// ParsePath splits a request path into the token and the image format
// ("gif" or "png"). It reports false for any other path.
func ParsePath(path string) (token, format string, ok bool) {
	rest, ok := strings.CutPrefix(path, PathPrefix)
	if !ok {
		return "", "", false
	}
	for _, f := range []string{"gif", "png"} {
		if t, ok := strings.CutSuffix(rest, "."+f); ok && t != "" && !strings.Contains(t, "/") {
			return t, f, true
		}
	}
	return "", "", false
}
