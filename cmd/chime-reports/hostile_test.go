package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// hostile is one request that must be refused with a 4xx (docs/api.md "Errors": no
// input, however malformed, produces a 500).
type hostile struct {
	name   string
	method string // "" = GET
	target string // the request-target exactly as written on the wire
	// auth is the Authorization header; "" sends Alice's key as a Bearer
	// token, "-" sends none.
	auth   string
	header []string // extra raw header lines
	body   string
	status []int // accepted statuses; the first is the usual answer
	// shape is whose answer it is: nativeShape (the one error shape), odata
	// (the OData error shape and OData-Version), or nethttp (net/http
	// refuses the request before the handler: a plain-text 4xx).
	shape shape
}

type shape int

const (
	nativeShape shape = iota
	odataShape
	nethttp
)

// Where another layer may put a limit (request size, URL length, header
// size), the limit's own status is accepted beside today's 400/404.
var tooLong = []int{400, 414}

func hostileRequests(key string) []hostile {
	const rep = "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-11-01&stop=2024-11-04"
	const base = "/Chime/Report/InboundVsAnsweredChats?"
	const sessions = "/odata/Sessions?"
	const set = "/odata/InboundVsAnsweredChats?"
	const details = "/Chime/Session/SessionDetails/"
	s := func(codes ...int) []int { return codes }
	big := strings.Repeat("A", 100<<10)
	nested := strings.Repeat("(", 10000) + "true" + strings.Repeat(")", 10000)
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	return []hostile{
		// SQL injection, in every parameter.
		{name: "sqli queueId quote", target: base + "queueId=1%27%20OR%20%271%27=%271", status: s(400)},
		{name: "sqli queueId union", target: base + "queueId=1%20UNION%20SELECT%20key_hash%20FROM%20api_keys", status: s(400)},
		{name: "sqli queueId stacked", target: base + "queueId=1;DROP%20TABLE%20chat_sessions", status: s(400)},
		{name: "sqli start", target: base + "queueId=1&start=2024-11-01%27%20OR%201=1--", status: s(400)},
		{name: "sqli stop", target: base + "queueId=1&stop=2024-11-04%22);DROP%20TABLE%20chat_sessions;--", status: s(400)},
		{name: "sqli zone", target: base + "queueId=1&zone=UTC%27%20OR%20%271%27=%271", status: s(400)},
		{name: "sqli zone comment", target: base + "queueId=1&zone=America/New_York%27)--", status: s(400)},
		{name: "sqli format", target: base + "queueId=1&format=json%27%20OR%201=1", status: s(400)},
		{name: "sqli csv", target: base + "queueId=1&csv=true%27--", status: s(400)},
		{name: "sqli bom", target: base + "queueId=1&bom=1%20OR%201=1", status: s(400)},
		{name: "sqli report name", target: "/Chime/Report/InboundVsAnsweredChats%27%20OR%201=1?queueId=1", status: s(404)},
		{name: "sqli catalog queueId", target: "/Chime/Report/GetQueueBasicReports?queueId=1%20OR%201=1", status: s(400)},
		{name: "sqli parameter name", target: base + "queueId=1&start%27--=2024-11-01", status: s(400)},
		{name: "sqli SessionDetails id", target: details + "1%20OR%201=1", status: s(400)},
		{name: "sqli SessionDetails stacked", target: details + "1;DELETE%20FROM%20chat_sessions", status: s(400)},
		{name: "sqli SessionDetails zone", target: details + "1?zone=UTC%27--", status: s(400)},
		{name: "sqli $filter stacked", target: sessions + "$filter=QueueId%20eq%201;DROP%20TABLE%20chat_sessions", status: s(400), shape: odataShape},
		{name: "sqli $filter OR", target: sessions + "$filter=Question%20eq%20%27x%27%20OR%20%271%27=%271%27", status: s(400), shape: odataShape},
		{name: "sqli $filter unbalanced", target: sessions + "$filter=QueueId%20eq%201)%20or%20(1=1", status: s(400), shape: odataShape},
		{name: "sqli $filter unterminated", target: sessions + "$filter=Question%20eq%20%27x", status: s(400), shape: odataShape},
		{name: "sqli $filter comment", target: sessions + "$filter=QueueId%20eq%201%20--%20", status: s(400), shape: odataShape},
		{name: "sqli $filter union", target: sessions + "$filter=QueueId%20eq%201%20union%20select%20key_hash%20from%20api_keys", status: s(400), shape: odataShape},
		{name: "sqli $filter unknown column", target: sessions + "$filter=key_hash%20ne%20null", status: s(400), shape: odataShape},
		{name: "sqli $orderby stacked", target: sessions + "$orderby=SessionId;DROP%20TABLE%20chat_sessions", status: s(400), shape: odataShape},
		{name: "sqli $orderby subquery", target: sessions + "$orderby=(SELECT%201)", status: s(400), shape: odataShape},
		{name: "sqli $orderby direction", target: sessions + "$orderby=SessionId%20desc;--", status: s(400), shape: odataShape},
		{name: "sqli $select", target: sessions + "$select=SessionId,key_hash", status: s(400), shape: odataShape},
		{name: "sqli $select from", target: sessions + "$select=*%20FROM%20api_keys--", status: s(400), shape: odataShape},
		{name: "sqli $top", target: sessions + "$top=1;DROP%20TABLE%20x", status: s(400), shape: odataShape},
		{name: "sqli $skip", target: sessions + "$skip=0%27%20OR%201=1", status: s(400), shape: odataShape},
		{name: "sqli $skiptoken", target: sessions + "$skiptoken=%27%20OR%201=1--", status: s(400), shape: odataShape},
		{name: "sqli $apply groupby", target: sessions + "$apply=groupby((QueueId;DROP%20TABLE%20x))", status: s(400), shape: odataShape},
		{name: "sqli $apply alias", target: sessions + "$apply=aggregate($count%20as%20N;DROP)", status: s(400), shape: odataShape},
		{name: "sqli $count", target: sessions + "$count=true%27", status: s(400), shape: odataShape},
		{name: "sqli odata zone", target: set + "zone=UTC%27%20OR%201=1", status: s(400), shape: odataShape},
		{name: "sqli odata start", target: set + "start=2024-11-01%27--", status: s(400), shape: odataShape},
		{name: "sqli odata set name", target: "/odata/Sessions%27%20OR%201=1", status: s(404), shape: odataShape},

		// Numeric overflow.
		{name: "queueId 20 digits", target: base + "queueId=99999999999999999999", status: s(400)},
		{name: "queueId 2^32", target: base + "queueId=4294967296", status: s(400)},
		{name: "queueId 2^31", target: base + "queueId=2147483648", status: s(400)},
		{name: "queueId negative", target: base + "queueId=-1", status: s(400)},
		{name: "queueId zero", target: base + "queueId=0", status: s(400)},
		{name: "queueId exponent", target: base + "queueId=1e3", status: s(400)},
		{name: "queueId hex", target: base + "queueId=0x1", status: s(400)},
		{name: "queueId plus", target: base + "queueId=%2B1", status: s(400)},
		{name: "queueId fraction", target: base + "queueId=1.0", status: s(400)},
		{name: "$top negative", target: sessions + "$top=-1", status: s(400), shape: odataShape},
		{name: "$top 1e309", target: sessions + "$top=1e309", status: s(400), shape: odataShape},
		{name: "$top 20 digits", target: sessions + "$top=99999999999999999999", status: s(400), shape: odataShape},
		{name: "$skip 20 digits", target: sessions + "$skip=99999999999999999999", status: s(400), shape: odataShape},
		{name: "$skip negative", target: sessions + "$skip=-9223372036854775808", status: s(400), shape: odataShape},
		{name: "$top one past int64", target: sessions + "$top=9223372036854775808", status: s(400), shape: odataShape},
		{name: "$filter float overflow", target: sessions + "$filter=Messages%20gt%201e309", status: s(400), shape: odataShape},
		{name: "SessionDetails id 20 digits", target: details + "99999999999999999999", status: s(400)},
		{name: "SessionDetails id negative", target: details + "-1", status: s(400)},
		{name: "SessionDetails id zero", target: details + "0", status: s(400)},
		{name: "SessionDetails id max int64 (not found)", target: details + "9223372036854775807", status: s(404)},

		// Malformed percent-encoding, NUL bytes, invalid UTF-8.
		{name: "%zz in a value", target: base + "queueId=%zz", status: s(400)},
		{name: "lone % in a value", target: base + "queueId=1&start=%", status: s(400)},
		{name: "lone % as a name", target: base + "queueId=1&%=1", status: s(400)},
		{name: "truncated escape", target: base + "queueId=1%2", status: s(400)},
		{name: "%u escape", target: base + "queueId=1&zone=%u0041", status: s(400)},
		{name: "overlong UTF-8 slash in zone", target: base + "queueId=1&zone=America%C0%AFNew_York", status: s(400)},
		{name: "overlong UTF-8 dots in zone", target: base + "queueId=1&zone=%C0%AE%C0%AE%C0%AFetc", status: s(400)},
		{name: "%00 in zone", target: base + "queueId=1&zone=UTC%00", status: s(400)},
		{name: "%00 in start", target: base + "queueId=1&start=2024-11-01%00", status: s(400)},
		{name: "%00 in queueId", target: base + "queueId=1%00", status: s(400)},
		{name: "%00 in a name", target: base + "queueId=1&%00=1", status: s(400)},
		{name: "CRLF in zone", target: base + "queueId=1&zone=UTC%0D%0ASet-Cookie:%20x=1", status: s(400)},
		{name: "raw invalid UTF-8 in zone", target: base + "queueId=1&zone=\xff\xfe", status: s(400)},
		{name: "encoded invalid UTF-8 in zone", target: base + "queueId=1&zone=%ff%fe", status: s(400)},
		{name: "raw invalid UTF-8 in report name", target: "/Chime/Report/Inbound\xffChats?queueId=1", status: s(404)},
		{name: "%00 in report name", target: "/Chime/Report/Inbound%00Chats?queueId=1", status: s(404)},
		{name: "%zz in path", target: "/Chime/Report/%zz?queueId=1", status: s(400), shape: nethttp},
		{name: "raw NUL in request line", target: base + "queueId=1\x00", status: s(400), shape: nethttp},
		{name: "raw control byte in request line", target: base + "queueId=1\x01", status: s(400), shape: nethttp},
		{name: "raw space in request line", target: base + "queueId=1 2", status: s(400), shape: nethttp},
		{name: "double-encoded dots in zone", target: base + "queueId=1&zone=%252e%252e%252fetc", status: s(400)},
		{name: "$filter %zz", target: sessions + "$filter=%zz", status: s(400), shape: odataShape},
		{name: "$filter invalid UTF-8 literal", target: sessions + "$filter=Question%20eq%20%27%ff%fe%27", status: s(400), shape: odataShape},
		{name: "$filter %00 between tokens", target: sessions + "$filter=QueueId%00eq%201", status: s(400), shape: odataShape},
		{name: "odata option name %zz", target: sessions + "%zz=1", status: s(400), shape: odataShape},
		{name: "odata zone invalid UTF-8", target: set + "zone=%ff", status: s(400), shape: odataShape},
		{name: "SessionDetails invalid UTF-8 id", target: details + "%ff", status: s(400)},

		// Huge inputs.
		{name: "100 KB queueId", target: base + "queueId=" + strings.Repeat("1", 100<<10), status: tooLong},
		{name: "100 KB zone", target: base + "queueId=1&zone=" + big, status: tooLong},
		{name: "100 KB start", target: base + "queueId=1&start=" + big, status: tooLong},
		{name: "100 KB $filter", target: sessions + "$filter=" + big, status: tooLong, shape: odataShape},
		{name: "10k nested parentheses in $filter", target: sessions + "$filter=" + nested, status: tooLong, shape: odataShape},
		{name: "5k nested parentheses in $filter", target: sessions + "$filter=" + strings.Repeat("(", 5000) + "true" + strings.Repeat(")", 5000), status: tooLong, shape: odataShape},
		{name: "10k not in $filter", target: sessions + "$filter=" + strings.Repeat("not%20", 3000) + "true", status: tooLong, shape: odataShape},
		{name: "1500 or terms in $filter", target: sessions + "$filter=" + strings.Repeat("QueueId%20eq%201%20or%20", 1000) + "true", status: tooLong, shape: odataShape},
		{name: "1000 nested calls in $filter", target: sessions + "$filter=" + strings.Repeat("tolower(", 1000) + "Question" + strings.Repeat(")", 1000) + "%20eq%20%27a%27", status: tooLong, shape: odataShape},
		{name: "10k repeated queueId", target: base + strings.Repeat("queueId=1&", 10000), status: tooLong},
		{name: "10k repeated odata zone", target: set + strings.Repeat("zone=UTC&", 10000), status: tooLong, shape: odataShape},
		{name: "10k repeated $top", target: sessions + strings.Repeat("$top=1&", 10000), status: tooLong, shape: odataShape},
		{name: "10k repeated api_key", target: base + "queueId=1&" + strings.Repeat("api_key="+key+"&", 3000), auth: "-", status: tooLong},
		{name: "10k $select items", target: sessions + "$select=" + strings.Repeat("SessionId,", 10000), status: tooLong, shape: odataShape},
		{name: "too many $orderby items", target: sessions + "$orderby=SessionId,QueueId,StartedAt,EndedAt,Messages,Rating,State,Question,GuestName", status: s(400), shape: odataShape},
		{name: "17 $apply transformations", target: sessions + "$apply=" + strings.Repeat("filter(true)/", 16) + "filter(true)", status: s(400), shape: odataShape},
		{name: "100 KB report name", target: "/Chime/Report/" + big, status: s(404, 414)},
		{name: "100 KB SessionDetails id", target: details + strings.Repeat("9", 100<<10), status: tooLong},
		{name: "100 KB odata path", target: "/odata/" + big, status: s(404, 414), shape: odataShape},
		{name: "100 KB Accept", target: rep, header: []string{"Accept: " + strings.Repeat("text/html,", 10<<10)}, status: s(406, 431)},
		{name: "2 MB header", target: rep, header: []string{"X-Big: " + strings.Repeat("a", 2<<20)}, status: s(431), shape: nethttp},

		// Odd methods.
		{name: "PUT report", method: "PUT", target: rep, status: s(405)},
		{name: "DELETE report", method: "DELETE", target: rep, status: s(405)},
		{name: "PATCH report", method: "PATCH", target: rep, status: s(405)},
		{name: "POST report with body", method: "POST", target: rep, header: []string{"Content-Type: application/json", "Content-Length: 2"}, body: "{}", status: s(405)},
		{name: "TRACE report", method: "TRACE", target: rep, status: s(405)},
		{name: "OPTIONS report", method: "OPTIONS", target: rep, status: s(405)},
		{name: "unknown method", method: "FOO", target: rep, status: s(405)},
		{name: "DELETE SessionDetails", method: "DELETE", target: details + "1", status: s(405)},
		{name: "PUT catalog", method: "PUT", target: "/Chime/Report/GetAvailableGlobalReports", status: s(405)},
		{name: "DELETE odata set", method: "DELETE", target: "/odata/Sessions", status: s(405)},
		{name: "POST odata $batch", method: "POST", target: "/odata/$batch", header: []string{"Content-Length: 0"}, status: s(501)},
		{name: "method with a bad byte", method: "GE(T", target: rep, status: s(400), shape: nethttp},

		// Wrong Accept types.
		{name: "Accept text/html", target: rep, header: []string{"Accept: text/html"}, status: s(406)},
		{name: "Accept application/xml", target: rep, header: []string{"Accept: application/xml"}, status: s(406)},
		{name: "Accept everything at q=0", target: rep, header: []string{"Accept: */*;q=0"}, status: s(406)},
		{name: "Accept junk", target: rep, header: []string{"Accept: ;;;,,,==="}, status: s(406)},
		{name: "Accept xlsx on SessionDetails", target: details + "1", header: []string{"Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, status: s(406)},
		{name: "format=xlsx on SessionDetails", target: details + "1?format=xlsx", status: s(406)},
		{name: "format=pdf", target: base + "queueId=1&format=pdf", status: s(400)},
		{name: "csv=true with format=json", target: base + "queueId=1&csv=true&format=json", status: s(400)},

		// Header abuse.
		{name: "64 KB Bearer", target: rep, auth: "Bearer " + strings.Repeat("A", 64<<10), status: s(401)},
		{name: "Bearer without key", target: rep, auth: "Bearer", status: s(401)},
		{name: "Bearer with SQL", target: rep, auth: "Bearer ' OR '1'='1", status: s(401)},
		{name: "Bearer with two keys", target: rep, auth: "Bearer " + key + " " + key, status: s(401)},
		{name: "Negotiate scheme", target: rep, auth: "Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEF", status: s(401)},
		{name: "Digest scheme", target: rep, auth: `Digest username="alice", realm="x", response="00"`, status: s(401)},
		{name: "junk scheme", target: rep, auth: "%%%%% " + key, status: s(401)},
		{name: "Basic bad base64", target: rep, auth: "Basic !!!not-base64!!!", status: s(401)},
		{name: "Basic without colon", target: rep, auth: basic(key), status: s(401)},
		{name: "Basic empty password", target: rep, auth: basic("alice:"), status: s(401)},
		{name: "Basic 64 KB", target: rep, auth: basic("x:" + strings.Repeat("k", 64<<10)), status: s(401)},
		{name: "api_key bad then good", target: rep + "&api_key=3f2504e0-4f89-41d3-9a0c-0305e82c3301&api_key=" + key, auth: "-", status: s(401)},
		{name: "api_key malformed escapes only", target: rep + "&api_key=%zz&api_key=%", auth: "-", status: s(401)},
		{name: "bad Authorization beats a good api_key", target: rep + "&api_key=" + key, auth: "Bearer nope", status: s(401)},
		{name: "NUL in Authorization", target: rep, auth: "Bearer \x00" + key, status: s(400), shape: nethttp},
		{name: "header without colon", target: rep, header: []string{"Bad Header"}, status: s(400), shape: nethttp},
		{name: "header name with a space", target: rep, header: []string{"X Bad: 1"}, status: s(400), shape: nethttp},

		// Path traversal and unicode zones.
		{name: "traversal in report path", target: "/Chime/Report/../../etc/passwd", status: s(404)},
		{name: "encoded traversal in report path", target: "/Chime/Report/%2e%2e/%2e%2e/etc/passwd", status: s(404)},
		{name: "encoded slashes in report path", target: "/Chime/Report/..%2f..%2fetc%2fpasswd", status: s(404)},
		{name: "traversal under odata", target: "/odata/../../etc/passwd", status: s(404), shape: odataShape},
		{name: "encoded traversal under odata", target: "/odata/%2e%2e%2f%2e%2e%2fetc%2fpasswd", status: s(404), shape: odataShape},
		{name: "traversal as SessionDetails id", target: details + "..%2f1", status: s(404)},
		{name: "zone America/../../etc", target: base + "queueId=1&zone=America/../../etc", status: s(400)},
		{name: "zone /etc/passwd", target: base + "queueId=1&zone=/etc/passwd", status: s(400)},
		{name: "zone encoded traversal", target: base + "queueId=1&zone=%2e%2e%2f%2e%2e%2fetc%2fpasswd", status: s(400)},
		{name: "zone Local", target: base + "queueId=1&zone=Local", status: s(400)},
		{name: "zone with accent", target: base + "queueId=1&zone=Am%C3%A9rica/New_York", status: s(400)},
		{name: "zone with fullwidth solidus", target: base + "queueId=1&zone=America%EF%BC%8FNew_York", status: s(400)},
		{name: "zone with zero-width space", target: base + "queueId=1&zone=UTC%E2%80%8B", status: s(400)},
		{name: "zone fullwidth UTC", target: base + "queueId=1&zone=%EF%BC%B5%EF%BC%B4%EF%BC%A3", status: s(400)},
		{name: "odata zone traversal", target: set + "zone=America/../../etc", status: s(400), shape: odataShape},

		// Negative, leap and out-of-range dates.
		{name: "29 February 2023", target: base + "queueId=1&start=2023-02-29", status: s(400)},
		{name: "year 0000", target: base + "queueId=1&start=0000-01-01", status: s(400)},
		{name: "24:00", target: base + "queueId=1&start=9999-12-31&stop=9999-12-31T24:00", status: s(400)},
		{name: "before 1970", target: base + "queueId=1&start=1969-12-31", status: s(400)},
		{name: "negative year", target: base + "queueId=1&start=-2024-01-01", status: s(400)},
		{name: "expanded year", target: base + "queueId=1&start=%2B002024-11-01", status: s(400)},
		{name: "second 60", target: base + "queueId=1&start=2024-11-01T00:00:60Z", status: s(400)},
		{name: "offset +24:00", target: base + "queueId=1&start=2024-11-01T00:00%2B24:00", status: s(400)},
		{name: "ten fractional digits", target: base + "queueId=1&start=2024-11-01T00:00:00.0000000001Z", status: s(400)},
		{name: "ISO week date", target: base + "queueId=1&start=2024-W44", status: s(400)},
		{name: "epoch seconds", target: base + "queueId=1&start=1730419200", status: s(400)},
		{name: "start after stop", target: base + "queueId=1&start=2024-11-05&stop=2024-11-01", status: s(400)},
		{name: "window over 400 days", target: base + "queueId=1&start=2020-01-01&stop=2024-11-04", status: s(400)},
		{name: "odata 29 February 2023", target: sessions + "$filter=StartedAt%20ge%202023-02-29T00:00:00Z", status: s(400), shape: odataShape},
		{name: "odata year 0000 start", target: set + "start=0000-01-01", status: s(400), shape: odataShape},
		{name: "odata date-time after 9999 in UTC", target: sessions + "$filter=StartedAt%20lt%209999-12-31T23:59:59-14:00", status: s(400), shape: odataShape},
		{name: "odata date-time before year 1 in UTC", target: sessions + "$filter=StartedAt%20gt%200001-01-01T00:00:00%2B14:00", status: s(400), shape: odataShape},
		{name: "odata offset +24:00", target: sessions + "$filter=StartedAt%20gt%202024-11-01T00:00:00%2B24:00", status: s(400), shape: odataShape},

		// Bodies on GET.
		{name: "GET with a body and no key", target: rep, auth: "-", header: []string{"Content-Length: 5"}, body: "hello", status: s(401)},
		{name: "GET with a body and a bad parameter", target: base + "queueId=x", header: []string{"Content-Length: 11"}, body: "queueId=1&x", status: s(400)},
		{name: "GET with a JSON body overriding nothing", target: details + "x", header: []string{"Content-Type: application/json", "Content-Length: 8"}, body: `{"id":1}`, status: s(400)},
		{name: "GET with a chunked body", target: base + "queueId=x", header: []string{"Transfer-Encoding: chunked"}, body: "5\r\nhello\r\n0\r\n\r\n", status: s(400)},
		{name: "GET with a 1 MB body", target: base + "queueId=x", header: []string{"Content-Length: 1048576"}, body: strings.Repeat("x", 1<<20), status: s(400, 413)},
		{name: "negative Content-Length", target: rep, header: []string{"Content-Length: -1"}, status: s(400), shape: nethttp},
		{name: "huge Content-Length", target: rep, header: []string{"Content-Length: 99999999999999999999"}, status: s(400), shape: nethttp},
		{name: "two Content-Lengths", target: rep, header: []string{"Content-Length: 1", "Content-Length: 2"}, body: "xx", status: s(400), shape: nethttp},
		{name: "no Host header", target: rep, header: []string{"Host:"}, status: s(400), shape: nethttp},
	}
}

func TestHostileRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		key := e.key[golden.Alice]
		cases := hostileRequests(key)
		if len(cases) < 100 {
			t.Fatalf("only %d hostile requests", len(cases))
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := e.raw(t, c, key)
				if (a.status >= 500 && a.status != 501) || !slices.Contains(c.status, a.status) { // 501: OData functionality the feed does not offer
					t.Fatalf("status %d, want %v: %.300s", a.status, c.status, a.body)
				}
				switch {
				case c.shape == nethttp:
					// net/http's own answer: a plain-text status line.
					if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
						t.Errorf("net/http answer with Content-Type %q: %.300s", ct, a.body)
					}
				case c.shape == odataShape && a.header.Get("OData-Version") == "" &&
					slices.Contains([]int{405, 413, 414}, a.status):
					// Refused by the router or a request limit before the feed.
					errorBody(t, a)
				case c.shape == odataShape:
					odataErrorBody(t, a)
				default:
					errorBody(t, a)
				}
			})
		}
	})
}

// raw writes c on a fresh connection to the running server, byte for byte
// (no client-side validation or escaping), and reads the answer.
func (e *env) raw(t *testing.T, c hostile, key string) answer {
	t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	var b strings.Builder
	b.WriteString(method + " " + c.target + " HTTP/1.1\r\n")
	hasHost := false
	for _, h := range c.header {
		hasHost = hasHost || strings.HasPrefix(strings.ToLower(h), "host:")
	}
	if !hasHost {
		b.WriteString("Host: chime.test\r\n")
	}
	switch c.auth {
	case "":
		b.WriteString("Authorization: Bearer " + key + "\r\n")
	case "-":
	default:
		b.WriteString("Authorization: " + c.auth + "\r\n")
	}
	for _, h := range c.header {
		if h != "Host:" {
			b.WriteString(h + "\r\n")
		}
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(c.body)
	// The server may answer (and close) before reading everything: write
	// while reading.
	go conn.Write([]byte(b.String()))
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return answer{resp.StatusCode, resp.Header, string(body)}
}

// odataErrorBody checks the OData error shape and its one OData-Version.
func odataErrorBody(t *testing.T, a answer) {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
			Details []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"details"`
		} `json:"error"`
	}
	if !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("error content type %q", a.header.Get("Content-Type"))
	}
	dec := json.NewDecoder(strings.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("not the OData error shape (%v): %.300s", err, a.body)
	}
	if got := a.header.Values("OData-Version"); len(got) != 1 || got[0] != "4.0" {
		t.Errorf("OData-Version %q", got)
	}
}
