package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"
)

// Read replicas (docs/scaling.md).
//
// Open with Options.Replicas registers gorm.io/plugin/dbresolver with the
// replicas as its read side, and returns a handle pinned to the primary:
// everything reads and writes the primary (migrations, fixtures, keys and
// their checks, audit records, admin pages, keyword indexing) unless it asks
// for Replicas(db). Only the report engine does. Pinning the primary by
// default keeps every read-then-write path and every "a key generated a
// moment ago must work now" path correct under replication lag; the bulk of
// the read load, the report queries, still goes to the replicas.
//
// dbresolver checks no health, so a replicaSet (a gorm plugin and
// dbresolver's policy) pings each replica every ReplicaCheckEvery and
// resolves reads to a random replica that answered its last check, or to
// the primary when none did.

// replicasPlugin names the replicaSet among the gorm plugins.
const replicasPlugin = "chime:replicas"

// DefaultReplicaCheckEvery is how often replicas are pinged.
const DefaultReplicaCheckEvery = 5 * time.Second

// replicaPingTimeout bounds one health check of one replica.
const replicaPingTimeout = 2 * time.Second

// ReplicaState is the health of one replica as of its last check.
type ReplicaState struct {
	// Name is the replica's DSN without password (for logs and operators;
	// not for unauthenticated pages).
	Name    string
	Up      bool
	Err     string // the last check's error when !Up
	Checked time.Time
}

type replica struct {
	name    string
	db      *sql.DB
	up      atomic.Bool
	mu      sync.Mutex
	err     string
	checked time.Time
}

// replicaSet is the read side of a primary with replicas.
type replicaSet struct {
	primary  *sql.DB
	replicas []*replica
	log      *slog.Logger
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

func (*replicaSet) Name() string                 { return replicasPlugin }
func (*replicaSet) Initialize(db *gorm.DB) error { return nil }

// Resolve implements dbresolver.Policy: a random replica that is up, else
// the primary. The pools dbresolver passes are ignored: the set knows its
// own (the last of them is the primary, listed only so that dbresolver asks
// the policy even with one replica).
func (rs *replicaSet) Resolve([]gorm.ConnPool) gorm.ConnPool {
	var up [8]*sql.DB
	healthy := up[:0]
	for _, r := range rs.replicas {
		if r.up.Load() {
			healthy = append(healthy, r.db)
		}
	}
	if len(healthy) == 0 {
		return rs.primary
	}
	return healthy[rand.IntN(len(healthy))]
}

// check pings every replica once, in parallel, and records the outcome.
func (rs *replicaSet) check(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range rs.replicas {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, replicaPingTimeout)
			err := r.db.PingContext(cctx)
			cancel()
			r.mu.Lock()
			r.checked = time.Now()
			r.err = ""
			if err != nil {
				r.err = err.Error()
			}
			r.mu.Unlock()
			was := r.up.Swap(err == nil)
			switch {
			case was && err != nil:
				rs.log.Warn("read replica down: its reads go to the other replicas or the primary", "replica", r.name, "err", err)
			case !was && err == nil:
				rs.log.Info("read replica up: it serves reads", "replica", r.name)
			}
		})
	}
	wg.Wait()
}

func (rs *replicaSet) run(every time.Duration) {
	defer close(rs.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-rs.stop:
			return
		case <-t.C:
			rs.check(context.Background())
		}
	}
}

func (rs *replicaSet) close() error {
	var errs []error
	rs.once.Do(func() {
		close(rs.stop)
		<-rs.done
		for _, r := range rs.replicas {
			errs = append(errs, r.db.Close())
		}
	})
	return errors.Join(errs...)
}

func (rs *replicaSet) states() []ReplicaState {
	out := make([]ReplicaState, len(rs.replicas))
	for i, r := range rs.replicas {
		r.mu.Lock()
		out[i] = ReplicaState{Name: r.name, Up: r.up.Load(), Err: r.err, Checked: r.checked}
		r.mu.Unlock()
	}
	return out
}

// useReplicas registers dbresolver over db (whose pool is primary) and
// returns the handle pinned to the primary.
func useReplicas(ctx context.Context, db *gorm.DB, primary *sql.DB, dsns []DSN, opt Options) (*gorm.DB, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rs := &replicaSet{primary: primary, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	// The primary as a last "replica" makes dbresolver consult the policy
	// even for one replica; the policy only hands it out when all are down.
	dials := make([]gorm.Dialector, 0, len(dsns)+1)
	for i, d := range dsns {
		if d.Dialect != MySQL {
			rs.closeOpened()
			return nil, fmt.Errorf("replica %d: read replicas need MySQL, not %s", i+1, d.Dialect)
		}
		conn, err := mysqlConnector(driverConfig(d.MySQL, opt.Logger), opt.Logger)
		if err != nil {
			rs.closeOpened()
			return nil, fmt.Errorf("replica %d: %w", i+1, err)
		}
		sqlDB := sql.OpenDB(conn)
		setPool(sqlDB, MySQL, opt)
		rs.replicas = append(rs.replicas, &replica{name: d.String(), db: sqlDB})
		// SkipInitializeWithVersion: dbresolver only borrows the pool; SQL is
		// built by the primary's dialector. It also lets the service start
		// while a replica is down.
		dials = append(dials, gormmysql.New(gormmysql.Config{Conn: sqlDB, SkipInitializeWithVersion: true}))
	}
	dials = append(dials, gormmysql.New(gormmysql.Config{Conn: primary, SkipInitializeWithVersion: true}))
	if err := db.Use(dbresolver.Register(dbresolver.Config{Replicas: dials, Policy: rs})); err != nil {
		rs.closeOpened()
		return nil, fmt.Errorf("read replicas: %w", err)
	}
	if err := db.Use(rs); err != nil {
		rs.closeOpened()
		return nil, err
	}
	rs.check(ctx)
	for _, r := range rs.replicas {
		if !r.up.Load() {
			log.Warn("read replica not reachable at start: reads go elsewhere until it answers", "replica", r.name, "err", r.err)
		}
	}
	every := opt.ReplicaCheckEvery
	if every <= 0 {
		every = DefaultReplicaCheckEvery
	}
	go rs.run(every)
	return Primary(db), nil
}

// closeOpened closes the replica pools of a set that never started.
func (rs *replicaSet) closeOpened() {
	for _, r := range rs.replicas {
		r.db.Close()
	}
}

func setPool(sqlDB *sql.DB, d Dialect, opt Options) {
	switch d {
	case SQLite:
		// Idle connections are kept: each holds its own page cache, and a
		// connection closed after a burst of readers starts cold again.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	case MySQL:
		n := opt.MaxOpenConns
		if n <= 0 {
			n = 16
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
}

// Primary returns db pinned to the primary: reads and writes go there. It
// is what Open returns; call it on a handle derived from Replicas to get
// back. Without replicas it is db.
func Primary(db *gorm.DB) *gorm.DB {
	return db.Clauses(dbresolver.Write).Session(&gorm.Session{})
}

// Replicas returns db with reads resolved to a read replica that is up (or
// the primary when none is, or when Open had no replicas). Writes still go to
// the primary. Use it for reads that tolerate replication lag: the report
// engine's queries.
func Replicas(db *gorm.DB) *gorm.DB {
	return db.Clauses(dbresolver.Read).Session(&gorm.Session{})
}

// ReplicaStates returns the replicas of db as of their last check (nil
// without replicas).
func ReplicaStates(db *gorm.DB) []ReplicaState {
	if rs, ok := db.Config.Plugins[replicasPlugin].(*replicaSet); ok {
		return rs.states()
	}
	return nil
}

// CheckReplicas pings the replicas of db now (reads fail over at once when
// one stopped answering) and returns their states (nil without replicas).
func CheckReplicas(ctx context.Context, db *gorm.DB) []ReplicaState {
	rs, ok := db.Config.Plugins[replicasPlugin].(*replicaSet)
	if !ok {
		return nil
	}
	rs.check(ctx)
	return rs.states()
}

// Close closes the primary's pool and, if any, the replicas' pools and their
// health checks.
func Close(db *gorm.DB) error {
	var errs []error
	if rs, ok := db.Config.Plugins[replicasPlugin].(*replicaSet); ok {
		errs = append(errs, rs.close())
	}
	// The primary's pool, whichever pool db's statement last resolved to.
	if sqlDB, ok := db.Config.ConnPool.(*sql.DB); ok {
		errs = append(errs, sqlDB.Close())
	}
	return errors.Join(errs...)
}

// String is a one-line state for logs.
func (s ReplicaState) String() string {
	if s.Up {
		return s.Name + ": up"
	}
	return s.Name + ": down (" + strconv.Quote(s.Err) + ")"
}
