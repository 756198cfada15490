package odata

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports/httpcache"
)

// etag is the entity tag of an entity-set answer (rows, /$count or a
// $format download), or "" when it has none: the engine gives no data
// fingerprint for sets without a closed window (docs/api.md, "Caching").
// Everything else that shapes the body is in it: the path, every option
// (decoded), the caller's default zone, the page size, the absolute base
// of @odata.context and nextLink, the key that signs $skiptoken, the
// content coding, the negotiated JSON format and version, the caller and
// their queues.
func (s *Service) etag(r *http.Request, p *keys.Principal, req *request) (string, error) {
	data, ok, err := s.engine.SetFingerprint(r.Context(), req.query)
	if err != nil || !ok {
		return "", err
	}
	var opts strings.Builder
	for _, m := range []map[string]string{req.opts.system, req.opts.custom} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&opts, "%q=%q&", k, m[k])
		}
		opts.WriteString("|")
	}
	signer := sha256.Sum256(s.opt.TokenKey)
	return httpcache.Tag("odata", r.URL.Path, opts.String(), "default zone "+p.DefaultZone,
		fmt.Sprintf("page %d %v", req.pageSize, req.applied), s.base(r), fmt.Sprintf("signer %x", signer[:8]),
		fmt.Sprintf("gzip %v", acceptsGzip(r.Header.Get("Accept-Encoding"))), "format "+req.format.contentType()+" "+req.format.version(),
		httpcache.Caller(p.UserID, p.Name(), p.Visible), data), nil
}
