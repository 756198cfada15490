package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
)

type failing struct{ i, n int }

func (f *failing) Next() bool   { f.i++; return f.i <= f.n }
func (f *failing) Row() []any   { return []any{int64(f.i)} }
func (f *failing) Err() error   { return errors.New("the database went away") }
func (f *failing) Close() error { return nil }

// A stream that fails half-way never produces a document that looks
// complete: the JSON envelope stays open and the writers report the error
// (the native route then cuts the connection).
func TestWritersReportStreamFailures(t *testing.T) {
	rep := &reports.Report{Name: "R", Grain: reports.GrainDay, Columns: []reports.Column{{Name: "N", Type: reports.Int}}}
	res := func() *reports.Result {
		return &reports.Result{Report: rep, Window: reports.Window{Start: time.Unix(0, 0), Stop: time.Unix(86400, 0), Zone: time.UTC},
			Rows: &failing{n: 2}}
	}
	var b bytes.Buffer
	n, err := export.WriteJSON(&b, res())
	if err == nil || n != 2 || json.Valid(b.Bytes()) || bytes.Contains(b.Bytes(), []byte(`"truncated"`)) {
		t.Errorf("JSON: %d rows, err %v, body %s", n, err, b.String())
	}
	b.Reset()
	if n, err := export.WriteCSV(&b, res(), export.CSVOptions{}); err == nil || n != 2 {
		t.Errorf("CSV: %d rows, err %v", n, err)
	}
}
