package odata

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
)

// MaxQueryLength bounds the raw query string of one request.
const MaxQueryLength = 32 << 10

// pair is one name=value of the raw query string.
type pair struct {
	name string // decoded; system options lower-cased
	raw  string // as sent, for @odata.nextLink
}

// options are the query options of one request.
type options struct {
	pairs  []pair
	system map[string]string // $filter, $top, … (decoded)
	custom map[string]string // zone, start, stop, interval (decoded, "+" kept)
	// aliases are parameter aliases (@p=value), decoded as expressions;
	// $filter, $orderby and key predicates read them.
	aliases map[string]string
}

// systemOptions are the system query options the feed evaluates; the rest
// of OData's options are answered with 501 so that Power Query folds less
// instead of loading a silently unfiltered table.
var systemOptions = map[string]bool{
	"$filter": true, "$select": true, "$orderby": true, "$top": true, "$skip": true, "$count": true,
	"$skiptoken": true, "$apply": true, "$format": true, "$deltatoken": true, "$expand": true,
}

var unsupportedOptions = map[string]bool{
	"$search": true, "$compute": true, "$levels": true, "$index": true,
	"$schemaversion": true, "$id": true,
}

// unsupportedWhy says why an option is refused (docs/powerbi.md, the
// conformance table, has the same reasons).
var unsupportedWhy = map[string]string{
	"$search":  "filter with contains(Question,'…') instead, which runs in the database",
	"$compute": "compute the column in Power Query or with $apply",
	"$levels":  "the feed has no recursive navigation",
	"$index":   "the feed has no ordered collections",
	"$id":      "address an entity by key instead: Sessions(14)",
}

// bareSystem are system option names sent without their "$" (allowed in
// OData 4.01): refused, so a filter is never mistaken for a custom option.
var bareSystem = map[string]bool{
	"filter": true, "select": true, "orderby": true, "top": true, "skip": true, "count": true, "skiptoken": true,
	"apply": true, "expand": true, "search": true, "format": true, "compute": true, "deltatoken": true,
}

// requestOptions parses the options of r: an OData 4.01 client
// (OData-MaxVersion: 4.01) may write system options without their "$".
func requestOptions(r *http.Request) (*options, error) {
	v401, err := maxVersion(r)
	if err != nil {
		return nil, err
	}
	return parseOptionsFor(r.URL.RawQuery, v401)
}

// parseOptionsFor splits the raw query string by hand: only "&" separates
// pairs (";" is data), and "+" is decoded per option — as a space in
// expressions (the $filter lexer reads "T00:00:00 01:00" as an offset), as
// "+" in custom options such as start. api_key (repeatable) is dropped.
// With v401 a system option name written without its "$" (filter=) is
// that option, as OData 4.01 allows.
func parseOptionsFor(rawQuery string, v401 bool) (*options, error) {
	if len(rawQuery) > MaxQueryLength {
		return nil, apierror.Invalid("", fmt.Sprintf("the query string is longer than %d bytes", MaxQueryLength))
	}
	o := &options{system: map[string]string{}, custom: map[string]string{}, aliases: map[string]string{}}
	for _, raw := range strings.Split(rawQuery, "&") {
		if raw == "" {
			continue
		}
		k, v, _ := strings.Cut(raw, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return nil, apierror.Invalid("", fmt.Sprintf("malformed query string near %q", clip(k)))
		}
		if name == "api_key" {
			continue // consumed by authentication; never echoed
		}
		if strings.HasPrefix(name, "@") {
			if _, dup := o.aliases[name]; dup {
				return nil, apierror.Invalid(clip(name), clip(name)+" is given more than once")
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				return nil, apierror.Invalid(clip(name), clip(name)+": malformed percent-encoding")
			}
			o.aliases[name] = val
			o.pairs = append(o.pairs, pair{name: name, raw: raw})
			continue
		}
		if v401 && (bareSystem[strings.ToLower(name)] || unsupportedOptions["$"+strings.ToLower(name)]) {
			name = "$" + name
		}
		if strings.HasPrefix(name, "$") {
			name = strings.ToLower(name)
			switch {
			case unsupportedOptions[name]:
				msg := name + " is not supported by this feed"
				if why, ok := unsupportedWhy[name]; ok {
					msg += ": " + why
				}
				return nil, notImplemented(name, msg)
			case !systemOptions[name]:
				return nil, apierror.Invalid(clip(name), fmt.Sprintf("unknown system query option %s", clip(name)))
			}
			if _, dup := o.system[name]; dup {
				return nil, apierror.Invalid(name, name+" is given more than once")
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				return nil, apierror.Invalid(name, name+": malformed percent-encoding")
			}
			o.system[name] = val
		} else {
			if bareSystem[strings.ToLower(name)] {
				return nil, apierror.Invalid(clip(name), fmt.Sprintf("write $%s (with the $) for the system query option", clip(strings.ToLower(name))))
			}
			val, err := url.PathUnescape(v)
			if err != nil {
				return nil, apierror.Invalid(clip(name), clip(name)+": malformed percent-encoding")
			}
			if _, dup := o.custom[name]; dup && (name == "zone" || name == "start" || name == "stop" || name == "interval") {
				return nil, apierror.Invalid(name, name+" is given more than once")
			}
			o.custom[name] = val
		}
		o.pairs = append(o.pairs, pair{name: name, raw: raw})
	}
	return o, nil
}

// integer reads $top or $skip: a non-negative integer; -1 when absent.
func (o *options) integer(name string) (int, error) {
	v, ok := o.system[name]
	if !ok {
		return -1, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, apierror.Invalid(name, fmt.Sprintf("%s must be a non-negative integer, not '%s'", name, clip(v)))
	}
	return n, nil
}

// count reads $count=true|false.
func (o *options) count() (bool, error) {
	v, ok := o.system["$count"]
	if !ok {
		return false, nil
	}
	switch strings.TrimSpace(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, apierror.Invalid("$count", fmt.Sprintf("$count must be true or false, not '%s'", clip(v)))
}

// checkFormat accepts $format=json (or an application/json media type).
func (o *options) checkFormat(also ...string) error {
	v, ok := o.system["$format"]
	if !ok {
		return nil
	}
	f := strings.ToLower(strings.TrimSpace(v))
	if f == "json" || strings.HasPrefix(f, "application/json") {
		return nil
	}
	for _, a := range also {
		if f == a || strings.HasPrefix(f, "application/"+a) {
			return nil
		}
	}
	return notAcceptable("$format", fmt.Sprintf("$format=%s is not served; this feed answers JSON", clip(v)))
}

// downloadFormat reads $format on an entity set: "" for JSON, "csv" or
// "xlsx" for a file download (Excel users' $format=xlsx|csv).
func (o *options) downloadFormat() (string, error) {
	v := strings.ToLower(strings.TrimSpace(o.system["$format"]))
	switch v {
	case "csv", "text/csv":
		return "csv", nil
	case "xlsx", export.XLSXMediaType:
		return "xlsx", nil
	}
	return "", nil
}

func notImplemented(target, message string) *apierror.Error {
	return &apierror.Error{Code: apierror.NotImplemented, Target: target, Message: message}
}

// clip shortens user text quoted back in an error message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
