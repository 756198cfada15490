package models

import (
	"database/sql/driver"
	"fmt"
	"hash/crc32"

	moderncsqlite "modernc.org/sqlite"
)

// SQLite lacks MySQL's CRC32(), which the reports' data fingerprint sums
// over the rows of a window (reports.Engine.Fingerprint); this gives every
// SQLite connection the same function, so one statement runs on both back
// ends. Like MySQL's, it hashes the text of its argument and is NULL for
// NULL.
func init() {
	moderncsqlite.MustRegisterDeterministicScalarFunction("crc32", 1, sqliteCRC32)
}

func sqliteCRC32(_ *moderncsqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch v := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		return int64(crc32.ChecksumIEEE([]byte(v))), nil
	case []byte:
		return int64(crc32.ChecksumIEEE(v)), nil
	default:
		return int64(crc32.ChecksumIEEE(fmt.Append(nil, v))), nil
	}
}
