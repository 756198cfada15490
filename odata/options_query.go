package odata

import (
	"errors"

	"github.com/chime-reports/chime-reports/reports/apierror"
)

// queryOptions names the system query options behind the neutral targets
// of the set engine's errors (reports/query speaks of a filter, not of
// $filter).
var queryOptions = map[string]string{
	"filter":    "$filter",
	"apply":     "$apply",
	"orderby":   "$orderby",
	"skiptoken": "$skiptoken",
}

// asOption returns err with its target renamed to the query option the
// client wrote, so the error body points at $filter rather than "filter".
func asOption(err error) error {
	var e *apierror.Error
	if !errors.As(err, &e) {
		return err
	}
	o, ok := queryOptions[e.Target]
	if !ok {
		return err
	}
	c := *e
	c.Target = o
	return &c
}
