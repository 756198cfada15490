package odata

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/httpcache"
	"github.com/chime-reports/chime-reports/reports/query"
)

// Content types of the feed (docs/powerbi.md, rules 2 and 3).
const (
	JSONType     = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	MetadataType = "application/xml;charset=utf-8"
	CountType    = "text/plain;charset=utf-8"
)

// DefaultPageSize is the number of rows per page unless the client asks
// for fewer (Prefer: odata.maxpagesize).
const DefaultPageSize = 5000

// Options configure the feed.
type Options struct {
	// Prefix is the path the handler is mounted at (default "/odata").
	Prefix string
	// PageSize is the server's page size (default DefaultPageSize).
	PageSize int
	// MaxWindowDays caps the window of report sets (0: the engine default).
	MaxWindowDays int
	// XLSX caps concurrent workbook downloads ($format=xlsx); share the
	// native API's limiter (nil: one of export.DefaultMaxXLSX for the feed).
	XLSX *export.Limiter
	// TokenKey signs $skiptoken values. When nil a random key is made, so
	// a nextLink does not survive a restart (the client then gets a 400
	// and Power Query refreshes again).
	TokenKey []byte
	// Origin gives the scheme://host[:port] of absolute links for a
	// request (the server's configured public URL or trusted proxy); nil:
	// the request's own scheme and Host.
	Origin func(*http.Request) string
	// DeltaMargin is how far behind its high-water mark a change-tracking
	// read re-reads (default DefaultDeltaMargin): at least the longest
	// write transaction plus the clock skew between writers and the
	// database.
	DeltaMargin time.Duration
}

// Service is the OData feed: an http.Handler to mount behind the key
// middleware at Prefix.
type Service struct {
	engine *query.Engine
	log    *slog.Logger
	opt    Options
}

// New returns the feed over engine.
func New(engine *reports.Engine, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.Default()
	}
	if opt.Prefix == "" {
		opt.Prefix = "/odata"
	}
	opt.Prefix = strings.TrimSuffix(opt.Prefix, "/")
	if opt.DeltaMargin <= 0 {
		opt.DeltaMargin = DefaultDeltaMargin
	}
	if opt.PageSize <= 0 {
		opt.PageSize = DefaultPageSize
	}
	if opt.XLSX == nil {
		opt.XLSX = export.NewLimiter(export.DefaultMaxXLSX)
	}
	if len(opt.TokenKey) == 0 {
		opt.TokenKey = make([]byte, 32)
		rand.Read(opt.TokenKey)
	}
	return &Service{engine: query.NewEngine(engine), log: log, opt: opt}
}

// ServeHTTP routes a request under Prefix: the service document, $metadata,
// an entity set and its /$count.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Exactly one OData-Version header, in OData's spelling (docs/powerbi.md, rule 1): set
	// by this map write only, never by Header().Set as well.
	// 4.01 only for a client that says it understands it.
	version := "4.0"
	if v401, err := maxVersion(r); err == nil && v401 {
		version = "4.01"
	}
	w.Header()["OData-Version"] = []string{version}
	batch := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, s.opt.Prefix), "/") == "$batch"
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !(batch && r.Method == http.MethodPost) {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, r, &apierror.Error{Code: apierror.MethodNotAllowed, Message: r.Method + " is not allowed: the feed is read-only"})
		return
	}
	p, ok := keys.PrincipalFrom(r.Context())
	if !ok {
		s.fail(w, r, &apierror.Error{Code: apierror.Unauthorized, Message: "an API key is required"})
		return
	}
	path := strings.TrimPrefix(r.URL.Path, s.opt.Prefix)
	path = strings.TrimPrefix(path, "/")
	// entitySet splits the escaped path, so that a "/" inside a quoted key
	// stays in its segment, and decodes each segment.
	escaped := strings.TrimPrefix(strings.TrimPrefix(r.URL.EscapedPath(), s.opt.Prefix), "/")
	var err error
	switch {
	case batch:
		err = notImplemented("$batch", "$batch is not supported: send each request on its own (they may run in parallel, as Power Query does)")
	case path == "":
		err = s.serviceDocument(w, r)
	case path == "$metadata":
		err = s.metadata(w, r)
	case strings.HasPrefix(path, "$"):
		err = notImplemented("", clip(path)+" is not supported by this feed")
	default:
		err = s.entitySet(w, r, p, escaped)
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

// base is the absolute URL of the service root, without a trailing slash.
func (s *Service) base(r *http.Request) string {
	if s.opt.Origin != nil {
		return s.opt.Origin(r) + s.opt.Prefix
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if f := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); f == "https" || f == "http" {
		scheme = f
	}
	return scheme + "://" + r.Host + s.opt.Prefix
}

// fail writes err as an OData error body (before any byte of the answer).
// There is exactly one place that maps error classes to statuses
// (apierror); this adds the OData shape around it.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apierror.From(asOption(err))
	h := w.Header()
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Code == apierror.Unauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="chime-reports"`)
	}
	if e.Status() >= 500 && e.Code != apierror.NotImplemented {
		s.log.Error("odata request failed", "path", keys.RedactPath(r.URL.Path), "code", e.Code, "err", e.Cause)
	}
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	body := struct {
		Error struct {
			Code    apierror.Code `json:"code"`
			Message string        `json:"message"`
			Target  string        `json:"target,omitempty"`
			Details []detail      `json:"details,omitempty"`
		} `json:"error"`
	}{}
	body.Error.Code, body.Error.Message, body.Error.Target = e.Code, e.Message, e.Target
	for _, d := range e.Details {
		body.Error.Details = append(body.Error.Details, detail{Code: string(e.Code), Message: d})
	}
	w.WriteHeader(e.Status())
	if r.Method != http.MethodHead {
		json.NewEncoder(w).Encode(body)
	}
}

// start sends the status and headers of a successful answer and returns
// the body writer (gzip when the client accepts it) and a finish function
// that flushes it.
func start(w http.ResponseWriter, r *http.Request, contentType string) (io.Writer, func() error) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	httpcache.SetHeaders(h, h.Get("ETag")) // an entity set's tag, set before, stays
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return io.Discard, func() error { return nil }
	}
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(w)
		return gz, func() error {
			err := gz.Close()
			gzipWriters.Put(gz)
			return err
		}
	}
	w.WriteHeader(http.StatusOK)
	return w, func() error { return nil }
}

// gzipWriters are reused compressors at the fastest level: klauspost's
// deflate at level 1 takes about half the CPU of the standard library's
// for the same JSON, which in a full read of Sessions is a sixth of the
// server's time (docs/benchmarks.md).
var gzipWriters = sync.Pool{New: func() any {
	gz, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return gz
}}

func acceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if q, err := strconv.ParseFloat(val, 64); strings.EqualFold(k, "q") && err == nil && q == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// serviceDocument lists the entity sets (docs/powerbi.md, rule 2: JSON, never Atom).
func (s *Service) serviceDocument(w http.ResponseWriter, r *http.Request) error {
	o, err := requestOptions(r)
	if err != nil {
		return err
	}
	f, err := jsonFormat(r, o)
	if err != nil {
		return err
	}
	type entry struct {
		Name  string `json:"name"`
		Kind  string `json:"kind"`
		URL   string `json:"url"`
		Title string `json:"title,omitempty"`
	}
	doc := struct {
		Context string  `json:"@odata.context,omitempty"`
		Value   []entry `json:"value"`
	}{}
	if f.metadata != "none" {
		doc.Context = s.base(r) + "/$metadata"
	}
	for _, set := range query.Sets() {
		doc.Value = append(doc.Value, entry{Name: set.Name, Kind: "EntitySet", URL: set.Name, Title: set.Title})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	body, finish := start(w, r, f.contentType())
	body.Write(b)
	return finish()
}
