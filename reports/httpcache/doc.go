// Package httpcache holds the HTTP side of report caching: entity tags
// built from a request's normalised parts and the engine's data
// fingerprint (reports.Engine.Fingerprint), If-None-Match matching, and
// the Cache-Control and Vary headers of cacheable and uncacheable answers.
//
// It sits between the engine and the two surfaces that serve reports (the
// native routes and the OData feed): it knows HTTP but not gin, and
// nothing of reports but the strings it hashes. docs/api.md, "Caching",
// is the contract.
package httpcache
