//go:build linux

package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// TestProxyForwardsWithItsOwnCredentials: odod's token is not passed on,
// the upstream's credentials are; WebSocket upgrades are refused in SPDY
// mode; while down nothing gets through, and after it does again.
func TestProxyForwardsWithItsOwnCredentials(t *testing.T) {
	var gotAuth []string
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer upstream.Close()
	p, err := newProxy(&rest.Config{Host: upstream.URL, BearerToken: "upstream-token",
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(upgrade string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodGet, p.url()+"/api", nil)
		req.Header.Set("Authorization", "Bearer odod-token")
		if upgrade != "" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", upgrade)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if code, body, err := get(""); err != nil || code != 200 || body != "hello /api" {
		t.Fatalf("through the proxy: %d %q %v", code, body, err)
	}
	if len(gotAuth) != 1 || gotAuth[0] != "Bearer upstream-token" {
		t.Fatalf("upstream saw Authorization %q, want the proxy's own", gotAuth)
	}
	p.setNoWebSocket(true)
	if code, body, err := get("websocket"); err != nil || code != http.StatusBadRequest || !strings.Contains(body, "SPDY") {
		t.Fatalf("WebSocket in SPDY mode: %d %q %v", code, body, err)
	}
	_ = p.setDown(true)
	client.CloseIdleConnections()
	if _, _, err := get(""); err == nil {
		t.Fatal("a request went through while the proxy was down")
	}
	if err := p.setDown(false); err != nil {
		t.Fatal(err)
	}
	if code, _, err := get(""); err != nil || code != 200 {
		t.Fatalf("after the proxy came back: %d %v", code, err)
	}
}
