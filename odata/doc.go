// Package odata serves the report catalog as an OData v4 feed for Power BI
// Desktop, the Power BI service and Excel's "From OData Feed".
//
// Data flow: request → auth (keys middleware, mounted by cmd) → this
// package parses the raw query string (never url.Query, so a raw "+" in an
// offset and a ";" survive), parses $filter/$apply with odata/filter,
// resolves $select, $orderby, $top, $skip, $skiptoken and Prefer into a
// query.SetQuery → the set engine (reports/query) type-checks it against
// the set's allow-listed properties and runs it (SQL for Sessions and the
// session logs; the report window and queues in SQL, the rest in Go for
// report sets) → this package streams the typed rows as OData JSON. The
// set engine's errors name a neutral target ("filter"); this package
// renames it to the option the client wrote ("$filter"), and Edm type
// names live here, in $metadata.
//
// The handler is a plain http.Handler (no Gin, no GORM): Service answers
// the service document, $metadata (CSDL XML generated from the registry),
// entity sets with server-driven keyset paging (@odata.nextLink with a
// signed $skiptoken) and /$count, entities by key with their properties
// and /$value, $expand (one query per navigation), the JSON metadata
// levels, and change tracking on Sessions (signed delta links). The Power Query contract it follows is
// docs/powerbi.md (the numbered rules): one OData-Version header, JSON content types,
// absolute context URLs, 400/501 OData errors for anything it does not
// evaluate, and a connection cut (not a short table) when a stream fails.
package odata
