package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A request whose context ends (the client went away, the request timed
// out) must also stop its query on the server. go-sql-driver gives up on
// the connection and closes it, but MySQL and MariaDB notice a closed
// client only when they next write to it: a statement that is still
// computing (an aggregate, a sort, a wait for a lock) runs on to its end
// and holds its resources, which under load is exactly when they are
// needed. So each connection learns its server thread id when it is made,
// and a statement whose context ends while it runs is stopped with
// KILL QUERY <id>, sent on a connection of its own.
//
// Only the statement call is watched (until the result's first row is
// ready); while rows stream to the client, the server writes to the
// socket and stops by itself when the driver closes it.

// mysqlConnector is the driver's connector wrapped with KILL QUERY on
// cancellation.
func mysqlConnector(cfg *mysql.Config, log *slog.Logger) (driver.Connector, error) {
	inner, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &killingConnector{Connector: inner, log: log}, nil
}

type killingConnector struct {
	driver.Connector
	log *slog.Logger

	once   sync.Once
	killer *sql.DB // plain connections for KILL QUERY, opened on first use
	kills  atomic.Int64
}

// Connect makes a connection and asks the server for its thread id and
// identity.
func (k *killingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	id, server, err := connectionID(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &killConn{Conn: c, id: id, server: server, k: k}, nil
}

// identitySQL names the server a connection reached: a thread id means
// something only on that server.
const identitySQL = "SELECT CONCAT(@@hostname, ':', @@port, ':', @@server_id)"

func connectionID(ctx context.Context, c driver.Conn) (id uint64, server string, err error) {
	q, ok := c.(driver.QueryerContext)
	if !ok {
		return 0, "", errors.New("mysql connection without QueryContext")
	}
	rows, err := q.QueryContext(ctx, "SELECT CONNECTION_ID(), "+strings.TrimPrefix(identitySQL, "SELECT "), nil)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	dest := make([]driver.Value, 2)
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			err = errors.New("SELECT CONNECTION_ID() returned no row")
		}
		return 0, "", err
	}
	switch v := dest[1].(type) {
	case []byte:
		server = string(v)
	case string:
		server = v
	}
	switch v := dest[0].(type) {
	case int64:
		return uint64(v), server, nil
	case uint64:
		return v, server, nil
	case []byte:
		id, err := strconv.ParseUint(string(v), 10, 64)
		return id, server, err
	}
	return 0, "", errors.New("SELECT CONNECTION_ID(): unexpected type")
}

// kill stops the statement running on thread id of server. It runs after
// the request's context ended, so it has a short context of its own. The
// KILL is sent only when the killing connection reached the same server:
// behind a proxy that spreads connections over several servers (ProxySQL,
// vtgate, a cloud reader endpoint) the id could name another client's
// thread elsewhere, and then the statement is left to end on its own.
func (k *killingConnector) kill(id uint64, server string) {
	k.once.Do(func() {
		k.killer = sql.OpenDB(k.Connector)
		k.killer.SetMaxOpenConns(2)
		k.killer.SetConnMaxIdleTime(time.Minute)
	})
	if k.killer == nil {
		return // closed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := k.killer.Conn(ctx)
	if err != nil {
		k.log.Warn("could not stop a cancelled query", "thread", id, "err", err)
		return
	}
	defer conn.Close()
	var here string
	if err := conn.QueryRowContext(ctx, identitySQL).Scan(&here); err != nil || here != server {
		k.log.Warn("cancelled query left to finish: the killing connection reached another server", "thread", id, "err", err)
		return
	}
	k.kills.Add(1)
	// 1094 "Unknown thread id": the statement and its connection are gone.
	var me *mysql.MySQLError
	if _, err := conn.ExecContext(ctx, "KILL QUERY "+strconv.FormatUint(id, 10)); err != nil && !(errors.As(err, &me) && me.Number == 1094) {
		k.log.Warn("could not stop a cancelled query", "thread", id, "err", err)
	}
}

// killConn forwards everything to the driver's connection and watches the
// context of each statement.
type killConn struct {
	driver.Conn
	id     uint64
	server string
	k      *killingConnector
	killed atomic.Bool // a KILL was sent: never reuse the connection
}

// watch arms a KILL for when ctx ends; the returned func disarms it. If
// the KILL has already been launched, disarming waits until the connection
// is marked, so it is retired before anyone else can use it and the KILL
// can never land on a later statement.
func (c *killConn) watch(ctx context.Context) func() {
	if ctx.Done() == nil {
		return func() {}
	}
	marked := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.killed.Store(true)
		close(marked)
		c.k.kill(c.id, c.server)
	})
	return func() {
		if !stop() {
			<-marked
		}
	}
}

func (c *killConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	defer c.watch(ctx)()
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *killConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	defer c.watch(ctx)()
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *killConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *killConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *killConn) Ping(ctx context.Context) error {
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *killConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// ResetSession and IsValid retire a connection that a KILL was aimed at, so
// the KILL can never land on a later statement of another request.
func (c *killConn) ResetSession(ctx context.Context) error {
	if c.killed.Load() {
		return driver.ErrBadConn
	}
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *killConn) IsValid() bool {
	return !c.killed.Load() && c.Conn.(driver.Validator).IsValid()
}

// Close also ends the killer pool when the service closes its database.
func (k *killingConnector) Close() error {
	k.once.Do(func() {}) // no killer pool after this
	if k.killer != nil {
		return k.killer.Close()
	}
	return nil
}
