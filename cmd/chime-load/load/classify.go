package load

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Outcome classifies one HTTP request.
type Outcome int

// The outcomes. Failing ones make Result.Err non-nil.
const (
	// OK: a 2xx whose whole body arrived and passed its check.
	OK Outcome = iota
	// Clean503: 503 in the error shape with code ServiceUnavailable and
	// a Retry-After of whole seconds: what a client may retry.
	Clean503
	// Throttled: 429 in the error shape.
	Throttled
	// ClientError: another 4xx in the error shape; the mix should not cause
	// any, so it fails the run.
	ClientError
	// ServerError: any other 5xx (500, 504, a 503 without Retry-After or with
	// another code) in the error shape.
	ServerError
	// BadShape: a status >= 300 whose body is not the error shape.
	BadShape
	// Aborted: a 2xx whose body ended in a transport error (connection
	// cut, chunked stream unterminated, short Content-Length): the server
	// gave up after its status and the client can tell. Visible, not silent.
	Aborted
	// Silent: a 2xx whose body arrived without a transport error but is
	// truncated or unparsable: a loss the client cannot tell from success.
	Silent
	// Lost: no status at all (connection refused or reset, EOF before the
	// headers).
	Lost
	// Timeout: the client timeout expired, before or during the body.
	Timeout
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "503-clean", "429", "4xx", "5xx", "bad-shape", "aborted", "silent", "lost", "timeout"}

func (o Outcome) String() string {
	if o >= 0 && o < numOutcomes {
		return outcomeNames[o]
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Failing says whether the outcome fails a run. Clean 503s, 429s and
// visibly aborted streams are what a client can see and retry.
func (o Outcome) Failing() bool {
	switch o {
	case OK, Clean503, Throttled, Aborted:
		return false
	}
	return true
}

// errorShape is the body of every error answer (docs/api.md "Errors").
type errorShape struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Classify decides the outcome of a request from its response (nil when
// the round trip failed, with rtErr), the body read and the error of
// reading it. detail says why, for failure samples.
func Classify(want Body, resp *http.Response, rtErr error, body []byte, readErr error) (Outcome, string) {
	if resp == nil {
		if isTimeout(rtErr) {
			return Timeout, "no answer within the timeout: " + errString(rtErr)
		}
		return Lost, "no answer: " + errString(rtErr)
	}
	if readErr != nil {
		if isTimeout(readErr) {
			return Timeout, fmt.Sprintf("status %d, body cut by the client timeout after %d bytes", resp.StatusCode, len(body))
		}
		if resp.StatusCode/100 == 2 {
			return Aborted, fmt.Sprintf("status %d, body broken after %d bytes: %s", resp.StatusCode, len(body), errString(readErr))
		}
		return BadShape, fmt.Sprintf("status %d, error body broken after %d bytes: %s", resp.StatusCode, len(body), errString(readErr))
	}
	switch {
	case resp.StatusCode/100 == 2:
		if err := Validate(want, body); err != nil {
			return Silent, fmt.Sprintf("status %d, %d bytes: %v", resp.StatusCode, len(body), err)
		}
		return OK, ""
	case resp.StatusCode < 300:
		return BadShape, fmt.Sprintf("status %d", resp.StatusCode)
	}
	var e errorShape
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		json.Unmarshal(body, &e) != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		return BadShape, fmt.Sprintf("status %d, not the error shape: %s", resp.StatusCode, clip(body))
	}
	what := fmt.Sprintf("status %d %s: %s", resp.StatusCode, e.Error.Code, e.Error.Message)
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable:
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if e.Error.Code == "ServiceUnavailable" && err == nil && ra > 0 {
			return Clean503, ""
		}
		return ServerError, what + " (Retry-After " + strconv.Quote(resp.Header.Get("Retry-After")) + ")"
	case resp.StatusCode == http.StatusTooManyRequests:
		return Throttled, ""
	case resp.StatusCode >= 500:
		return ServerError, what
	case resp.StatusCode >= 400:
		return ClientError, what
	}
	return BadShape, what
}

// Validate checks that a 2xx body is complete for its kind.
func Validate(want Body, body []byte) error {
	switch want {
	case JSON:
		if !json.Valid(body) {
			return errors.New("JSON does not parse")
		}
	case OData:
		var doc struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return fmt.Errorf("OData JSON does not parse: %v", err)
		}
		if len(doc.Value) == 0 || doc.Value[0] != '[' {
			return errors.New(`OData answer without a "value" array`)
		}
	case Count:
		n, err := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("$count is not a non-negative integer: %s", clip(body))
		}
	case CSV:
		if !bytes.HasSuffix(body, []byte("\r\n")) {
			return errors.New("CSV does not end with CRLF")
		}
		r := csv.NewReader(bytes.NewReader(body))
		r.ReuseRecord = true
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("CSV does not parse: %v", err)
			}
		}
	case XLSX:
		z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return fmt.Errorf("XLSX is not a zip: %v", err)
		}
		found := false
		for _, f := range z.File {
			found = found || f.Name == "xl/workbook.xml"
			rc, err := f.Open()
			if err == nil {
				_, err = io.Copy(io.Discard, rc)
				rc.Close()
			}
			if err != nil {
				return fmt.Errorf("XLSX entry %s: %v", f.Name, err)
			}
		}
		if !found {
			return errors.New("XLSX without xl/workbook.xml")
		}
	default:
		return fmt.Errorf("unknown body kind %d", want)
	}
	return nil
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}
