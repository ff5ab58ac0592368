package main

import (
	"context"
	"sync"

	"github.com/odod-dev/odod/cluster"
)

// clientCache keeps one cluster client per namespace for the life of a
// command: odod watch checks its pod every few seconds, and each new
// client costs a discovery round trip.
type clientCache struct {
	mu      sync.Mutex
	clients map[string]*cluster.Client
}

func (c *clientCache) connect(ctx context.Context, opts cluster.Options) (*cluster.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[opts.Namespace]; ok {
		return cl, nil
	}
	cl, err := cluster.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	if c.clients == nil {
		c.clients = map[string]*cluster.Client{}
	}
	c.clients[opts.Namespace] = cl
	return cl, nil
}
