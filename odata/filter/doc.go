// Package filter parses the expression languages of OData query options —
// $filter and $apply — into the engine's expression tree (query.Expr).
//
// It sits between the OData transport and the engine: odata hands it the
// decoded option text, it returns a syntax tree with no knowledge of any
// set, and the engine type-checks that tree against a set's allow-listed
// properties and compiles it to parameterised SQL or evaluates it in Go
// (parse → check/compile → execute, as go-mysql-server splits it). It never
// sees SQL, HTTP or the database.
//
// Inputs are bounded: at most MaxLength bytes, MaxDepth levels of nesting
// and MaxNodes nodes. Every error is an *apierror.Error: InvalidParameter
// (400) for malformed text, NotImplemented (501) for valid OData that the
// feed does not evaluate (lambda operators, paths, has, divby, isof, …).
package filter
