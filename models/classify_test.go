package models_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	dialDeadline := &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	notFound := apierror.NotFoundf("queue 9 not found")
	for _, c := range []struct {
		name       string
		err        error
		status     int
		retryAfter bool
	}{
		{"MariaDB max_statement_time (1969)", &mysql.MySQLError{Number: 1969, Message: "Query execution was interrupted (max_statement_time exceeded)"}, 504, false},
		{"MySQL MAX_EXECUTION_TIME (3024)", &mysql.MySQLError{Number: 3024, Message: "Query execution was interrupted, maximum statement execution time exceeded"}, 504, false},
		{"wrapped 1969", fmt.Errorf("report: %w", &mysql.MySQLError{Number: 1969}), 504, false},
		{"request deadline", context.DeadlineExceeded, 504, false},
		{"wrapped request deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 504, false},
		{"connection refused", refused, 503, true},
		{"wrapped connection refused", fmt.Errorf("connect: %w", refused), 503, true},
		{"dial ran into the request deadline", dialDeadline, 503, true},
		{"connection reset", reset, 503, true},
		{"driver.ErrBadConn", driver.ErrBadConn, 503, true},
		{"mysql.ErrInvalidConn", mysql.ErrInvalidConn, 503, true},
		{"wrapped invalid connection", fmt.Errorf("gorm: %w", mysql.ErrInvalidConn), 503, true},
		{"server gone away (2006)", &mysql.MySQLError{Number: 2006, Message: "MySQL server has gone away"}, 503, true},
		{"lost connection (2013)", &mysql.MySQLError{Number: 2013, Message: "Lost connection to MySQL server during query"}, 503, true},
		{"server shutdown (1053)", &mysql.MySQLError{Number: 1053, Message: "Server shutdown in progress"}, 503, true},
		{"too many connections (1040)", &mysql.MySQLError{Number: 1040, Message: "Too many connections"}, 503, true},
		{"cancelled", context.Canceled, 503, false},
		{"anything else", errors.New("database is locked"), 503, true},
		{"classified already", notFound, 404, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := models.Classify(c.err)
			var e *apierror.Error
			if !errors.As(err, &e) {
				t.Fatalf("%v: not an *apierror.Error", err)
			}
			if e.Status() != c.status {
				t.Errorf("status %d (%s), want %d", e.Status(), e.Code, c.status)
			}
			if (e.RetryAfter > 0) != c.retryAfter {
				t.Errorf("RetryAfter %d, want set: %v", e.RetryAfter, c.retryAfter)
			}
			if c.err != error(notFound) && !errors.Is(err, c.err) {
				t.Errorf("the cause is lost: %v", err)
			}
			w := httptest.NewRecorder()
			apierror.Write(w, err)
			if w.Code != c.status || (w.Header().Get("Retry-After") != "") != c.retryAfter {
				t.Errorf("written: status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
			}
			if w.Code == http.StatusInternalServerError {
				t.Error("a database failure became a 500")
			}
		})
	}
	if models.Classify(nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
}
