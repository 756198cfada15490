package httpcache

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// CacheControl is the Cache-Control of every report answer, with or
// without an ETag: no shared cache may store it (private: it is cut to the
// caller's queues), and a client that keeps it must revalidate before each
// reuse (no-cache), so no one is served numbers older than the data. With
// an ETag, revalidation costs the server one aggregate query; without one
// (open windows), the client gets the full answer again.
const CacheControl = "private, no-cache"

// Tag returns a strong entity tag over parts: the build, then each part
// in order (each part must already be normalised: the same answer, the
// same parts). The parts are hashed, never shown.
func Tag(parts ...string) string {
	h := sha256.New()
	io.WriteString(h, BuildVersion())
	for _, p := range parts {
		h.Write([]byte{0})
		io.WriteString(h, p)
	}
	return `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`
}

// Matches reports whether an If-None-Match header value matches tag. The
// comparison is the weak one RFC 9110 prescribes for If-None-Match (a W/
// prefix is ignored); "*" matches any current representation.
func Matches(ifNoneMatch, tag string) bool {
	for _, v := range strings.Split(ifNoneMatch, ",") {
		v = strings.TrimSpace(v)
		if v == "*" {
			return true
		}
		if strings.TrimPrefix(v, "W/") == tag {
			return true
		}
	}
	return false
}

// Vary are the request headers a report answer depends on beyond its URL:
// the caller (Authorization), the representation (Accept) and its coding.
var Vary = []string{"Authorization", "Accept", "Accept-Encoding"}

// SetHeaders writes the caching headers of an answer: its ETag (none when
// tag is empty), Cache-Control and Vary.
func SetHeaders(h http.Header, tag string) {
	h.Set("Cache-Control", CacheControl)
	if tag == "" {
		h.Del("ETag")
	} else {
		h.Set("ETag", tag)
	}
	for _, v := range Vary {
		addVary(h, v)
	}
}

func addVary(h http.Header, name string) {
	for _, have := range h.Values("Vary") {
		for _, f := range strings.Split(have, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return
			}
		}
	}
	h.Add("Vary", name)
}

// NotModified answers r with 304 and the caching headers when tag is not
// empty and r's If-None-Match matches it; it reports whether it did. A 304
// has no body (RFC 9110 15.4.5); GET and HEAD are treated alike.
func NotModified(w http.ResponseWriter, r *http.Request, tag string) bool {
	if tag == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	inm := r.Header.Get("If-None-Match")
	if inm == "" || !Matches(strings.Join(r.Header.Values("If-None-Match"), ","), tag) {
		return false
	}
	h := w.Header()
	SetHeaders(h, tag)
	h.Del("Content-Type")
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	w.WriteHeader(http.StatusNotModified)
	return true
}

var (
	buildOnce    sync.Once
	buildVersion string
)

// BuildVersion identifies the code that computes and writes reports, so
// that a deployment of new report definitions changes every tag: the
// module version and VCS revision stamped into the binary and, when the
// binary carries no revision or was built from a modified tree, the SHA-256
// of the executable itself.
func BuildVersion() string {
	buildOnce.Do(func() { buildVersion = readBuildVersion() })
	return buildVersion
}

func readBuildVersion() string {
	var b strings.Builder
	revision, modified := "", true
	if info, ok := debug.ReadBuildInfo(); ok {
		b.WriteString(info.Main.Path + "@" + info.Main.Version + " " + info.GoVersion)
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	b.WriteString(" " + revision)
	if revision == "" || modified {
		b.WriteString(" " + executableHash())
	}
	return b.String()
}

// started stands in for the executable's hash when it cannot be read:
// tags then change at every restart, never too seldom.
var started = time.Now().UTC().Format(time.RFC3339Nano)

func executableHash() string {
	path, err := os.Executable()
	if err != nil {
		return "started " + started
	}
	f, err := os.Open(path)
	if err != nil {
		return "started " + started
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "started " + started
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Caller is the normalised identity part of a tag: the user (whose name
// a workbook's About sheet shows) and the queues the user may see, sorted,
// so two callers who see different queues never share a tag.
func Caller(userID uint, name string, visible []uint32) string {
	ids := slices.Clone(visible)
	slices.Sort(ids)
	var b strings.Builder
	fmt.Fprintf(&b, "user %d %q queues", userID, name)
	for _, id := range ids {
		fmt.Fprintf(&b, " %d", id)
	}
	return b.String()
}
