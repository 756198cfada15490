package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

const opsReport = "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=2024-10-01&stop=2024-11-03"

// TestRateLimit: a key over its budget gets 429 in the error shape with a
// Retry-After; another key is not affected; unauthenticated calls never
// spend a bucket.
func TestRateLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnvWith(t, b, func(d *server.Deps) { d.RateLimit = 0.01; d.RateBurst = 2 })
		for i := range 2 {
			if a := e.get(golden.Alice, opsReport); a.status != http.StatusOK {
				t.Fatalf("request %d within the burst: %d %s", i, a.status, a.body)
			}
		}
		a := e.get(golden.Alice, opsReport)
		if a.status != http.StatusTooManyRequests {
			t.Fatalf("third request: %d, want 429", a.status)
		}
		if code, _, _, _ := errorBody(t, a); code != string(apierror.TooManyRequests) {
			t.Fatalf("code %q", code)
		}
		if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
		}
		if a := e.get(golden.Bob, "/Chime/Report/InboundVsAnsweredChats?queueId=3&start=2024-10-01&stop=2024-11-03"); a.status != http.StatusOK {
			t.Fatalf("another key is limited too: %d", a.status)
		}
		for range 5 {
			if a := e.do(http.MethodGet, opsReport); a.status != http.StatusUnauthorized {
				t.Fatalf("no key: %d", a.status)
			}
		}
	})
}

// TestRequestLimits: long URLs get 414, big bodies 413, both in the error
// shape and before authentication.
func TestRequestLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnvWith(t, b, func(d *server.Deps) { d.MaxURLBytes = 2048; d.MaxBodyBytes = 1024 })
		a := e.get(golden.Alice, opsReport+"&pad="+strings.Repeat("x", 2048))
		if a.status != http.StatusRequestURITooLong {
			t.Fatalf("long URL: %d", a.status)
		}
		if code, _, _, _ := errorBody(t, a); code != string(apierror.URITooLong) {
			t.Fatalf("code %q", code)
		}
		if a := e.get(golden.Alice, "/Chime/Report/"+strings.Repeat("x", 2000)); a.status != http.StatusNotFound {
			t.Fatalf("URL under the limit: %d", a.status)
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/Chime/Admin/login", strings.NewReader(strings.Repeat("k=v&", 1000)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("big body: %d %s", resp.StatusCode, body)
		}
		if code, _, _, _ := errorBody(t, answer{resp.StatusCode, resp.Header, string(body)}); code != string(apierror.PayloadTooLarge) {
			t.Fatalf("code %q", code)
		}
	})
}

// TestSecurityHeaders: every answer, success or error, carries them.
func TestSecurityHeaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		for _, a := range []answer{e.get(golden.Alice, opsReport), e.get(golden.Alice, "/Chime/Report/Nope"),
			e.do(http.MethodGet, opsReport), e.do(http.MethodGet, "/healthz")} {
			for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
				"Referrer-Policy": "no-referrer", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"} {
				if got := a.header.Get(h); got != want {
					t.Errorf("status %d: %s = %q, want %q", a.status, h, got, want)
				}
			}
			if a.header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP")
			}
		}
	})
}

// TestRequestTimeout: a report whose answer has not started within the
// timeout is cancelled and answered 504 in the error shape. The report's
// queries are held (a GORM callback waits for the request context) so the
// deadline, not the speed of the machine, decides.
func TestRequestTimeout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		hold := func(tx *gorm.DB) {
			ctx := tx.Statement.Context
			if _, ok := keys.PrincipalFrom(ctx); !ok {
				return // authentication and audit run as usual
			}
			select {
			case <-ctx.Done():
				tx.AddError(ctx.Err())
			case <-time.After(30 * time.Second):
			}
		}
		if err := b.DB.Callback().Query().Before("gorm:query").Register("test:hold", hold); err != nil {
			t.Fatal(err)
		}
		if err := b.DB.Callback().Row().Before("gorm:row").Register("test:hold", hold); err != nil {
			t.Fatal(err)
		}
		e := newEnvWith(t, b, func(d *server.Deps) { d.RequestTimeout = 200 * time.Millisecond })
		for _, path := range []string{opsReport, opsReport + "&format=xlsx", "/odata/Sessions?$top=5"} {
			a := e.get(golden.Alice, path)
			if a.status != http.StatusGatewayTimeout {
				t.Fatalf("%s: status %d %s", path, a.status, a.body)
			}
			if !strings.Contains(a.body, `"Timeout"`) {
				t.Fatalf("%s: body %s", path, a.body)
			}
		}
		if code, _, _, _ := errorBody(t, e.get(golden.Alice, opsReport)); code != string(apierror.Timeout) {
			t.Fatalf("code %q", code)
		}
	})
}

// TestMetrics: /metrics speaks the Prometheus text format and counts
// requests by route pattern and status, rows and bytes, and the DB pool.
func TestMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		e.get(golden.Alice, opsReport)
		e.get(golden.Alice, opsReport)
		e.get(golden.Alice, "/Chime/Report/InboundVsAnsweredChats?queueId=1&start=nope")
		e.do(http.MethodGet, "/no/such/"+strings.Repeat("x", 30))
		e.do("INVENTED", "/no/such/path")
		a := e.do(http.MethodGet, "/metrics")
		if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("metrics: %d %s", a.status, a.header.Get("Content-Type"))
		}
		for _, want := range []string{
			`chime_http_requests_total{code="200",method="GET",route="/Chime/Report/:name"} 2`,
			`chime_http_requests_total{code="400",method="GET",route="/Chime/Report/:name"} 1`,
			`chime_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
			`method="other"`,
			`chime_http_request_duration_seconds_count{route="/Chime/Report/:name"} 3`,
			`go_sql_max_open_connections{db_name="chime"}`,
			`process_resident_memory_bytes`,
		} {
			if !strings.Contains(a.body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		for _, series := range []string{`chime_report_rows_total{route="/Chime/Report/:name"}`, `chime_http_response_bytes_total{route="/Chime/Report/:name"}`} {
			m := regexp.MustCompile(regexp.QuoteMeta(series) + ` (\S+)`).FindStringSubmatch(a.body)
			if m == nil {
				t.Errorf("metrics lack %s", series)
				continue
			}
			if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 {
				t.Errorf("%s = %s, want > 0", series, m[1])
			}
		}
		if strings.Contains(a.body, e.key[golden.Alice]) || strings.Contains(a.body, "xxxxxxxxxx") || strings.Contains(a.body, "INVENTED") {
			t.Error("metrics carry request data")
		}
	})
}

// TestServeTLS runs serve with --tls-cert/--tls-key: HTTPS answers with
// HSTS, plain HTTP on the same port does not get a page, and a cancelled
// context shuts the server down cleanly.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	dbPath := filepath.Join(dir, "chime.db")
	db := dbtest.Open(t, models.DSN{Dialect: models.SQLite, Path: dbPath}).DB
	if err := golden.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := &config{DB: "sqlite:" + dbPath, TLSCert: certFile, TLSKey: keyFile,
		RequestTimeout: server.DefaultRequestTimeout, MaxDays: 400}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	slog.SetDefault(slog.New(slog.DiscardHandler))
	go func() { done <- serveOn(ctx, cfg, ln) }()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var resp *http.Response
	for i := 0; ; i++ {
		resp, err = client.Get("https://" + addr + "/healthz")
		if err == nil {
			break
		}
		if i == 200 {
			cancel()
			t.Fatalf("HTTPS never answered: %v (serve: %v)", err, drain(done))
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("healthz over TLS: %d %+v", resp.StatusCode, resp.TLS)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Fatalf("HSTS %q", h)
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("plain HTTP served on the TLS port: %s", body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestServeTLSNeedsBoth: one of the two TLS flags alone is a start error.
func TestServeTLSNeedsBoth(t *testing.T) {
	err := serve(context.Background(), &config{DB: "sqlite:" + filepath.Join(t.TempDir(), "x.db"), TLSCert: "cert.pem"})
	if err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Fatalf("err %v", err)
	}
}

func drain(c chan error) error {
	select {
	case err := <-c:
		return err
	default:
		return nil
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chime-reports test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(certFile, "CERTIFICATE", der)
	write(keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile, pool
}

// TestForwardedForNeedsTrustedProxy: the audit trail's client address
// comes from X-Forwarded-For only when the peer is a trusted proxy.
func TestForwardedForNeedsTrustedProxy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		for _, c := range []struct {
			trusted []string
			want    string
		}{{nil, "127.0.0.1"}, {[]string{"127.0.0.1/32"}, "203.0.113.9"}} {
			srv := httptest.NewServer(server.NewHandler(server.Deps{DB: b.DB, Clock: func() time.Time { return golden.Now },
				Log: slog.New(slog.DiscardHandler), TrustedProxies: c.trusted}))
			req, _ := http.NewRequest(http.MethodGet, srv.URL+opsReport, nil)
			req.Header.Set("Authorization", "Bearer "+e.key[golden.Alice])
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			srv.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d", resp.StatusCode)
			}
			var ip []string
			if err := b.DB.Model(&models.AuditRecord{}).Order("id DESC").Limit(1).Pluck("client_ip", &ip).Error; err != nil {
				t.Fatal(err)
			}
			if len(ip) != 1 || ip[0] != c.want {
				t.Errorf("trusted %v: audit client %q, want %q", c.trusted, ip, c.want)
			}
		}
	})
}
