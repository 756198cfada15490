package native

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// params is a parsed query string. The raw query is split by hand (not
// url.ParseQuery) so that a raw "+" in an ISO-8601 offset survives and a
// ";" is not silently dropped.
type params map[string]string

// maxQueryLength bounds the query string a route reads.
const maxQueryLength = 4096

// parseParams reads rawQuery, accepting only the names in allowed. A name
// given twice is a 400 (except api_key, which Power BI may repeat); so is
// an unknown name, because a misspelt "strat" must not silently fall back
// to the default window.
func parseParams(rawQuery string, allowed ...string) (params, error) {
	if len(rawQuery) > maxQueryLength {
		return nil, apierror.Invalid("", fmt.Sprintf("the query string is longer than %d bytes", maxQueryLength))
	}
	p := params{}
	if rawQuery == "" {
		return p, nil
	}
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.PathUnescape(k)
		if err != nil {
			return nil, apierror.Invalid("", fmt.Sprintf("malformed query string near %q", clip(k)))
		}
		if key == "api_key" {
			continue // consumed by authentication, never echoed
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, apierror.Invalid(key, fmt.Sprintf("%s: malformed percent-encoding", clip(key)))
		}
		if !slices.Contains(allowed, key) {
			return nil, apierror.Invalid(clip(key), fmt.Sprintf("unknown parameter %q; this route accepts %s", clip(key), strings.Join(allowed, ", ")))
		}
		if _, dup := p[key]; dup {
			return nil, apierror.Invalid(key, key+": given more than once")
		}
		p[key] = val
	}
	return p, nil
}

// queueID reads queueId: a positive integer.
func (p params) queueID() (uint32, bool, error) {
	v, ok := p["queueId"]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 || n > math.MaxInt32 {
		return 0, true, apierror.Invalid("queueId", fmt.Sprintf("queueId: not a queue id: '%s' (a positive integer)", clip(v)))
	}
	return uint32(n), true, nil
}

// boolean reads a true/false flag; absent is false.
func (p params) boolean(name string) (bool, error) {
	v, ok := p[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, apierror.Invalid(name, fmt.Sprintf("%s: expected true or false, not '%s'", name, clip(v)))
}

func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
