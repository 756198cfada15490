// Package admin serves the administration surface (docs/admin.md):
// server-rendered pages under /Chime/Admin/ (sign-in, People, Settings ›
// API Keys, Audit) and the same actions as JSON under /Chime/Admin/api/.
//
// It sits beside the report surfaces, on top of package keys and models:
// a request is authenticated either by an admin's API key (the keys
// middleware, as every other route) or by a signed session cookie that an
// admin got by pasting their own key into the sign-in page; only admins get
// further. Handlers parse, call the key service (Generate, Revoke, List) or
// read users, queue memberships and the audit log through GORM, and render
// a template or JSON. Every call made with a session, and every admin
// action (sign in, generate, regenerate, revoke, sign out), is written to
// audit_log with the acting admin, as the keys middleware does for calls
// made with a key. Errors take the one shape of reports/apierror.
//
// Sessions are stateless HMAC-signed cookies bound to the admin's key:
// revoking or regenerating that key ends every session made with it. The
// few things that must be remembered (sessions signed out, confirmation
// forms already used) are kept in memory, per process.
package admin
