package models

import (
	"context"
	"errors"
	"net"

	"github.com/go-sql-driver/mysql"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// Classify classifies a failure of a database call: errors that
// already carry a class pass through; a statement stopped by the server's
// time limit (MariaDB 1969 max_statement_time, MySQL 3024
// MAX_EXECUTION_TIME) or by the request's deadline is a 504; a database
// that cannot be reached (refused or timed-out dial, a connection lost
// mid-query: driver.ErrBadConn, mysql.ErrInvalidConn) is a 503 with
// Retry-After even when the dial ran into the request's deadline; a
// cancelled request and anything else from the database are 503s, the
// latter with Retry-After: never a bare 500.
func Classify(err error) error {
	var (
		e    *apierror.Error
		my   *mysql.MySQLError
		dial *net.OpError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case errors.As(err, &my) && (my.Number == 1969 || my.Number == 3024):
		return &apierror.Error{Code: apierror.Timeout, Message: "the query took too long", Cause: err}
	case errors.As(err, &dial) && dial.Op == "dial":
		return &apierror.Error{Code: apierror.Unavailable, Message: "the database is not available", RetryAfter: 5, Cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apierror.Error{Code: apierror.Timeout, Message: "the query took too long", Cause: err}
	case errors.Is(err, context.Canceled):
		return &apierror.Error{Code: apierror.Unavailable, Message: "request cancelled", Cause: err}
	default:
		return &apierror.Error{Code: apierror.Unavailable, Message: "the database is not available", RetryAfter: 5, Cause: err}
	}
}

// Retryable reports whether err is a MySQL deadlock (1213), a lock wait
// time-out (1205) or MariaDB's "record has changed since last read"
// (1020, which a locking read gets under innodb_snapshot_isolation, the
// default from MariaDB 11.8): the server rolled the transaction back, and
// running it again is the documented remedy.
func Retryable(err error) bool {
	var my *mysql.MySQLError
	return errors.As(err, &my) && (my.Number == 1213 || my.Number == 1205 || my.Number == 1020)
}
