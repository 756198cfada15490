package native

import (
	"fmt"
	"slices"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/details"
)

// This file describes the routes this package serves, for the API
// description (reports/native/openapi): their paths, the query parameters
// each handler accepts (the same lists the handlers enforce), the
// representations they negotiate and the error codes they give. Nothing
// here is a second list of reports or columns: report routes come from
// the registry.

// Param documents one query parameter.
type Param struct {
	Name        string
	Description string
	// Type is the JSON Schema type of the value: string, integer or boolean.
	Type string
	// Enum lists the accepted values (empty: any value of Type).
	Enum     []string
	Example  string
	Required bool
}

// Route is one GET route of the native API.
type Route struct {
	// Path is the route's path, with {SessionID} for the session id.
	Path string
	// Name is the route's last path segment: the report or catalog name,
	// or SessionDetails.
	Name        string
	Summary     string
	Description string
	Params      []Param
	// Formats are the representations the route negotiates, the default
	// first: json, csv, xlsx.
	Formats []string
	// Errors are the codes the handler itself can answer with (the key
	// middleware adds its own).
	Errors []apierror.Code
	// Report is the report a report route serves (nil otherwise).
	Report *reports.Report
	// Category is the category of a catalog or report route.
	Category reports.Category
	// Body is a value of the JSON body's Go type for catalog and session
	// routes (report routes stream the envelope of their columns).
	Body any
}

// MediaTypes maps a representation to the media type it is served as.
func MediaTypes() map[string]string {
	out := map[string]string{}
	for f, name := range formatNames {
		out[name] = mediaTypes[f]
	}
	return out
}

// Every route takes the shared parameters (reportParams): a client may
// template one query string for all of them. What each means per route is
// in the handlers (catalog.go, session.go) and in paramDocs.
var sessionParams = reportParams

// catalogParams are the query parameters of a catalog route.
func catalogParams(reports.Category) []string { return reportParams }

// reportParamsOf are the parameters report r takes: the shared ones, and
// interval on a time series.
func reportParamsOf(r *reports.Report) []string {
	if r.TakesInterval() {
		return append(slices.Clone(reportParams), "interval")
	}
	return reportParams
}

// requiredOf lists the parameters report r cannot do without.
func requiredOf(r *reports.Report) []string {
	if r.RequiresQueue() {
		return []string{"queueId"}
	}
	return nil
}

// paramDocs describes every parameter name any route accepts.
var paramDocs = map[string]Param{
	"start": {Type: "string", Example: "2020-11-01T04:00:00.000Z",
		Description: "Start of the window, inclusive. ISO-8601: a date (`2020-11-01`, local midnight in `zone`), a local time " +
			"(`2020-11-01T08:00`), or an instant with `Z` or an offset (`+02:00`, sent as `%2B02:00`; a raw `+` also works). " +
			"Without `start` and `stop`: the last 30 local days, today included."},
	"stop": {Type: "string", Example: "2020-12-01T04:59:59.999Z",
		Description: "End of the window, inclusive to the millisecond (`…04:59:59.999Z` ends the window at `05:00:00.000Z`). " +
			"A date-only `stop` means the whole of that local day. Same forms as `start`."},
	"zone": {Type: "string", Example: "America/New_York",
		Description: "IANA time zone of the local days and hours (default: the user's default zone, else `UTC`)."},
	"queueId": {Type: "integer", Example: "1",
		Description: "The queue to report on: required on per-queue reports; on global reports, catalogs and SessionDetails it narrows " +
			"the answer to that queue. It must be one you can see (otherwise 404, exactly as for a queue that does not exist)."},
	"csv": {Type: "boolean",
		Description: "`true` answers as CSV (RFC 4180, UTF-8, CRLF), like `format=csv`."},
	"format": {Type: "string",
		Description: "The representation; `Accept` negotiation is used when neither `format` nor `csv` is given."},
	"bom": {Type: "boolean",
		Description: "`true` starts a CSV answer with a UTF-8 byte order mark, for Excel."},
	"interval": {Type: "string",
		Description: "Time-series reports only: the bucket of a row. `PT15M`, `PT30M`, `PT1H` (UTC-length buckets from the local " +
			"boundary), `P1D` (local days), `P1W` (ISO weeks, Monday to Monday, local), `P1M` (local months) or `total` (one row for " +
			"the window). Without it the report keeps its own grain; with another one the bucket column is `PeriodStart`, the " +
			"bucket's local start."},
}

// documented describes names; format's values are the route's formats.
func documented(names []string, formats []string, required ...string) []Param {
	out := make([]Param, 0, len(names))
	for _, n := range names {
		p, ok := paramDocs[n]
		if !ok {
			panic("native: parameter without a description: " + n)
		}
		p.Name = n
		if n == "format" {
			p.Enum = formats
		}
		for _, r := range required {
			if r == n {
				p.Required = true
			}
		}
		out = append(out, p)
	}
	return out
}

// Routes lists every GET route of the native API: the catalog routes in
// catalog order, every registered report, then SessionDetails.
func Routes() []Route {
	var out []Route
	catalogFormats := []string{"json", "csv"}
	handlerErrors := []apierror.Code{apierror.InvalidParameter, apierror.NotFound, apierror.Unavailable, apierror.Timeout}
	for _, c := range reports.Categories {
		desc := "The implemented reports of this category with their typed, described columns and their URLs."
		if c.Category == reports.Global {
			desc += " Also lists the queues you can see."
		} else {
			desc += " With `queueId` (a queue you can see), the report URLs carry it."
		}
		out = append(out, Route{Path: "/Chime/Report/" + c.Route, Name: c.Route, Category: c.Category,
			Summary: fmt.Sprintf("Catalog of the %s reports", c.Category), Description: desc,
			Params: documented(catalogParams(c.Category), catalogFormats), Formats: catalogFormats, Errors: handlerErrors,
			Body: catalogBody{}})
	}
	reportFormats := []string{"json", "csv", "xlsx"}
	for _, r := range reports.All() {
		out = append(out, Route{Path: "/Chime/Report/" + r.Name, Name: r.Name, Category: r.Category, Report: r,
			Summary: r.Title, Description: r.Description,
			Params: documented(reportParamsOf(r), reportFormats, requiredOf(r)...), Formats: reportFormats,
			Errors: append(handlerErrors, apierror.NotAcceptable)})
	}
	sessionFormats := []string{"json", "csv"}
	out = append(out, Route{Path: "/Chime/Session/SessionDetails/{SessionID}", Name: "SessionDetails",
		Summary:     "One chat: metadata and transcript",
		Description: "Metadata, agents, offers, bot, transfers, rating, events and transcript of one chat session. As CSV: the transcript.",
		Params:      documented(sessionParams, sessionFormats), Formats: sessionFormats,
		Errors: append(handlerErrors, apierror.NotAcceptable), Body: details.SessionDetails{}})
	return out
}
