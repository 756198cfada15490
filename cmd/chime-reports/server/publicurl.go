package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// origins builds the scheme://host[:port] of the absolute links the
// service writes (OData context and next links, the admin snippets),
// never from what an untrusted client sends:
//   - with a public URL (serve --public-url), always that;
//   - else, for a request from a trusted proxy (--trusted-proxies), its
//     X-Forwarded-Proto and X-Forwarded-Host (or Host);
//   - else the address the connection was accepted on (the Host header
//     is ignored: "Host: evil.example" must not become a link), and only
//     for a request served without a connection (tests) its Host.
type origins struct {
	public  string
	proxies []netip.Prefix
}

// newOrigins checks the public URL (an absolute http(s) URL without a
// path, query or fragment) and the trusted proxies (IPs or CIDRs).
func newOrigins(public string, trusted []string) (*origins, error) {
	o := &origins{}
	if public != "" {
		u, err := url.Parse(public)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("--public-url: want scheme://host[:port] (http or https, no path), not %q", public)
		}
		o.public = u.Scheme + "://" + u.Host
	}
	for _, t := range trusted {
		if p, err := netip.ParsePrefix(t); err == nil {
			o.proxies = append(o.proxies, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(t)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not an IP or CIDR", t)
		}
		o.proxies = append(o.proxies, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return o, nil
}

// CheckPublicURL validates --public-url with the trusted proxies before a
// handler is built with them (NewHandler panics on bad values).
func CheckPublicURL(public string, trusted []string) error {
	_, err := newOrigins(public, trusted)
	return err
}

// origin is the scheme://host[:port] for links in the answer to r.
func (o *origins) origin(r *http.Request) string {
	if o.public != "" {
		return o.public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if o.fromProxy(r) {
		if f := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); f == "https" || f == "http" {
			scheme = f
		}
		if h := r.Header.Get("X-Forwarded-Host"); validHost(h) {
			return scheme + "://" + h
		}
		if validHost(r.Host) {
			return scheme + "://" + r.Host
		}
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return scheme + "://" + netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
		}
	}
	if validHost(r.Host) {
		return scheme + "://" + r.Host
	}
	return scheme + "://localhost"
}

func (o *origins) fromProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range o.proxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// validHost accepts host[:port] with a DNS name or an IP: nothing that
// could break out of a URL's authority.
func validHost(h string) bool {
	if h == "" || len(h) > 255 || strings.ContainsAny(h, "/\\?#@ \t\"'<>") {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h
}
