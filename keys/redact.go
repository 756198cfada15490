package keys

import (
	"net/url"
	"regexp"
	"strings"
)

// keyShape matches anything shaped like an API key (a GUID, with or without
// braces or hyphens, any case), so that a key sent under a wrong parameter
// name (API_KEY=, apikey=, key=), in the path or in a value is not logged.
var keyShape = regexp.MustCompile(`(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}`)

// Redacted replaces a key-shaped text in logs and the audit trail.
const Redacted = "REDACTED"

// isKeyParam reports whether a query parameter name, percent-decoded,
// names the key parameter (api_key, however encoded).
func isKeyParam(rawName string) bool {
	name, err := url.QueryUnescape(rawName)
	if err != nil {
		name = rawName
	}
	return name == "api_key"
}

// stripKey drops every pair whose decoded name is api_key and replaces
// anything key-shaped left in the others (decoded) by Redacted.
func stripKey(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	parts := strings.Split(rawQuery, "&")
	out := parts[:0]
	for _, p := range parts {
		k, v, hasValue := strings.Cut(p, "=")
		if isKeyParam(k) {
			continue
		}
		out = append(out, redactPart(k)+map[bool]string{true: "=" + redactPart(v)}[hasValue])
	}
	return strings.Join(out, "&")
}

// redactPart redacts a raw (percent-encoded) name or value: if its decoded
// text holds something key-shaped, it is re-encoded with that redacted.
func redactPart(raw string) string {
	dec, err := url.QueryUnescape(raw)
	if err != nil {
		dec = raw
	}
	if !keyShape.MatchString(dec) && !keyShape.MatchString(raw) {
		return raw
	}
	return url.QueryEscape(keyShape.ReplaceAllString(dec, Redacted))
}

// RedactPath replaces anything key-shaped in a request path (decoded) by
// Redacted.
func RedactPath(path string) string {
	if !keyShape.MatchString(path) {
		return path
	}
	return keyShape.ReplaceAllString(path, Redacted)
}
