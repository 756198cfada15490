package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"text/template"
	"time"

	"github.com/chime-reports/chime-reports/models"
)

// floorFiles are the floor queries, one per report (floor/README.md).
//
//go:embed floor/*.sql
var floorFiles embed.FS

// floorSQL expands the floor query of report for a dialect, queues and
// window; ok is false when the report has none.
func floorSQL(report string, dialect models.Dialect, queues []uint32, start, stop time.Time) (string, bool, error) {
	src, err := fs.ReadFile(floorFiles, "floor/"+report+".sql")
	if err != nil {
		return "", false, nil
	}
	funcs := template.FuncMap{
		"day": func(c string) string {
			if dialect == models.SQLite {
				return "substr(" + c + ", 1, 10)"
			}
			return "DATE(" + c + ")"
		},
		"hour": func(c string) string {
			if dialect == models.SQLite {
				return "CAST(substr(" + c + ", 12, 2) AS INTEGER)"
			}
			return "HOUR(" + c + ")"
		},
		"dow": func(c string) string { // ISO weekday, 1 = Monday
			if dialect == models.SQLite {
				return "((CAST(strftime('%w', " + c + ") AS INTEGER) + 6) % 7 + 1)"
			}
			return "(WEEKDAY(" + c + ") + 1)"
		},
		"secs": func(a, b string) string {
			if dialect == models.SQLite {
				return "((julianday(" + b + ") - julianday(" + a + ")) * 86400.0)"
			}
			return "(TIMESTAMPDIFF(MICROSECOND, " + a + ", " + b + ") / 1000000)"
		},
	}
	t, err := template.New(report).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", false, err
	}
	ids := make([]string, len(queues))
	for i, q := range queues {
		ids[i] = fmt.Sprint(q)
	}
	literal := func(tm time.Time) string {
		if dialect == models.SQLite { // the text form the driver stores
			return "'" + tm.UTC().Format("2006-01-02 15:04:05.999999999-07:00") + "'"
		}
		return "'" + tm.UTC().Format("2006-01-02 15:04:05.000") + "'"
	}
	var b bytes.Buffer
	err = t.Execute(&b, map[string]string{"Queues": strings.Join(ids, ","), "Start": literal(start), "Stop": literal(stop)})
	return b.String(), true, err
}

// floorRunner runs SQL through the database's own command-line client and
// times the client process (start-up included: a few milliseconds).
type floorRunner struct {
	dsn models.DSN
}

// command returns the client invocation for query; its output is thrown
// away after counting lines.
func (f floorRunner) command(ctx context.Context, query string) *exec.Cmd {
	if f.dsn.Dialect == models.SQLite {
		return exec.CommandContext(ctx, "sqlite3", "-readonly", "-batch", f.dsn.Path, query)
	}
	c := f.dsn.MySQL
	host, port := c.Addr, "3306"
	if i := strings.LastIndex(c.Addr, ":"); i >= 0 {
		host, port = c.Addr[:i], c.Addr[i+1:]
	}
	cmd := exec.CommandContext(ctx, "mariadb", "--batch", "--skip-column-names", "--quick",
		"-h", host, "-P", port, "-u", c.User, "-D", c.DBName, "-e", query)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+c.Passwd)
	return cmd
}

// run executes query once and returns the wall time of the client process
// and the number of lines it printed.
func (f floorRunner) run(ctx context.Context, query string) (time.Duration, int, error) {
	cmd := f.command(ctx, query)
	var out lineCounter
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w: %s", cmd.Args[0], err, strings.TrimSpace(stderr.String()))
	}
	return d, out.n, nil
}

// lineCounter counts the lines written to it.
type lineCounter struct{ n int }

func (l *lineCounter) Write(p []byte) (int, error) {
	l.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

var _ io.Writer = (*lineCounter)(nil)
