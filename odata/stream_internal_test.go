package odata

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chime-reports/chime-reports/reports/query"
)

// failingRows yields n rows of one Int column, then fails.
type failingRows struct{ i, n int }

func (f *failingRows) Next() bool   { f.i++; return f.i <= f.n }
func (f *failingRows) Row() []any   { return []any{int64(f.i)} }
func (f *failingRows) Err() error   { return errors.New("connection reset by the database") }
func (f *failingRows) Close() error { return nil }

// Rule 11: a collection that fails after its 200 is left unterminated and
// the connection is cut, so Power Query errors instead of loading a short
// table that looks complete.
func TestStreamFailureLeavesJSONOpen(t *testing.T) {
	set, _ := query.LookupSet("Sessions")
	s := New(nil, slog.New(slog.DiscardHandler), Options{})
	req := &request{set: set, pageSize: 1000, selected: []int{set.Index("SessionId")}}
	res := &query.SetResult{Props: set.Props, Rows: &failingRows{n: 3}}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/odata/Sessions", nil)

	defer func() {
		v := recover()
		if err, ok := v.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
		}
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, `{"SessionId":3}`) || json.Valid([]byte(body)) || strings.Contains(body, "]") {
			t.Errorf("status %d, body %q: want a 200 whose JSON never closes", rec.Code, body)
		}
	}()
	s.write(rec, r, req, res, 0)
	t.Fatal("write returned after a failing stream")
}
