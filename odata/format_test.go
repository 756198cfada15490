package odata_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/odata"
)

const (
	noneType = "application/json;odata.metadata=none;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	fullType = "application/json;odata.metadata=full;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	ieeeType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=true;charset=utf-8"
)

// TestJSONFormats: odata.metadata=none|minimal|full, IEEE754Compatible,
// $format variants, 406 for what cannot be served, OData-MaxVersion.
func TestJSONFormats(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, odata.Options{})
		base := e.srv.URL + "/odata"

		// none: no control information but count and nextLink.
		a := e.get(golden.Admin, "/odata/Sessions?$top=3&$count=true", "Accept", "application/json;odata.metadata=none", "Prefer", "odata.maxpagesize=2")
		checkAnswer(t, a, noneType)
		if strings.Contains(a.body, "@odata.context") || !strings.Contains(a.body, `"@odata.nextLink"`) || !strings.Contains(a.body, `"@odata.count":`) {
			t.Errorf("metadata=none: %s", a.body)
		}
		if a := e.get(golden.Admin, "/odata/Sessions(14)", "Accept", "application/json;odata.metadata=none"); strings.Contains(a.body, "@odata") {
			t.Errorf("entity with metadata=none: %s", a.body)
		}

		// full: type, id and edit link per entity, types of Int64 and instants;
		// each id answers the same entity.
		for _, c := range []struct{ path, hdr string }{
			{"/odata/Sessions?$top=3", "application/json;odata.metadata=full"},
			{"/odata/Sessions?$top=3&$format=" + url.QueryEscape("application/json;odata.metadata=full"), ""},
			{"/odata/Sessions?$top=3&$format=application/json;odata.metadata=full", ""}, // a raw ";"
			{"/odata/InboundVsAnsweredChats?zone=UTC&$top=3&$filter=" + url.PathEscape("QueueId eq 1 and Date ge 2024-11-01 and Date le 2024-11-04"), "application/json;odata.metadata=full"},
		} {
			var hdr []string
			if c.hdr != "" {
				hdr = []string{"Accept", c.hdr}
			}
			a := e.get(golden.Admin, c.path, hdr...)
			checkAnswer(t, a, fullType)
			p := e.decode(a, c.path)
			if len(p.Value) == 0 || !strings.HasPrefix(p.Context, base+"/$metadata#") {
				t.Fatalf("%s: %s", c.path, a.body)
			}
			set := strings.TrimPrefix(strings.Split(c.path, "?")[0], "/odata/")
			for _, row := range p.Value {
				id, _ := row["@odata.id"].(string)
				if row["@odata.type"] != "#Chime."+set || !strings.HasPrefix(id, base+"/"+set+"(") || row["@odata.editLink"] != strings.TrimPrefix(id, base+"/") {
					t.Errorf("%s: control information %v", c.path, row)
				}
				if set == "Sessions" && (row["SessionId@odata.type"] != "#Int64" || row["StartedAt@odata.type"] != "#DateTimeOffset" || row["Question@odata.type"] != nil) {
					t.Errorf("%s: property types %v", c.path, row)
				}
				extra := ""
				if set != "Sessions" {
					extra = "?zone=UTC"
				}
				one := entityOf(t, e.do(id+extra, "Authorization", "Bearer "+e.key[golden.Admin], "Accept", "application/json;odata.metadata=full"))
				delete(one, "@odata.context")
				if jsonText(one) != jsonText(row) {
					t.Errorf("%s: %s gives %v, want %v", c.path, id, one, row)
				}
			}
		}

		// IEEE754Compatible=true: Int64 values and the count as strings, doubles as numbers.
		a = e.get(golden.Admin, "/odata/Sessions?$top=2&$count=true&$filter=Rating%20ne%20null", "Accept", "application/json;odata.metadata=minimal;IEEE754Compatible=true")
		checkAnswer(t, a, ieeeType)
		var raw struct {
			Count any              `json:"@odata.count"`
			Value []map[string]any `json:"value"`
		}
		if err := json.Unmarshal([]byte(a.body), &raw); err != nil || len(raw.Value) == 0 {
			t.Fatalf("%v: %s", err, a.body)
		}
		if _, ok := raw.Count.(string); !ok {
			t.Errorf("count %v is not a string", raw.Count)
		}
		for _, row := range raw.Value {
			_, idStr := row["SessionId"].(string)
			_, ratingStr := row["Rating"].(string)
			_, waitNum := row["WaitSeconds"].(float64)
			if !idStr || !ratingStr || (row["WaitSeconds"] != nil && !waitNum) {
				t.Errorf("IEEE754Compatible row %v", row)
			}
		}
		if a := e.get(golden.Admin, "/odata/Sessions(14)/SessionId?$format="+url.QueryEscape("application/json;IEEE754Compatible=true")); !strings.Contains(a.body, `"value":"14"`) {
			t.Errorf("IEEE754 property: %s", a.body)
		}

		// Power Query's Accept still gets minimal JSON; unservable ones get 406.
		checkAnswer(t, e.get(golden.Admin, "/odata/Sessions?$top=1", "Accept", PowerQueryAccept), odata.JSONType)
		checkAnswer(t, e.get(golden.Admin, "/odata/Sessions?$top=1", "Accept", "application/atom+xml, application/json;q=0.1"), odata.JSONType)
		checkAnswer(t, e.get(golden.Admin, "/odata/Sessions/$count", "Accept", "application/json"), odata.CountType)
		for _, c := range []struct{ path, accept string }{
			{"/odata/Sessions", "text/plain"},
			{"/odata/Sessions", "application/atom+xml"},
			{"/odata/Sessions", "application/json;q=0, application/xml"},
			{"/odata/Sessions(14)", "application/atom+xml"},
			{"/odata/", "application/atomsvc+xml"},
			{"/odata/Sessions", "application/json;odata.metadata=lots"},
			{"/odata/Sessions?$format=xml", ""},
			{"/odata/Sessions?$format=" + url.QueryEscape("application/json;IEEE754Compatible=maybe"), ""},
		} {
			a := e.get(golden.Admin, c.path, "Accept", c.accept)
			if a.status != 406 {
				t.Errorf("%s with Accept %q: %d", c.path, c.accept, a.status)
				continue
			}
			odataError(t, a)
		}

		// OData-MaxVersion: 4.01 answers 4.01 and reads options without "$";
		// 4.0 keeps refusing them; below 4.0 is a 400.
		a = e.get(golden.Admin, "/odata/Sessions?filter="+url.PathEscape("QueueId eq 3")+"&Top=2", "OData-MaxVersion", "4.01")
		if got := a.header.Values("OData-Version"); len(got) != 1 || got[0] != "4.01" {
			t.Errorf("4.01 answer with OData-Version %q", got)
		}
		p := e.decode(a, "4.01 options")
		if len(p.Value) != 2 {
			t.Errorf("4.01 options without $: %d rows", len(p.Value))
		}
		for _, row := range p.Value {
			if jsonText(row["QueueId"]) != "3" {
				t.Errorf("filter= ignored: %v", row)
			}
		}
		if a := e.get(golden.Admin, "/odata/Sessions?filter="+url.PathEscape("QueueId eq 3"), "OData-MaxVersion", "4.0"); a.status != 400 || a.header.Get("OData-Version") != "4.0" {
			t.Errorf("4.0 with filter=: %d %q", a.status, a.header.Get("OData-Version"))
		}
		for _, v := range []string{"3.0", "four"} {
			if a := e.get(golden.Admin, "/odata/Sessions", "OData-MaxVersion", v); a.status != 400 {
				t.Errorf("OData-MaxVersion %s: %d", v, a.status)
			} else {
				odataError(t, a)
			}
		}
	})
}
