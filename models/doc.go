// Package models holds the storage layer of chime-reports: the GORM models of
// every table in the relational model (docs/data-model.md), the versioned
// migrations that create them on SQLite and MySQL/MariaDB, and Open, which
// turns a DSN (sqlite:PATH or a MySQL DSN) into a configured *gorm.DB.
//
// Models are storage only: no model is ever handed to a JSON encoder. The
// packages above (keys, reports, fixtures) convert them to their own shapes.
//
// Classify maps a failed database call to the error class the surfaces
// answer with (a 504 for a statement time limit, a 503 with Retry-After for
// a database that cannot be reached): driver error numbers stay here, so
// the error shape in reports/apierror stays a leaf.
//
// All instants are stored in UTC with millisecond precision (DATETIME(3) on
// MySQL); callers use UTC and UTCPtr to normalise times before writing.
package models
