package odata

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/httpcache"
	"github.com/chime-reports/chime-reports/reports/query"
)

// request is one parsed entity-set request.
type request struct {
	set      *query.Set
	opts     *options
	query    query.SetQuery
	selected []int // indexes of the properties written, in order
	count    bool  // $count=true
	top      int   // $top, -1 when absent
	pageSize int
	applied  bool // Prefer odata.maxpagesize was honoured
	sort     []query.SortKey
	download string // "csv" or "xlsx" for $format downloads
	format   format // of a JSON answer
	expand   []expandItem
	expanded *expansion // the expanded rows of the page being written
	// path is the resource path the answer's links repeat: the set's
	// name, or the navigation a collection was reached by
	// (Sessions(14)/Transcript).
	path string
}

// entitySet answers /Set and /Set/$count.
func (s *Service) entitySet(w http.ResponseWriter, r *http.Request, p *keys.Principal, path string) error {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		var err error
		if segs[i], err = url.PathUnescape(seg); err != nil {
			return apierror.Invalid("path", "malformed percent-encoding in the path")
		}
	}
	name, keyText := segs[0], ""
	if i := strings.IndexByte(name, '('); i >= 0 {
		name, keyText = name[:i], name[i:]
	}
	set, ok := query.LookupSet(name)
	if !ok {
		return &apierror.Error{Code: apierror.NotFound, Target: "EntitySet",
			Message: fmt.Sprintf("no entity set %q; the service document at %s/ lists them", clip(name), s.opt.Prefix)}
	}
	if keyText != "" {
		return s.entity(w, r, p, set, keyText, segs[1:])
	}
	switch rest := strings.Join(segs[1:], "/"); rest {
	case "":
	case "$count":
		return s.count(w, r, p, set, nil)
	default:
		return notImplemented("", fmt.Sprintf("/%s/%s is not supported", set.Name, clip(rest)))
	}
	return s.collection(w, r, p, set, nil, set.Name)
}

// collection answers a collection of set: the entity set itself (scope
// nil), or the rows a navigation segment reaches (scope: the condition
// that ties them to their parent, path: the canonical path, which the
// answer's next links repeat). The query options apply to those rows.
func (s *Service) collection(w http.ResponseWriter, r *http.Request, p *keys.Principal, set *query.Set, scope query.Expr, path string) error {
	req, err := s.parse(r, p, set)
	if err != nil {
		return err
	}
	req.path = path
	req.query.Filter = query.And(scope, req.query.Filter)
	tracked := scope == nil && set.TracksChanges() && req.download == ""
	if tok, ok := req.opts.system["$deltatoken"]; ok {
		switch {
		case req.download != "":
			return apierror.Invalid("$deltatoken", "a "+req.download+" download does not track changes: follow the delta link as given, without $format")
		case !tracked:
			return apierror.Invalid("$deltatoken", path+" does not track changes (the entity sets Sessions, Messages, Ratings, Participants, Offers, BotInteractions and Keywords do)")
		case tok == "":
			return apierror.Invalid("$deltatoken", "$deltatoken is empty: follow @odata.deltaLink as given, or start with Prefer: odata.track-changes")
		}
		return s.delta(w, r, p, req, tok)
	}
	if tracked && wantsTracking(r.Header.Values("Prefer")) && trackable(req.opts) == "" {
		return s.delta(w, r, p, req, "")
	}
	if done, err := s.revalidate(w, r, p, req); done || err != nil {
		return err
	}
	if req.download != "" {
		return s.download(w, r, p, req)
	}
	var total int64
	if req.count {
		if total, err = s.engine.CountSet(r.Context(), req.query); err != nil {
			return err
		}
	}
	res, err := s.engine.QuerySet(r.Context(), req.query)
	if err != nil {
		return err
	}
	defer res.Rows.Close()
	if len(req.expand) > 0 {
		// The page's parents first, then one query per navigation.
		rows, err := reports.Collect(res.Rows)
		if err != nil {
			return err
		}
		if req.expanded, err = s.expand(r, p, req, rows[:min(len(rows), req.pageSize)]); err != nil {
			return err
		}
		res.Rows = reports.NewSliceRows(rows)
	}
	if req.applied {
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(req.pageSize))
	}
	return s.write(w, r, req, res, total)
}

// revalidate computes req's tag and answers 304 when If-None-Match holds
// it (done); otherwise the tag goes on the answer to come. The tag comes
// before the answer is computed, so a change in between leaves it older
// than the answer, never newer.
func (s *Service) revalidate(w http.ResponseWriter, r *http.Request, p *keys.Principal, req *request) (done bool, err error) {
	tag, err := s.etag(r, p, req)
	if err != nil {
		return false, err
	}
	if httpcache.NotModified(w, r, tag) {
		return true, nil
	}
	if tag != "" {
		w.Header().Set("ETag", tag)
	}
	return false, nil
}

// count answers /Set/$count as text/plain (docs/powerbi.md, rule 10), and
// the count of a navigated collection (scope as for collection).
func (s *Service) count(w http.ResponseWriter, r *http.Request, p *keys.Principal, set *query.Set, scope query.Expr) error {
	req, err := s.parse(r, p, set)
	if err != nil {
		return err
	}
	req.query.Filter = query.And(scope, req.query.Filter)
	if _, ok := req.opts.system["$deltatoken"]; ok {
		return apierror.Invalid("$deltatoken", "/$count does not take a $deltatoken")
	}
	if done, err := s.revalidate(w, r, p, req); done || err != nil {
		return err
	}
	n, err := s.engine.CountSet(r.Context(), req.query)
	if err != nil {
		return err
	}
	body, finish := start(w, r, CountType)
	body.Write([]byte(strconv.FormatInt(n, 10)))
	return finish()
}

// parse turns the query options into a SetQuery for the caller.
func (s *Service) parse(r *http.Request, p *keys.Principal, set *query.Set) (*request, error) {
	o, err := requestOptions(r)
	if err != nil {
		return nil, err
	}
	download, err := o.downloadFormat()
	if err != nil {
		return nil, err
	}
	req := &request{set: set, opts: o, pageSize: s.opt.PageSize, download: download, path: set.Name}
	if download == "" && !textAnswer(r) {
		if req.format, err = jsonFormat(r, o); err != nil {
			return nil, err
		}
	}
	q := &req.query
	q.Set, q.Visible, q.MaxDays = set, p.Visible, s.opt.MaxWindowDays
	zone := p.DefaultZone
	if z, ok := o.custom["zone"]; ok {
		zone = z
	}
	if q.Zone, err = reports.ParseZone(zone); err != nil {
		return nil, err
	}
	if set.Report != nil || set.SQLBacked() { // report and session sets (docs/powerbi.md)
		q.Start, q.Stop = o.custom["start"], o.custom["stop"]
	}
	if v, ok := o.custom["interval"]; ok {
		if q.Interval, err = reports.ParseInterval(v); err != nil {
			return nil, err
		}
	}
	q.Extent = &query.Extent{}
	if text, ok := o.system["$filter"]; ok {
		x, err := filter.ParseWith(text, o.aliases)
		if err != nil {
			return nil, err
		}
		if err := set.CheckPredicate(x); err != nil {
			return nil, err
		}
		q.Filter = x
	}
	if text, ok := o.system["$apply"]; ok {
		if q.Apply, err = filter.ParseApplyWith(text, o.aliases); err != nil {
			return nil, err
		}
		if q.Filter != nil {
			return nil, notImplemented("$filter", "$filter together with $apply is not supported; put the condition in $apply=filter(…)")
		}
	}
	if q.OrderBy, err = parseOrderBy(set, o.system["$orderby"], o.aliases, q.Apply != nil); err != nil {
		return nil, err
	}
	if req.top, err = o.integer("$top"); err != nil {
		return nil, err
	}
	skip, err := o.integer("$skip")
	if err != nil {
		return nil, err
	}
	q.Skip = max(skip, 0)
	if req.count, err = o.count(); err != nil {
		return nil, err
	}
	if n, ok := maxPageSize(r.Header.Values("Prefer")); ok && n <= req.pageSize {
		req.pageSize, req.applied = max(n, 1), true
	}
	req.sort = set.Sort(q.OrderBy)
	if tok, ok := o.system["$skiptoken"]; ok {
		if q.Apply != nil {
			return nil, apierror.Invalid("$skiptoken", "$skiptoken does not apply to $apply results")
		}
		if q.After, err = s.readToken(set, req.sort, tok); err != nil {
			return nil, err
		}
	}
	// Ask for one row more than a page to learn whether another page
	// follows; $apply results are small and come in one answer.
	switch {
	case q.Apply != nil:
		q.Top = req.top
	case req.top >= 0 && req.top <= req.pageSize:
		q.Top = req.top
	default:
		q.Top = req.pageSize + 1
	}
	if req.selected, err = parseSelect(set, o.system["$select"], q.Apply != nil); err != nil {
		return nil, err
	}
	if text, ok := o.system["$expand"]; ok {
		switch {
		case q.Apply != nil:
			return nil, notImplemented("$expand", "$expand together with $apply is not supported")
		case download != "":
			return nil, notImplemented("$expand", "$expand does not apply to csv or xlsx downloads")
		}
		if req.expand, err = parseExpand(set, text, o.aliases); err != nil {
			return nil, err
		}
	}
	if req.selected != nil && req.expand == nil { // the engine may leave the rest out (and their joins); an expansion reads the whole row
		q.Select = slices.Clone(set.Key)
		for _, i := range req.selected {
			q.Select = append(q.Select, set.Props[i].Name)
		}
	}
	return req, nil
}

// maxPageSize reads odata.maxpagesize from Prefer headers.
func maxPageSize(prefer []string) (int, bool) {
	for _, h := range prefer {
		for _, p := range strings.Split(h, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
				n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
				if err == nil && n > 0 {
					return n, true
				}
			}
		}
	}
	return 0, false
}

// MaxOrderBy bounds the $orderby items.
const MaxOrderBy = 8

// parseOrderBy reads "A desc, B asc"; only properties, not expressions.
// After $apply the names are checked against the result by the engine.
func parseOrderBy(set *query.Set, text string, aliases map[string]string, applied bool) ([]query.SortKey, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var out []query.SortKey
	for _, item := range strings.Split(text, ",") {
		fields := strings.Fields(item)
		// A parameter alias stands for a property name ("$orderby=@o desc&@o=StartedAt").
		if len(fields) > 0 && strings.HasPrefix(fields[0], "@") {
			v, ok := aliases[fields[0]]
			if !ok || len(strings.Fields(v)) != 1 {
				return nil, apierror.Invalid("$orderby", fmt.Sprintf("$orderby: the alias %s must name one property", clip(fields[0])))
			}
			fields[0] = strings.TrimSpace(v)
		}
		if len(fields) == 0 || len(fields) > 2 {
			return nil, apierror.Invalid("$orderby", fmt.Sprintf("$orderby: cannot read %q", clip(strings.TrimSpace(item))))
		}
		k := query.SortKey{Prop: fields[0]}
		if len(fields) == 2 {
			switch fields[1] {
			case "asc":
			case "desc":
				k.Desc = true
			default:
				return nil, apierror.Invalid("$orderby", fmt.Sprintf("$orderby: expected asc or desc, not %q", clip(fields[1])))
			}
		}
		if strings.ContainsAny(k.Prop, "()/'") {
			return nil, notImplemented("$orderby", "$orderby supports property names only")
		}
		if !applied {
			if _, ok := set.Property(k.Prop); !ok {
				return nil, apierror.Invalid("$orderby", fmt.Sprintf("%s has no property %q", set.Name, clip(k.Prop)))
			}
			if !set.Filterable(k.Prop) {
				return nil, notImplemented("$orderby", fmt.Sprintf("%s is computed after the query and cannot be sorted on by the server", k.Prop))
			}
		}
		if slices.ContainsFunc(out, func(o query.SortKey) bool { return o.Prop == k.Prop }) {
			return nil, apierror.Invalid("$orderby", fmt.Sprintf("$orderby names %s twice", k.Prop))
		}
		out = append(out, k)
	}
	if len(out) > MaxOrderBy {
		return nil, apierror.Invalid("$orderby", fmt.Sprintf("$orderby has more than %d items", MaxOrderBy))
	}
	return out, nil
}

// parseSelect reads "$select=A,B" (or *) into property indexes; nil means
// every property. After $apply the result's properties are written as
// they come, and $select is not supported.
func parseSelect(set *query.Set, text string, applied bool) ([]int, error) {
	text = strings.TrimSpace(text)
	if text == "" || text == "*" {
		return nil, nil
	}
	if applied {
		return nil, notImplemented("$select", "$select together with $apply is not supported")
	}
	var out []int
	for _, name := range strings.Split(text, ",") {
		name = strings.TrimSpace(name)
		if strings.ContainsAny(name, "/()") || strings.HasPrefix(name, "@") {
			return nil, notImplemented("$select", "$select supports property names only")
		}
		i := set.Index(name)
		if i < 0 {
			return nil, apierror.Invalid("$select", fmt.Sprintf("%s has no property %q", set.Name, clip(name)))
		}
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out, nil
}

// textAnswer reports whether the request is for a plain-text answer
// (/$count, /$value): those are text/plain whatever Accept says, as
// Power Query asks for /$count with its JSON Accept header.
func textAnswer(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/$count") || strings.HasSuffix(r.URL.Path, "/$value")
}
