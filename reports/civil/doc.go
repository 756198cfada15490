// Package civil resolves local wall-clock times to instants the way the
// service's contract says (docs/api.md, "Windows and zones"): a wall time
// that a clock change skips moves forward by the gap, one that happens
// twice is its first occurrence. time.Date leaves both cases unspecified.
//
// It is a leaf: the engine (reports) and the interval store
// (reports/store) both cut local days, weeks and months with it, so a
// zone whose clocks skip midnight (America/Santiago, America/Asuncion,
// Asia/Beirut) cuts the same buckets everywhere.
package civil
