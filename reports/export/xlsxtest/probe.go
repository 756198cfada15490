package xlsxtest

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Probe measures a stretch of work, for benchmarks: the process's peak
// resident set (VmHWM, reset through /proc/self/clear_refs; Linux only),
// the peak Go heap, sampled every few milliseconds, and the CPU time the
// process used (which, unlike wall time, a busy machine barely changes).
type Probe struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	peakHeap uint64
	rssReset bool
	cpu      time.Duration
}

// Usage is what a Probe measured.
type Usage struct {
	PeakRSS  uint64 // bytes; 0 when it could not be measured
	PeakHeap uint64 // bytes
	CPU      time.Duration
}

// StartProbe collects garbage, resets the peak resident set and starts
// sampling the heap.
func StartProbe() *Probe {
	runtime.GC()
	debug.FreeOSMemory()
	p := &Probe{stop: make(chan struct{})}
	p.rssReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	p.cpu = cpuTime()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			p.peakHeap = max(p.peakHeap, sample[0].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// Stop ends the measurement.
func (p *Probe) Stop() Usage {
	u := Usage{CPU: cpuTime() - p.cpu}
	close(p.stop)
	p.wg.Wait()
	if p.rssReset {
		u.PeakRSS = statusBytes("VmHWM")
	}
	u.PeakHeap = p.peakHeap
	return u
}

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// statusBytes reads a "Name:  123 kB" line of /proc/self/status.
func statusBytes(name string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				n, _ := strconv.ParseUint(fields[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// ReportUsage reports a benchmark's rows/s (wall clock), rows per CPU
// second, peak resident set and heap in MB, and the size of one output in
// MB.
func ReportUsage(b *testing.B, rows, outBytes int64, u Usage) {
	b.Helper()
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	if u.CPU > 0 {
		b.ReportMetric(float64(rows)/u.CPU.Seconds(), "rows/cpu-s")
	}
	b.ReportMetric(float64(u.PeakRSS)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(u.PeakHeap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(outBytes)/(1<<20), "file-MB")
	b.ReportMetric(0, "ns/op") // one op is one whole export: ns/op says nothing rows/s does not
}
