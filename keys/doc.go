// Package keys authenticates callers and decides what they may see.
//
// It sits on models and under every HTTP surface: it mints per-user API keys
// (GUIDs stored only as SHA-256 hashes, one active key per user), checks
// the key a request presents (Bearer, ?api_key= or Basic with the key as
// password), resolves the caller's visible queues once per request (the ACL
// of docs/data-model.md) and writes an audit record for every authenticated call
// (serve queues them on an AuditWriter, which inserts them in batches off
// the request path).
// The reports engine receives the resolved Principal through the request
// context and never looks at keys itself.
package keys
