//go:build linux

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
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// proxy stands between odod and the API server, so that the campaign can
// make the API server unreachable for odod alone: the shared API server
// is never touched. It terminates odod's TLS with its own certificate,
// takes odod's (planted) bearer token and client certificate, and
// forwards each request, upgrades (exec, port-forward) included, with the
// rig's admin credentials. Its faults:
//   - down: every open connection is closed and the port is closed, so new
//     connections are refused (the API server unreachable, as while it
//     restarts);
//   - drop: the open connections stop forwarding in both directions
//     without closing (a half-open connection: what is sent is lost), while
//     new connections work;
//   - noWebSocket: WebSocket upgrades are refused, so that exec and
//     port-forward fall back to SPDY, as with an API server older than 1.30.
type proxy struct {
	addr string
	srv  *http.Server
	// caPEM is the certificate odod's kubeconfig trusts.
	caPEM []byte

	mu          sync.Mutex
	ln          net.Listener // nil while down
	down        bool
	noWebSocket bool
	conns       map[*fconn]struct{}
	upgrades    map[string]int // "websocket", "spdy/3.1": upgraded requests seen
}

func newProxy(upstream *rest.Config) (*proxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("API server address %q: %w", upstream.Host, err)
	}
	tlsCfg, err := rest.TLSConfigFor(upstream)
	if err != nil {
		return nil, err
	}
	// HTTP/1.1 only: upgrades are not carried over HTTP/2.
	base := &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     tlsCfg,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
	}
	rt, err := rest.HTTPWrappersForConfig(upstream, base)
	if err != nil {
		return nil, err
	}
	cert, caPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	p := &proxy{caPEM: caPEM, conns: map[*fconn]struct{}{}, upgrades: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Authorization")
		},
		Transport:     rt,
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			up := strings.ToLower(r.Header.Get("Upgrade"))
			p.mu.Lock()
			refuse := p.noWebSocket && up == "websocket"
			if up != "" {
				p.upgrades[up]++
			}
			p.mu.Unlock()
			if refuse {
				http.Error(w, "the campaign's proxy refuses WebSocket upgrades (SPDY mode)", http.StatusBadRequest)
				return
			}
			rp.ServeHTTP(w, r)
		}),
		// HTTP/2 as an API server speaks it (client-go pings an idle
		// HTTP/2 connection and drops it when the ping goes unanswered);
		// upgrades come over HTTP/1.1 connections of their own.
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequestClientCert,
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	if err := p.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return p, nil
}

// listen serves on addr (again).
func (p *proxy) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fl := &flistener{Listener: ln, p: p}
	p.mu.Lock()
	p.addr, p.ln = ln.Addr().String(), fl
	p.mu.Unlock()
	go func() { _ = p.srv.ServeTLS(fl, "", "") }()
	return nil
}

func (p *proxy) url() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "https://" + p.addr
}

// selfSigned makes the proxy's certificate for 127.0.0.1, its own CA.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "odod chaos proxy"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// setDown cuts every connection and closes the port (true), or listens
// on it again (false).
func (p *proxy) setDown(down bool) error {
	p.mu.Lock()
	was, ln, addr := p.down, p.ln, p.addr
	p.down = down
	if down {
		p.ln = nil
	}
	p.mu.Unlock()
	if down {
		if ln != nil {
			_ = ln.Close()
		}
		p.each(func(c *fconn) { _ = c.Close() })
		return nil
	}
	if !was {
		return nil
	}
	// The port was just ours: listening on it again may take a few tries.
	var err error
	for i := 0; i < 50; i++ {
		if err = p.listen(addr); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("listen on %s again: %w", addr, err)
}

// outage makes the API server unreachable for d.
func (p *proxy) outage(d time.Duration) error {
	_ = p.setDown(true)
	time.Sleep(d)
	return p.setDown(false)
}

// cutAll closes every open connection (an exec session cut); new ones are
// let through. It returns how many it closed.
func (p *proxy) cutAll() int {
	return p.each(func(c *fconn) { _ = c.Close() })
}

// dropAll makes every open connection half-open; it returns how many.
func (p *proxy) dropAll() int {
	return p.each(func(c *fconn) { c.drop() })
}

// closeDropped closes the connections left half-open, once a run is over.
func (p *proxy) closeDropped() {
	p.each(func(c *fconn) {
		if c.isDropped() {
			_ = c.Close()
		}
	})
}

func (p *proxy) setNoWebSocket(v bool) {
	p.mu.Lock()
	p.noWebSocket = v
	p.mu.Unlock()
}

// upgraded returns how many upgrades of each protocol the proxy saw.
func (p *proxy) upgraded() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.upgrades {
		out[k] = v
	}
	return out
}

func (p *proxy) each(f func(*fconn)) int {
	p.mu.Lock()
	var open []*fconn
	for c := range p.conns {
		open = append(open, c)
	}
	p.mu.Unlock()
	for _, c := range open {
		f(c)
	}
	return len(open)
}

func (p *proxy) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.setDown(true)
	_ = p.srv.Shutdown(ctx)
	_ = p.srv.Close()
}

// flistener hands out connections the proxy can cut or drop.
type flistener struct {
	net.Listener
	p *proxy
}

func (l *flistener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.p.mu.Lock()
		if l.p.down {
			l.p.mu.Unlock()
			_ = c.Close()
			continue
		}
		fc := &fconn{Conn: c, p: l.p, gone: make(chan struct{})}
		l.p.conns[fc] = struct{}{}
		l.p.mu.Unlock()
		return fc, nil
	}
}

// fconn is one of odod's connections to the proxy.
type fconn struct {
	net.Conn
	p       *proxy
	mu      sync.Mutex
	dropped bool
	closed  bool
	gone    chan struct{}
}

func (c *fconn) drop() {
	c.mu.Lock()
	c.dropped = true
	c.mu.Unlock()
}

func (c *fconn) isDropped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Read returns what odod sent until the connection is dropped; after, what
// arrives is lost and Read waits until the connection is closed.
func (c *fconn) Read(b []byte) (int, error) {
	for {
		if c.isDropped() {
			<-c.gone
			return 0, net.ErrClosed
		}
		n, err := c.Conn.Read(b)
		if c.isDropped() {
			continue
		}
		return n, err
	}
}

// Write sends to odod until the connection is dropped; after, it is lost.
func (c *fconn) Write(b []byte) (int, error) {
	if c.isDropped() {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *fconn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.gone)
	c.mu.Unlock()
	c.p.mu.Lock()
	delete(c.p.conns, c)
	c.p.mu.Unlock()
	return c.Conn.Close()
}
