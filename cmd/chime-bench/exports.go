package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/odata"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/export"
	"github.com/chime-reports/chime-reports/reports/native"
)

// exportResult is one session-log export of the whole year.
type exportResult struct {
	Format  string
	Route   string
	Rows    int64
	Bytes   int64
	Took    time.Duration
	PeakRSS uint64 // VmHWM of this process during the export (server and client)
	Pages   int    // OData only
	// CPU time spent on the export by this process (server and client)
	// and by the database server (MariaDB on this machine; 0 when unknown).
	GoCPU, DBCPU time.Duration
}

// handler serves the native routes and the OData feed as cmd/chime-reports
// does, behind a stand-in for the key middleware that makes every request
// the admin (every queue): the benchmark writes nothing (no key, no audit
// rows) into the databases it reads.
func handler(be *backend) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	admin := &keys.Principal{UserID: 1, Login: "admin", IsAdmin: true, Visible: be.Queues, Reviewable: be.Queues}
	authed := r.Group("/", func(c *gin.Context) {
		c.Request = c.Request.WithContext(keys.WithPrincipal(c.Request.Context(), admin))
		c.Next()
	})
	engine := reports.NewEngine(be.DB, func() time.Time { return dataStop })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	workbooks := export.NewLimiter(export.DefaultMaxXLSX)
	native.New(engine, quiet, native.Options{XLSX: workbooks}).Register(authed)
	feed := gin.WrapH(odata.New(engine, quiet, odata.Options{XLSX: workbooks}))
	authed.GET("/odata/*path", feed)
	return r
}

// measureExports downloads the global session log of the whole year in
// each format over loopback and counts what arrives.
func measureExports(ctx context.Context, be *backend) ([]exportResult, error) {
	srv := httptest.NewServer(handler(be))
	defer srv.Close()
	last := dataStop.Add(-24 * time.Hour).Format(time.DateOnly) // a date-only stop is the whole day
	window := "start=" + dataStart.Format(time.DateOnly) + "&stop=" + last
	filter := url.QueryEscape(fmt.Sprintf("StartedAt ge %s and StartedAt lt %s", dataStart.Format(time.RFC3339), dataStop.Format(time.RFC3339)))
	var out []exportResult
	for _, f := range []struct{ format, route string }{
		{"CSV", "/Chime/Report/GlobalChatSessionLog?format=csv&" + window},
		{"JSON", "/Chime/Report/GlobalChatSessionLog?format=json&" + window},
		{"XLSX", "/Chime/Report/GlobalChatSessionLog?format=xlsx&" + window},
		{"OData", "/odata/Sessions?$filter=" + filter},
	} {
		resetPeakRSS()
		go0, db0 := cpuTime(), dbCPU(be)
		t0 := time.Now()
		r := exportResult{Format: f.format, Route: f.route}
		var err error
		if f.format == "OData" {
			err = pageOData(ctx, srv.URL+f.route, &r)
		} else {
			err = download(ctx, srv.URL+f.route, &r)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.format, err)
		}
		r.Took = time.Since(t0)
		r.GoCPU = cpuTime() - go0
		if db0 > 0 {
			r.DBCPU = dbCPU(be) - db0
		}
		r.PeakRSS = procStatus("VmHWM")
		if r.Rows == 0 { // CSV, JSON and XLSX: the rows the window holds
			r.Rows = be.Sessions
		}
		slog.Info("export", "backend", be.Name, "format", f.format, "rows", r.Rows, "bytes", r.Bytes, "took", r.Took.Round(time.Millisecond),
			"rows/s", int(float64(r.Rows)/r.Took.Seconds()), "peakRSS_MiB", r.PeakRSS>>20)
		out = append(out, r)
	}
	return out, nil
}

func get(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return resp, nil
}

// download reads a native export to the end, counting its bytes.
func download(ctx context.Context, u string, r *exportResult) error {
	resp, err := get(ctx, u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	r.Bytes = n
	return err
}

// pageOData follows @odata.nextLink to the end, as Power Query does.
func pageOData(ctx context.Context, next string, r *exportResult) error {
	for next != "" {
		resp, err := get(ctx, next)
		if err != nil {
			return err
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		cr := &countingReader{r: resp.Body}
		err = json.NewDecoder(bufio.NewReaderSize(cr, 1<<16)).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return err
		}
		r.Rows += int64(len(page.Value))
		r.Bytes += cr.n
		r.Pages++
		next = page.NextLink
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// resetPeakRSS returns freed memory to the system and resets VmHWM (Linux:
// writing 5 to /proc/self/clear_refs).
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// procStatus reads a size field of /proc/self/status in bytes (0 when it
// cannot).
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			kb, _ := strconv.ParseUint(f[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// dbCPU is the CPU time the MariaDB server has used so far, read from
// /proc/<pid>/stat when it runs on this machine (0 otherwise, and for
// SQLite, whose work is this process's).
func dbCPU(be *backend) time.Duration {
	if be.DSN.Dialect != models.MySQL {
		return 0
	}
	var pidFile string
	if be.DB.Raw("SELECT @@pid_file").Scan(&pidFile).Error != nil || pidFile == "" {
		return 0
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		return 0
	}
	return procCPU(strings.TrimSpace(string(pid)))
}
