package server

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// odataVersion gives every answer under /odata its one OData-Version
// header before any other middleware runs, so that the answers written
// before the feed's own handler — 401 (no or a bad key), 405, 413, 414,
// 429 (rate limit, admission), 503 — carry it as the feed's do. Their body
// is the one error shape, which is OData's ({"error":{"code","message"}};
// none of them has details). The key is set in OData's spelling, the one
// the feed's handler sets too, so the header is never doubled.
func odataVersion() gin.HandlerFunc {
	return func(c *gin.Context) {
		if p := c.Request.URL.Path; p == "/odata" || strings.HasPrefix(p, "/odata/") {
			c.Writer.Header()["OData-Version"] = []string{"4.0"}
		}
		c.Next()
	}
}
