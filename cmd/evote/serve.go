package main

import (
	"context"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/web"
)

// The voters' and observers' HTTP and websocket server of `evote node start`.
func init() {
	serveHTTP = func(ctx context.Context, addr string, n *node.Node, app *chain.App) error {
		s := web.New(web.Config{}, app, n.Client(), n.ChainID())
		return s.ListenAndServe(ctx, addr)
	}
}
