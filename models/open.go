package models

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/libtnb/sqlite"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the back end behind a DSN.
type Dialect string

const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// DSN is a parsed database address.
type DSN struct {
	Dialect Dialect
	// Path is the SQLite file (Dialect SQLite).
	Path string
	// MySQL is the driver configuration (Dialect MySQL), already forced to
	// UTC, parseTime and utf8mb4.
	MySQL *mysql.Config
}

// String returns the DSN without its password, fit for logs.
func (d DSN) String() string {
	if d.Dialect == SQLite {
		return "sqlite:" + d.Path
	}
	c := d.MySQL.Clone()
	if c.Passwd != "" {
		c.Passwd = "xxxxx"
	}
	c.Params = nil
	return "mysql://" + c.FormatDSN()
}

// ParseDSN reads "sqlite:PATH", "mysql://user:pass@tcp(host:3306)/db" or the
// plain go-sql-driver form "user:pass@tcp(host:3306)/db?param=value".
func ParseDSN(s string) (DSN, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return DSN{}, fmt.Errorf("empty database address")
	case strings.HasPrefix(s, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
		if p == "" {
			return DSN{}, fmt.Errorf("sqlite: missing file path (sqlite:PATH)")
		}
		if strings.ContainsAny(p, "?") {
			return DSN{}, fmt.Errorf("sqlite: options are not accepted in the path %q", p)
		}
		return DSN{Dialect: SQLite, Path: p}, nil
	}
	raw := strings.TrimPrefix(s, "mysql://")
	cfg, err := mysql.ParseDSN(raw)
	if err != nil {
		return DSN{}, fmt.Errorf("not a sqlite:PATH or MySQL DSN: %w", err)
	}
	if cfg.DBName == "" {
		return DSN{}, fmt.Errorf("mysql: the DSN names no database (…/dbname)")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_unicode_ci"
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	// Keep the SQL portable to MySQL 8, whose default includes it.
	cfg.Params["sql_mode"] = "CONCAT(@@sql_mode,',ONLY_FULL_GROUP_BY')"
	cfg.InterpolateParams = true
	return DSN{Dialect: MySQL, MySQL: cfg}, nil
}

// Options tune Open.
type Options struct {
	Logger       *slog.Logger
	MaxOpenConns int // default 16 on MySQL
	// SlowThreshold logs statements slower than it (0 = 500ms).
	SlowThreshold time.Duration
	// Replicas are MySQL read replicas of a MySQL primary: Replicas(db)
	// reads from them (replicas.go). Each gets MaxOpenConns connections.
	Replicas []DSN
	// ReplicaCheckEvery is how often replicas are pinged (0: 5s).
	ReplicaCheckEvery time.Duration
}

// Open connects to the database behind dsn and checks it answers. With
// opt.Replicas it also registers the read replicas and returns a handle
// pinned to the primary (see Primary and Replicas); a replica that does not
// answer is logged and skipped until it does.
func Open(ctx context.Context, dsn DSN, opt Options) (*gorm.DB, error) {
	if len(opt.Replicas) > 0 && dsn.Dialect != MySQL {
		return nil, fmt.Errorf("read replicas need a MySQL primary, not %s", dsn.Dialect)
	}
	var dial gorm.Dialector
	switch dsn.Dialect {
	case SQLite:
		// WAL lets readers run beside the writer; foreign keys stay off as on
		// MySQL (the write-side invariants are the fixture's job). Reads
		// go through a memory map of the file's first GiB: the pages are
		// the operating system's cache, shared by every connection, not
		// copied by a read call per page into each connection's cache (a
		// tenth of a full read of the sessions went to those calls).
		// Recursive triggers make a REPLACE that removes a row fire that
		// row's delete triggers, as on MySQL: without them the session
		// counts and tombstones would not see the removal.
		q := "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=mmap_size(1073741824)&_pragma=recursive_triggers(1)&_busy_timeout=10000&_txlock=immediate"
		dial = sqlite.Open("file:" + dsn.Path + q)
	case MySQL:
		conn, err := mysqlConnector(driverConfig(dsn.MySQL, opt.Logger), opt.Logger)
		if err != nil {
			return nil, err
		}
		dial = gormmysql.New(gormmysql.Config{Conn: sql.OpenDB(conn)})
	default:
		return nil, fmt.Errorf("unknown dialect %q", dsn.Dialect)
	}
	slow := opt.SlowThreshold
	if slow == 0 {
		slow = 500 * time.Millisecond
	}
	db, err := gorm.Open(dial, &gorm.Config{
		NowFunc:                func() time.Time { return UTC(time.Now()) },
		Logger:                 newLogger(opt.Logger, slow),
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		// Open pings below; replicas are checked by their own health check,
		// so one that is down does not stop the service starting.
		DisableAutomaticPing: true,
	})
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	setPool(sqlDB, dsn.Dialect, opt)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect %s: %w", dsn, err)
	}
	if len(opt.Replicas) > 0 {
		pinned, err := useReplicas(ctx, db, sqlDB, opt.Replicas, opt)
		if err != nil {
			sqlDB.Close()
			return nil, err
		}
		return pinned, nil
	}
	return db, nil
}

// driverConfig completes the driver's configuration for a service: a dial
// that gets no answer gives up after 5 s (unless the DSN sets timeout=), so
// work without a request deadline cannot hang on a database host that is
// gone; the driver's own messages ("closing bad idle connection" after a
// database restart) go to the service's log instead of the standard logger.
// Stale pooled connections need nothing more: the driver checks an idle
// connection before reusing it (CheckConnLiveness, on by default) and
// database/sql retries on a fresh one.
func driverConfig(c *mysql.Config, l *slog.Logger) *mysql.Config {
	c = c.Clone()
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if l == nil {
		l = slog.Default()
	}
	c.Logger = driverLogger{l}
	return c
}

type driverLogger struct{ l *slog.Logger }

func (d driverLogger) Print(v ...any) {
	d.l.Warn("mysql driver", "msg", strings.TrimSpace(fmt.Sprint(v...)))
}

// UTC normalises an instant for storage: UTC, millisecond precision.
func UTC(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// UTCPtr is UTC for optional instants.
func UTCPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := UTC(*t)
	return &u
}

func newLogger(l *slog.Logger, slow time.Duration) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return logger.NewSlogLogger(l, logger.Config{
		SlowThreshold:             slow,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	})
}
