package export

import (
	"sync"

	"github.com/chime-reports/chime-reports/reports"
)

// prefetchBatch is how many rows the reading goroutine hands over at once;
// prefetchDepth batches exist, so at most that many rows are held.
const (
	prefetchBatch = 256
	prefetchDepth = 4
)

// prefetchRows reads a row stream on a goroutine of its own, in batches,
// so that the database side of an export (driver, scanning, conversions)
// runs beside the workbook side on another core. Rows are copied (their
// values are immutable: strings, numbers, times), since a stream's row is
// only valid until its next Next. Close stops the goroutine and waits for
// it; only then may the source be used (closed) again.
type prefetchRows struct {
	src  reports.Rows
	full chan *rowBatch
	free chan *rowBatch
	done chan struct{}
	wg   sync.WaitGroup
	err  error // the source's Err, written before full is closed

	cur   *rowBatch
	i     int
	ended bool // Next has seen full closed
}

type rowBatch struct {
	rows [][]any
	n    int
}

func newPrefetchRows(src reports.Rows, cols int) *prefetchRows {
	p := &prefetchRows{src: src, full: make(chan *rowBatch, prefetchDepth), free: make(chan *rowBatch, prefetchDepth),
		done: make(chan struct{})}
	for range prefetchDepth {
		b := &rowBatch{rows: make([][]any, prefetchBatch)}
		for i := range b.rows {
			b.rows[i] = make([]any, cols)
		}
		p.free <- b
	}
	p.wg.Add(1)
	go p.read()
	return p
}

func (p *prefetchRows) read() {
	defer p.wg.Done()
	defer close(p.full)
	for {
		var b *rowBatch
		select {
		case b = <-p.free:
		case <-p.done:
			return
		}
		b.n = 0
		for b.n < len(b.rows) && p.src.Next() {
			copy(b.rows[b.n], p.src.Row())
			b.n++
		}
		last := b.n < len(b.rows)
		if last {
			p.err = p.src.Err()
		}
		if b.n > 0 {
			select {
			case p.full <- b:
			case <-p.done:
				return
			}
		}
		if last {
			return
		}
	}
}

func (p *prefetchRows) Next() bool {
	if p.cur != nil && p.i+1 < p.cur.n {
		p.i++
		return true
	}
	if p.cur != nil {
		p.free <- p.cur
		p.cur = nil
	}
	b, ok := <-p.full
	if !ok {
		p.ended = true
		return false
	}
	p.cur, p.i = b, 0
	return true
}

func (p *prefetchRows) Row() []any { return p.cur.rows[p.i] }

// Err is the source's error once Next has returned false.
func (p *prefetchRows) Err() error {
	if !p.ended {
		return nil
	}
	return p.err
}

// Close stops reading ahead and waits for the reader; it does not close
// the source.
func (p *prefetchRows) Close() error {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	p.wg.Wait()
	return nil
}
