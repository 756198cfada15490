package models

// SQLiteTombstoneTimes is the conversion the migration
// 2026120204_sqlite_tombstone_times runs, for the tests of package models_test.
var SQLiteTombstoneTimes = sqliteTombstoneTimes
