package export

import (
	"errors"
	"testing"
)

// countRows yields n rows {i}, then err.
type countRows struct {
	n, i int
	row  []any
	err  error
	next int // calls to Next
}

func (c *countRows) Next() bool {
	c.next++
	if c.i >= c.n {
		return false
	}
	c.i++
	c.row[0] = int64(c.i)
	return true
}
func (c *countRows) Row() []any { return c.row }
func (c *countRows) Err() error {
	if c.i < c.n {
		return nil
	}
	return c.err
}
func (c *countRows) Close() error { return nil }

func TestPrefetchRows(t *testing.T) {
	boom := errors.New("boom")
	for _, n := range []int{0, 1, prefetchBatch - 1, prefetchBatch, prefetchBatch + 1, 10*prefetchBatch + 7} {
		src := &countRows{n: n, row: make([]any, 1), err: boom}
		p := newPrefetchRows(src, 1)
		got := 0
		for p.Next() {
			got++
			if v := p.Row()[0].(int64); v != int64(got) {
				t.Fatalf("n=%d: row %d holds %d", n, got, v)
			}
			if p.Err() != nil {
				t.Fatalf("n=%d: Err before the end", n)
			}
		}
		if got != n || !errors.Is(p.Err(), boom) {
			t.Errorf("n=%d: %d rows, err %v", n, got, p.Err())
		}
		p.Close()
	}
}

func TestPrefetchRowsStopsEarly(t *testing.T) {
	src := &countRows{n: 1_000_000, row: make([]any, 1)}
	p := newPrefetchRows(src, 1)
	for range 3 {
		p.Next()
	}
	p.Close() // must not block with the reader mid-stream
	p.Close() // twice is harmless
	if read := src.i; read > (prefetchDepth+1)*prefetchBatch {
		t.Errorf("the reader ran ahead by %d rows", read)
	}
}
