package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/chime-reports/chime-reports/reports"
)

// profileResult is the CPU profile of the slowest report on one back end.
type profileResult struct {
	Report, Scope string
	Wall, GoCPU   time.Duration // the run's wall time and this process's CPU time in it
	Top           string        // go tool pprof -top
}

// profileSlowest runs the report of lat with the largest engine time once
// more under the Go CPU profiler and summarises the profile with
// `go tool pprof -top`. The wall time against the process's CPU time says
// how much of the report is Go and how much the database.
func profileSlowest(ctx context.Context, be *backend, lat []latency, dir string) (*profileResult, error) {
	var slow *latency
	for i := range lat {
		if lat[i].Err == "" && (slow == nil || lat[i].Engine > slow.Engine) {
			slow = &lat[i]
		}
	}
	if slow == nil {
		return nil, nil
	}
	r, _ := reports.Lookup(slow.Report)
	qs := scopes(r, be.Queues, reports.Window{Start: dataStart, Stop: dataStop, Zone: time.UTC})[slow.Scope]
	path := filepath.Join(dir, be.Name+".cpu.prof")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cpu0 := cpuTime()
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	wall, _, err := runReport(ctx, reports.NewEngine(be.DB, func() time.Time { return dataStop }), qs)
	pprof.StopCPUProfile()
	if err != nil {
		return nil, err
	}
	res := &profileResult{Report: slow.Report, Scope: slow.Scope, Wall: wall, GoCPU: cpuTime() - cpu0}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=15", exe, path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %v\n%s", err, top)
	}
	res.Top = strings.TrimSpace(string(top))
	return res, nil
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
