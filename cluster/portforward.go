package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// PortForward is a running port-forward; Close stops it.
type PortForward struct {
	// LocalPort is the port on 127.0.0.1 (chosen by the system when 0
	// was asked for).
	LocalPort int
	stop      chan struct{}
	once      sync.Once
	done      chan error
}

// Close stops forwarding and waits for the forwarder to end.
func (p *PortForward) Close() error {
	p.once.Do(func() { close(p.stop) })
	return <-p.done
}

// Done is closed (after delivering the forwarder's error, if any) when
// forwarding ends, by Close or because the pod went away.
func (p *PortForward) Done() <-chan error { return p.done }

// PortForward forwards 127.0.0.1:localPort (0: any free port) to
// remotePort of the pod, through the API server: WebSocket tunnelling
// first, SPDY when the server cannot upgrade, as kubectl does. It returns
// once the listener is ready; ctx ending stops it too.
func (c *Client) PortForward(ctx context.Context, pod string, localPort, remotePort int) (*PortForward, error) {
	if c.rest == nil {
		return nil, errors.New("port-forward needs a REST config: make the client with Connect, or with New and WithRESTConfig")
	}
	req := c.sets.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(c.namespace).Name(pod).SubResource("portforward")
	transport, upgrader, err := spdy.RoundTripperFor(c.rest)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s: %w", pod, err)
	}
	spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, req.URL())
	var dialer httpstream.Dialer = spdyDialer
	if ws, err := portforward.NewSPDYOverWebsocketDialer(req.URL(), c.rest); err == nil {
		dialer = portforward.NewFallbackDialer(ws, spdyDialer, func(err error) bool {
			return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
		})
	}
	pf := &PortForward{stop: make(chan struct{}), done: make(chan error, 1)}
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"},
		[]string{strconv.Itoa(localPort) + ":" + strconv.Itoa(remotePort)}, pf.stop, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s: %w", pod, err)
	}
	go func() {
		err := fw.ForwardPorts()
		pf.done <- err
		close(pf.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			pf.once.Do(func() { close(pf.stop) })
		case <-pf.stop:
		}
	}()
	select {
	case <-ready:
	case err := <-pf.done:
		if err == nil {
			err = errors.New("forwarder stopped before it was ready")
		}
		return nil, classify(err, fmt.Sprintf("port-forward %d to %s:%d", localPort, pod, remotePort))
	case <-ctx.Done():
		_ = pf.Close()
		return nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		_ = pf.Close()
		return nil, fmt.Errorf("port-forward to %s: no local port: %v", pod, err)
	}
	pf.LocalPort = int(ports[0].Local)
	return pf, nil
}
