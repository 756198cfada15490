package reports

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestVersionReadsNeverServeAnEarlierRead: callers asking at the same time
// share reads of the data version, and no caller gets a read that began
// before it asked (it could miss a change committed just before). The
// fake read returns the sequence number of its start; each caller notes
// the number of reads begun before it asked, and must get a later one.
func TestVersionReadsNeverServeAnEarlierRead(t *testing.T) {
	var v versionReads
	var begun atomic.Int64
	read := func(context.Context) (string, error) {
		n := begun.Add(1)
		time.Sleep(200 * time.Microsecond)
		return strconv.FormatInt(n, 10), nil
	}
	const callers, rounds = 32, 50
	var wg sync.WaitGroup
	var calls atomic.Int64
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				before := begun.Load()
				got, err := v.get(context.Background(), read)
				calls.Add(1)
				n, _ := strconv.ParseInt(got, 10, 64)
				if err != nil || n <= before {
					t.Errorf("asked after %d reads had begun, got read %q (%v)", before, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if r := v.reads.Load(); r >= calls.Load() || r != begun.Load() {
		t.Errorf("%d reads for %d calls (%d begun): concurrent callers did not share", r, calls.Load(), begun.Load())
	}
	// A caller whose context ends stops waiting; the read goes on for the
	// others and the next caller is served.
	block := make(chan struct{})
	slow := func(context.Context) (string, error) { <-block; return "slow", nil }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := v.get(ctx, slow); err == nil {
		t.Error("a caller whose context ended got a version")
	}
	close(block)
	if got, err := v.get(context.Background(), read); err != nil || got == "slow" {
		t.Errorf("after a cancelled wait: %q, %v", got, err)
	}
	var none *versionReads
	if got, err := none.get(context.Background(), func(context.Context) (string, error) { return "direct", nil }); got != "direct" || err != nil {
		t.Errorf("nil versionReads: %q, %v", got, err)
	}
}
