package reports

// Rows is a stream of report rows, in the order of the report's columns.
// It follows database/sql: call Next until false, then check Err; always
// Close.
type Rows interface {
	Next() bool
	// Row returns the current row; valid until the next call to Next.
	Row() []any
	Err() error
	Close() error
}

// sliceRows serves rows computed in memory (aggregated reports are small:
// one row per bucket or entity).
type sliceRows struct {
	rows [][]any
	i    int
}

func newSliceRows(rows [][]any) *sliceRows { return &sliceRows{rows: rows, i: -1} }

func (s *sliceRows) Next() bool {
	s.i++
	return s.i < len(s.rows)
}
func (s *sliceRows) Row() []any   { return s.rows[s.i] }
func (s *sliceRows) Err() error   { return nil }
func (s *sliceRows) Close() error { return nil }

// Collect drains rows into memory; for tests and small results only.
func Collect(r Rows) ([][]any, error) {
	defer r.Close()
	var out [][]any
	for r.Next() {
		row := r.Row()
		out = append(out, append([]any(nil), row...))
	}
	return out, r.Err()
}
