package export

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/chime-reports/chime-reports/reports"
)

// JSONOptions name the caller's view of the window.
type JSONOptions struct {
	// OnRow is called after each row is written (for audit counters).
	OnRow func()
}

// ColumnInfo is the API shape of a report column.
type ColumnInfo struct {
	Name        string             `json:"name"`
	Type        reports.ColumnType `json:"type"`
	Unit        string             `json:"unit,omitempty"`
	Description string             `json:"description,omitempty"`
}

// Columns converts report columns to their API shape.
func Columns(cs []reports.Column) []ColumnInfo {
	out := make([]ColumnInfo, len(cs))
	for i, c := range cs {
		out[i] = ColumnInfo{Name: c.Name, Type: c.Type, Unit: c.Unit, Description: c.Description}
	}
	return out
}

// WriteJSON streams the native JSON envelope of docs/api.md "The JSON envelope". It
// returns the number of rows written. On a row error it stops without
// closing the document, so a client cannot mistake a broken answer for a
// short one.
func WriteJSON(w io.Writer, res *reports.Result) (int64, error) {
	bw := bufio.NewWriterSize(w, 32<<10)
	loc := res.Window.Zone
	head := struct {
		Report      string            `json:"report"`
		Queue       *reports.QueueRef `json:"queue,omitempty"`
		Start       string            `json:"start"`
		Stop        string            `json:"stop"`
		Zone        string            `json:"zone"`
		Grain       reports.Grain     `json:"grain"`
		GeneratedAt string            `json:"generatedAt"`
		Columns     []ColumnInfo      `json:"columns"`
	}{res.Report.Name, res.Queue, reports.FormatTime(res.Window.Start.In(loc)), reports.FormatTime(res.Window.LastInstant().In(loc)),
		loc.String(), res.Report.Grain, reports.FormatTime(res.GeneratedAt.UTC()), Columns(res.Report.Columns)}
	b, err := json.Marshal(head)
	if err != nil {
		return 0, err
	}
	bw.Write(b[:len(b)-1]) // reopen the object to append rows
	bw.WriteString(`,"rows":[`)
	cols := res.Report.Columns
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		k, _ := json.Marshal(c.Name)
		keys[i] = append(k, ':')
	}
	var n int64
	for res.Rows.Next() {
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('{')
		for i, v := range res.Rows.Row() {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(keys[i])
			writeJSONValue(bw, cols[i], v)
		}
		bw.WriteByte('}')
		n++
	}
	if err := res.Rows.Err(); err != nil {
		bw.Flush()
		return n, err
	}
	bw.WriteString(`],"truncated":false}` + "\n")
	return n, bw.Flush()
}

func writeJSONValue(w *bufio.Writer, c reports.Column, v any) {
	if v == nil {
		w.WriteString("null")
		return
	}
	if f, ok := v.(float64); ok && (f != f || f > 1e308 || f < -1e308) { // NaN, ±Inf
		w.WriteString("null")
		return
	}
	t := Text(c, v)
	if numeric(c.Type) {
		if _, isString := v.(string); !isString {
			w.WriteString(t)
			return
		}
	}
	b, _ := json.Marshal(t)
	w.Write(b)
}
