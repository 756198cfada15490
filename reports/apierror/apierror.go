// Package apierror is the one error shape of the HTTP surface: errors
// carry a class, a message safe for the client and an optional target,
// and Status/Write map the class to an HTTP status and the body
//
//	{"error":{"code":"InvalidParameter","message":"…","target":"start"}}
//
// Handlers and the engine return *Error values (wrapped or not); the
// transport writes them in exactly one place. The package is a leaf: it
// imports nothing of this module and no database driver (models.Classify
// turns a database failure into one of these classes).
package apierror

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Code is an error class. Its string is the "code" of the error body.
type Code string

// The error classes and their statuses.
const (
	InvalidParameter Code = "InvalidParameter" // 400
	Unauthorized     Code = "Unauthorized"     // 401
	Forbidden        Code = "Forbidden"        // 403
	NotFound         Code = "NotFound"         // 404
	MethodNotAllowed Code = "MethodNotAllowed" // 405
	NotAcceptable    Code = "NotAcceptable"    // 406
	PayloadTooLarge  Code = "PayloadTooLarge"  // 413
	URITooLong       Code = "URITooLong"       // 414
	TooManyRequests  Code = "TooManyRequests"  // 429
	Internal         Code = "InternalError"    // 500
	NotImplemented   Code = "NotImplemented"   // 501
	Unavailable      Code = "ServiceUnavailable"
	Timeout          Code = "Timeout" // 504
)

var statuses = map[Code]int{
	InvalidParameter: http.StatusBadRequest,
	Unauthorized:     http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	NotAcceptable:    http.StatusNotAcceptable,
	PayloadTooLarge:  http.StatusRequestEntityTooLarge,
	URITooLong:       http.StatusRequestURITooLong,
	TooManyRequests:  http.StatusTooManyRequests,
	Internal:         http.StatusInternalServerError,
	NotImplemented:   http.StatusNotImplemented,
	Unavailable:      http.StatusServiceUnavailable,
	Timeout:          http.StatusGatewayTimeout,
}

// Error is a client-facing error. Message and Details are shown to the
// client; Cause is only logged.
type Error struct {
	Code    Code
	Message string
	Target  string
	Details []string
	// RetryAfter, in seconds, is sent as Retry-After when > 0.
	RetryAfter int
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return string(e.Code) + ": " + e.Message + ": " + e.Cause.Error()
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Status is the HTTP status of the error's class.
func (e *Error) Status() int {
	if s, ok := statuses[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Invalid is a 400 about one parameter.
func Invalid(target, message string) *Error {
	return &Error{Code: InvalidParameter, Target: target, Message: message}
}

// NotFoundf is a 404 with a message.
func NotFoundf(message string, details ...string) *Error {
	return &Error{Code: NotFound, Message: message, Details: details}
}

// From classifies any error: an *Error anywhere in the chain is used as is;
// anything else becomes a 500 whose cause is kept for the log only.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Cause: err}
}

type body struct {
	Error bodyError `json:"error"`
}

type bodyError struct {
	Code    Code     `json:"code"`
	Message string   `json:"message"`
	Target  string   `json:"target,omitempty"`
	Details []string `json:"details,omitempty"`
}

// Write sends err in the error shape. The caller logs e.Cause if it wants.
func Write(w http.ResponseWriter, err error) *Error {
	e := From(err)
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Code == Unauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="chime-reports"`)
	}
	w.WriteHeader(e.Status())
	json.NewEncoder(w).Encode(body{Error: bodyError{Code: e.Code, Message: e.Message, Target: e.Target, Details: e.Details}})
	return e
}
