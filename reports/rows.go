package reports

import "slices"

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

// Hand-written reports (sweep lines, per-agent overlaps, keyword ranking,
// session logs) build their rows by column name with a rowBuilder, never
// as positional lists that must agree with the declared columns: a name
// the report does not declare, one set twice or a column left unset
// panics (TestRowsMatchColumns runs every report, so a mismatch fails the
// tests, not a user's export).

// byName is one row of a hand-written report: column name → value.
type byName map[string]any

// rowBuilder fills the rows of one report by column name.
type rowBuilder struct {
	r    *Report
	cur  []any
	set  []bool
	n    int
	rows [][]any
}

// rowsByName starts the rows of the running report.
func (x *execution) rowsByName() *rowBuilder { return newRowBuilder(x.q.Report) }

func newRowBuilder(r *Report) *rowBuilder {
	return &rowBuilder{r: r, cur: make([]any, len(r.Columns)), set: make([]bool, len(r.Columns))}
}

// put sets one column of the current row.
func (b *rowBuilder) put(name string, v any) {
	i, ok := b.r.columnIndex[name]
	if !ok {
		panic("reports: " + b.r.Name + " has no column " + name)
	}
	if b.set[i] {
		panic("reports: " + b.r.Name + " sets column " + name + " twice in a row")
	}
	b.set[i], b.cur[i] = true, v
	b.n++
}

// finish returns the current row, in column order, and starts the next
// one in the same buffer (a streamed row is valid until the next Next);
// a column left unset panics.
func (b *rowBuilder) finish() []any {
	if b.n != len(b.cur) {
		for i, ok := range b.set {
			if !ok {
				panic("reports: " + b.r.Name + " leaves column " + b.r.Columns[i].Name + " unset")
			}
		}
	}
	clear(b.set)
	b.n = 0
	return b.cur
}

// add appends a row given by column name.
func (b *rowBuilder) add(row byName) {
	for name, v := range row {
		b.put(name, v)
	}
	b.rows = append(b.rows, slices.Clone(b.finish()))
}

// result serves the rows added.
func (b *rowBuilder) result() Rows { return newSliceRows(b.rows) }
