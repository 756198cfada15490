package admin

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// snippets are the ready-to-paste uses of a new key shown with it.
type snippets struct {
	Base        string
	Curl        string // the published API's way: a Bearer header
	WebContents string // Power BI, native CSV route, key in the query
	ODataFeed   string // Power BI, OData feed, key as a Web API credential
}

// sampleReport is the report the snippets fetch.
const sampleReport = "InboundVsAnsweredChats"

// snippets builds the snippets for key, on a queue the user can read.
func (a *Admin) snippets(c *gin.Context, key string, queue string) snippets {
	b := strings.TrimRight(a.publicBase(c), "/")
	return snippets{
		Base: b,
		Curl: `curl -H "Authorization: Bearer ` + key + `" '` + shellQuoted(b+"/Chime/Report/"+sampleReport+"?queueId="+queue+"&csv=true") + `'`,
		WebContents: `let
    Source = Web.Contents("` + mText(b) + `", [
        RelativePath = "Chime/Report/` + sampleReport + `",
        Query = [queueId = "` + queue + `", csv = "true", api_key = "` + key + `"]
    ]),
    Csv = Csv.Document(Source, [Delimiter = ",", Encoding = 65001, QuoteStyle = QuoteStyle.Csv]),
    Report = Table.PromoteHeaders(Csv, [PromoteAllScalars = true])
in
    Report`,
		ODataFeed: `// Credentials: Web API, Key = the key above
let
    Source = OData.Feed("` + mText(b+"/odata/") + `", null, [Implementation = "2.0", ApiKeyName = "api_key"])
in
    Source`,
	}
}

// publicBase is Options.BaseURL, or the scheme and host the request came to.
func (a *Admin) publicBase(c *gin.Context) string {
	if a.baseURL != "" {
		return a.baseURL
	}
	scheme := "http"
	if c.Request.TLS != nil || a.secure {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// firstQueue is a queue the snippets can ask for: the first one the user
// manages, else 1.
func firstQueue(p *Person) string {
	for _, q := range p.Queues {
		if q.Role == "manager" {
			return utoa(uint(q.QueueID))
		}
	}
	return "1"
}

// shellQuoted escapes s for use between single quotes.
func shellQuoted(s string) string { return strings.ReplaceAll(s, `'`, `'\''`) }

// mText escapes s for an M text literal.
func mText(s string) string { return strings.ReplaceAll(s, `"`, `""`) }
