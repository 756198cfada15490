package odata

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/odata/filter"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
)

// $expand: each navigation property named is read with one query over
// every parent of the page (the target set's own query, the caller's
// queues inside it, "To in (the parents' values)" and the nested
// $filter), grouped by parent in Go, where the nested $orderby order is
// kept and $skip/$top apply per parent ($count=true counts a parent's
// related rows before them). One level: a nested $expand is a 501.

// MaxExpand bounds the navigation properties of one $expand.
const MaxExpand = 12

// MaxExpandRows bounds the rows one expanded navigation may read for a
// page; past it the request is a 400 asking for a nested $top or $filter.
const MaxExpandRows = query.MaxGroups

type expandItem struct {
	nav      query.NavProp
	target   *query.Set
	filter   query.Expr
	orderBy  []query.SortKey
	top      int // -1 when absent
	skip     int
	selected []int
	count    bool // $count=true: Nav@odata.count, the related rows before $skip and $top
}

// splitTop splits s at sep outside parentheses and quoted strings.
func splitTop(s string, sep byte) ([]string, error) {
	var out []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, apierror.Invalid("$expand", "$expand: unbalanced parentheses")
			}
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if depth != 0 || quoted {
		return nil, apierror.Invalid("$expand", "$expand: unbalanced parentheses or quotes")
	}
	return append(out, s[start:]), nil
}

// parseExpand reads $expand=Nav,Nav($select=…;$filter=…;$orderby=…;$top=…;$skip=…;$count=true).
func parseExpand(set *query.Set, text string, aliases map[string]string) ([]expandItem, error) {
	items, err := splitTop(text, ',')
	if err != nil {
		return nil, err
	}
	if len(items) > MaxExpand {
		return nil, apierror.Invalid("$expand", fmt.Sprintf("$expand names more than %d navigation properties", MaxExpand))
	}
	var out []expandItem
	for _, item := range items {
		item = strings.TrimSpace(item)
		name, opts, hasOpts := strings.Cut(item, "(")
		name = strings.TrimSpace(name)
		switch {
		case name == "*":
			return nil, notImplemented("$expand", "$expand=* is not supported; name the navigation properties")
		case strings.Contains(name, "/"):
			return nil, notImplemented("$expand", "$expand supports navigation property names only (no paths, casts or $ref)")
		}
		nav, ok := set.Nav(name)
		if !ok {
			return nil, apierror.Invalid("$expand", fmt.Sprintf("%s has no navigation property %q", set.Name, clip(name)))
		}
		if slices.ContainsFunc(out, func(e expandItem) bool { return e.nav.Name == name }) {
			return nil, apierror.Invalid("$expand", "$expand names "+name+" twice")
		}
		target, _ := query.LookupSet(nav.Target)
		it := expandItem{nav: nav, target: target, top: -1}
		if hasOpts {
			if !strings.HasSuffix(opts, ")") {
				return nil, apierror.Invalid("$expand", "$expand: "+clip(name)+"( needs its )")
			}
			if err := it.options(opts[:len(opts)-1], aliases); err != nil {
				return nil, err
			}
		}
		out = append(out, it)
	}
	return out, nil
}

func (it *expandItem) options(text string, aliases map[string]string) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	parts, err := splitTop(text, ';')
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, part := range parts {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if seen[k] {
			return apierror.Invalid("$expand", "$expand: "+clip(k)+" is given twice for "+it.nav.Name)
		}
		seen[k] = true
		switch k {
		case "$filter":
			x, err := filter.ParseWith(v, aliases)
			if err != nil {
				return err
			}
			if err := it.target.CheckPredicate(x); err != nil {
				return err
			}
			it.filter = x
		case "$orderby":
			if it.orderBy, err = parseOrderBy(it.target, v, aliases, false); err != nil {
				return err
			}
		case "$select":
			if it.selected, err = parseSelect(it.target, v, false); err != nil {
				return err
			}
		case "$top", "$skip":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return apierror.Invalid("$expand", fmt.Sprintf("$expand: %s must be a non-negative integer", k))
			}
			if k == "$top" {
				it.top = n
			} else {
				it.skip = n
			}
		case "$count":
			switch strings.TrimSpace(v) {
			case "true":
				it.count = true
			case "false":
			default:
				return apierror.Invalid("$expand", "$expand: $count must be true or false")
			}
			if !it.nav.Many {
				return apierror.Invalid("$expand", "$expand: $count applies to a collection; "+it.nav.Name+" is a single entity")
			}
		case "$expand", "$levels", "$search", "$compute", "$apply":
			return notImplemented("$expand", fmt.Sprintf("%s inside $expand is not supported (one level of expansion)", k))
		default:
			return apierror.Invalid("$expand", fmt.Sprintf("$expand: unknown option %q", clip(k)))
		}
	}
	return nil
}

// expansion holds the expanded rows of one page, by parent value.
type expansion struct {
	items   []expandItem
	srcIdx  []int
	groups  []map[any][][]any
	counts  []map[any]int // per item with $count: related rows per parent before $skip and $top
	writers []*entityWriter
}

// expand reads every item of req.expand for the parent rows.
func (s *Service) expand(r *http.Request, p *keys.Principal, req *request, rows [][]any) (*expansion, error) {
	x := &expansion{items: req.expand}
	for _, it := range req.expand {
		src := req.set.Index(it.nav.From)
		var list []query.Expr
		seen := map[any]bool{}
		for _, row := range rows {
			v := row[src]
			if v == nil || seen[v] {
				continue
			}
			seen[v] = true
			if n, ok := v.(int64); ok {
				list = append(list, query.Lit{Kind: query.KindInt, V: n})
			}
		}
		// A navigation through a table maps the parents' values to the
		// target's first (one more query); rows then go to every parent
		// that maps to them, in the target query's order.
		parentsOf := map[any][]any{}
		if it.nav.Via != "" {
			from := make([]int64, 0, len(list))
			for _, l := range list {
				from = append(from, l.(query.Lit).V.(int64))
			}
			pairs, err := s.engine.NavPairs(r.Context(), it.nav, from)
			if err != nil {
				return nil, err
			}
			list = list[:0]
			for _, pr := range pairs {
				if _, ok := parentsOf[pr[1]]; !ok {
					list = append(list, query.Lit{Kind: query.KindInt, V: pr[1]})
				}
				parentsOf[pr[1]] = append(parentsOf[pr[1]], pr[0])
			}
		}
		groups := map[any][][]any{}
		counts := map[any]int{}
		props := it.target.Props
		if len(list) > 0 {
			q := query.SetQuery{Set: it.target, Visible: p.Visible, Zone: req.query.Zone, Top: MaxExpandRows + 1, OrderBy: it.orderBy,
				Filter: query.And(query.In{X: query.Prop{Name: it.nav.To}, List: list}, it.filter)}
			res, err := s.engine.QuerySet(r.Context(), q)
			if err != nil {
				return nil, err
			}
			to := it.target.Index(it.nav.To)
			n := 0
			for res.Rows.Next() {
				if n++; n > MaxExpandRows {
					res.Rows.Close()
					return nil, apierror.Invalid("$expand", fmt.Sprintf("$expand=%s reads more than %d rows for this page; add $top or $filter inside it, or ask for smaller pages", it.nav.Name, MaxExpandRows))
				}
				row := slices.Clone(res.Rows.Row())
				if it.nav.Via == "" {
					groups[row[to]] = append(groups[row[to]], row)
					continue
				}
				for _, parent := range parentsOf[row[to]] {
					groups[parent] = append(groups[parent], row)
				}
			}
			err = res.Rows.Err()
			res.Rows.Close()
			if err != nil {
				return nil, err
			}
			props = res.Props
			for k, g := range groups {
				counts[k] = len(g)
				g = g[min(it.skip, len(g)):]
				if it.top >= 0 && it.top < len(g) {
					g = g[:it.top]
				}
				groups[k] = g
			}
		}
		cols := it.selected
		if cols == nil {
			cols = allColumns(len(props))
		}
		sub := &request{set: it.target, format: req.format, selected: it.selected}
		x.srcIdx = append(x.srcIdx, src)
		x.groups = append(x.groups, groups)
		x.counts = append(x.counts, counts)
		x.writers = append(x.writers, s.entityWriter(r, sub, props, cols))
	}
	return x, nil
}

// write writes the expanded navigation properties of one parent row.
func (x *expansion) write(bw *bufio.Writer, row []any) {
	for i, it := range x.items {
		if it.count {
			bw.WriteString(`,"` + it.nav.Name + `@odata.count":`)
			writeInt(bw, int64(x.counts[i][row[x.srcIdx[i]]]), x.writers[i].f.ieee754)
		}
		bw.WriteString(`,"` + it.nav.Name + `":`)
		children := x.groups[i][row[x.srcIdx[i]]]
		if !it.nav.Many {
			if len(children) == 0 {
				bw.WriteString("null")
			} else {
				x.writers[i].write(bw, children[0], "")
			}
			continue
		}
		bw.WriteByte('[')
		for j, c := range children {
			if j > 0 {
				bw.WriteByte(',')
			}
			x.writers[i].write(bw, c, "")
		}
		bw.WriteByte(']')
	}
}

// selectList is the projection of a context URL: the selected properties
// and each expanded navigation with its own projection, "Queue()" when it
// has none; "" for a whole entity without expansion.
func selectList(req *request, props []reports.Column) string {
	var parts []string
	if req.selected != nil {
		parts = propNames(props, req.selected)
	}
	for _, it := range req.expand {
		var sub []string
		if it.selected != nil {
			sub = propNames(it.target.Props, it.selected)
		}
		parts = append(parts, it.nav.Name+"("+strings.Join(sub, ",")+")")
	}
	if parts == nil {
		return ""
	}
	return "(" + strings.Join(parts, ",") + ")"
}
