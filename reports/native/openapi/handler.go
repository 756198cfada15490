package openapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"path"
	"time"

	"github.com/gin-gonic/gin"
)

// Paths of the description and the reference page.
const (
	DocumentPath = "/Chime/openapi.json"
	DocsPath     = "/Chime/docs"
)

//go:embed ui/index.html ui/init.js ui/dist/swagger-ui-bundle.js ui/dist/swagger-ui.css
var ui embed.FS

// pagePolicy lets the reference page load its own script and style sheet
// and call this server's API from "try it"; nothing inline, nothing from
// elsewhere (the browser test fails on any violation).
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// Handler serves the OpenAPI description, built once from the registry,
// and the API reference page rendered from it by the embedded Swagger UI.
// Neither needs a key: they describe the API and serve no data.
type Handler struct {
	files map[string]file
}

type file struct {
	body        []byte
	contentType string
	etag        string
}

// NewHandler builds the description of native.Routes().
func NewHandler() (*Handler, error) {
	doc, err := JSON()
	if err != nil {
		return nil, err
	}
	h := &Handler{files: map[string]file{}}
	h.add(DocumentPath, doc, "application/json; charset=utf-8")
	for name, to := range map[string]string{
		"ui/index.html":                DocsPath,
		"ui/init.js":                   DocsPath + "/init.js",
		"ui/dist/swagger-ui-bundle.js": DocsPath + "/swagger-ui-bundle.js",
		"ui/dist/swagger-ui.css":       DocsPath + "/swagger-ui.css",
	} {
		b, err := ui.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ct := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}[path.Ext(name)]
		h.add(to, b, ct)
	}
	return h, nil
}

func (h *Handler) add(route string, b []byte, contentType string) {
	sum := sha256.Sum256(b)
	h.files[route] = file{body: b, contentType: contentType, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
}

// Register mounts the description and the page (GET and HEAD).
func (h *Handler) Register(r gin.IRoutes) {
	for route := range h.files {
		r.GET(route, h.serve)
		r.HEAD(route, h.serve)
	}
}

func (h *Handler) serve(c *gin.Context) {
	f := h.files[c.FullPath()]
	hd := c.Writer.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	switch c.FullPath() {
	case DocsPath:
		hd.Set("Content-Security-Policy", pagePolicy)
	case DocumentPath:
		// A public description: any site's tool may read it.
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(f.body))
}
