package odata

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
)

// Navigation segments in the resource path (docs/powerbi.md,
// "Relationships"): /Sessions(14)/Transcript, /Sessions(14)/Queue,
// /Queues(1)/Sessions/$count, /Sessions(14)/Queue/QueueName/$value,
// /Sessions(14)/Transcript(301). The parent is read first through its own
// set's query (the caller's queues inside it: a parent the caller may not
// see is the same 404 as a missing one), then the target through the
// target set's query with the condition that ties it to the parent, so
// the target's rows are the caller's too and every query option applies
// to them as to the set.

// navigate answers the path after parent/nav (navKey: a key predicate
// written on a collection navigation, "" for none).
func (s *Service) navigate(w http.ResponseWriter, r *http.Request, p *keys.Principal, parent *query.Set, pred query.Expr, nav query.NavProp, navKey string, rest []string) error {
	target, _ := query.LookupSet(nav.Target)
	scope, path, err := s.navScope(r, p, parent, pred, nav)
	if err != nil {
		return err
	}
	if !nav.Many {
		if navKey != "" {
			return apierror.Invalid("key", fmt.Sprintf("%s is a single entity and takes no key", nav.Name))
		}
		return s.single(w, r, p, target, scope, rest, true)
	}
	if navKey != "" {
		o, err := requestOptions(r)
		if err != nil {
			return err
		}
		key, err := keyFilter(target, navKey, o.aliases)
		if err != nil {
			return err
		}
		return s.single(w, r, p, target, query.And(scope, key), rest, false)
	}
	switch strings.Join(rest, "/") {
	case "":
		return s.collection(w, r, p, target, scope, path)
	case "$count":
		return s.count(w, r, p, target, scope)
	}
	return apierror.Invalid("path", fmt.Sprintf("%s is a collection: address one of its entities by key (%s(…)) before a property", nav.Name, nav.Name))
}

// navScope reads the parent that pred selects and returns the condition
// on the target set that selects the rows nav reaches from it, and the
// canonical path of the navigation (Sessions(14)/Transcript).
func (s *Service) navScope(r *http.Request, p *keys.Principal, parent *query.Set, pred query.Expr, nav query.NavProp) (query.Expr, string, error) {
	ctx := r.Context()
	q := query.SetQuery{Set: parent, Visible: p.Visible, Filter: pred, Top: 1, Extent: &query.Extent{}}
	q.Select = slices.Clone(parent.Key)
	if !slices.Contains(q.Select, nav.From) {
		q.Select = append(q.Select, nav.From)
	}
	res, err := s.engine.QuerySet(ctx, q)
	if err != nil {
		return nil, "", err
	}
	defer res.Rows.Close()
	if !res.Rows.Next() {
		if err := res.Rows.Err(); err != nil {
			return nil, "", err
		}
		return nil, "", notFound(parent)
	}
	row := slices.Clone(res.Rows.Row())
	if err := res.Rows.Err(); err != nil {
		return nil, "", err
	}
	path := parent.Name + keySegment(parent, row) + "/" + nav.Name
	none := query.Lit{Kind: query.KindBool, V: false}
	from, ok := row[parent.Index(nav.From)].(int64)
	if !ok {
		return none, path, nil
	}
	if nav.Via == "" {
		return query.Binary{Op: "eq", L: query.Prop{Name: nav.To}, R: query.Lit{Kind: query.KindInt, V: from}}, path, nil
	}
	pairs, err := s.engine.NavPairs(ctx, nav, []int64{from})
	if err != nil {
		return nil, "", err
	}
	var list []query.Expr
	for _, pr := range pairs {
		list = append(list, query.Lit{Kind: query.KindInt, V: pr[1]})
	}
	if len(list) == 0 {
		return none, path, nil
	}
	return query.In{X: query.Prop{Name: nav.To}, List: list}, path, nil
}
