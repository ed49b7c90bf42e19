package main

import (
	"context"
	"net"
	"net/netip"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/web"
)

// webLimitFlags set the web server's per-address limits. They default to
// what a public deployment needs; a load test from one machine, where every
// simulated voter shares 127.0.0.1, raises them. Environment variables let
// `evote cluster start` pass them to its nodes.
var webLimitFlags = []cli.Flag{
	&cli.IntFlag{Name: "max-conns-per-ip", EnvVars: []string{"EVOTE_MAX_CONNS_PER_IP"}, Usage: "websocket connections allowed from one address (default 32)"},
	&cli.Float64Flag{Name: "cast-rate-per-ip", EnvVars: []string{"EVOTE_CAST_RATE_PER_IP"}, Usage: "casts and audits per second allowed from one address (default 5, burst 4× the rate)"},
	&cli.StringSliceFlag{Name: "allow-origin", EnvVars: []string{"EVOTE_ALLOW_ORIGIN"}, Usage: "a browser `ORIGIN` allowed to use the API across origins (repeatable; default: same host only)"},
	&cli.StringSliceFlag{Name: "peer-http", EnvVars: []string{envPeerHTTP}, Usage: "another authority node's public HTTP `URL` (repeatable): the voters' page moves to it when this node is unreachable and compares authority sets with it; its origin is allowed"},
	&cli.StringSliceFlag{Name: "public-host", EnvVars: []string{"EVOTE_PUBLIC_HOST"}, Usage: "a `HOST` name voters reach this node by, e.g. vote.example.org (repeatable; with public_hosts of config/evote.toml): requests naming other hosts than these, the --http address and loopback are refused (421)"},
}

// envPeerHTTP carries the other nodes' HTTP URLs (comma-separated) to the
// nodes `evote cluster start` and `evote demo` run.
const envPeerHTTP = "EVOTE_PEER_HTTP"

// webPeers are the other nodes' HTTP URLs of this run of `evote node start`.
var webPeers []string

// webLimits is the web configuration of this run of `evote node start`.
var webLimits web.Config

func webLimitsFromFlags(c *cli.Context) web.Config {
	webPeers = c.StringSlice("peer-http")
	cfg := web.Config{MaxConnsPerIP: c.Int("max-conns-per-ip"), CastRate: c.Float64("cast-rate-per-ip"),
		AllowedOrigins: append(c.StringSlice("allow-origin"), webPeers...), PublicHosts: c.StringSlice("public-host")}
	// nodeStart has read evote.toml before (and stopped on an error).
	if ec, err := node.LoadEvoteConfig(c.String("home")); err == nil {
		cfg.PublicHosts = append(cfg.PublicHosts, ec.PublicHosts...)
	}
	if cfg.CastRate > 0 {
		cfg.CastBurst = int(4*cfg.CastRate) + 1
		cfg.MessageRate, cfg.MessageBurst = 4*cfg.CastRate, int(8*cfg.CastRate)+1
	}
	return cfg
}

// The voters' and observers' HTTP and websocket server of `evote node start`.
func init() {
	serveHTTP = func(ctx context.Context, addr string, n *node.Node, app *chain.App) error {
		cfg := webLimits
		// The address the server listens on names it too, unless it is
		// every interface.
		if h, _, err := net.SplitHostPort(addr); err == nil && h != "" {
			if ip, err := netip.ParseAddr(h); err != nil || !ip.IsUnspecified() {
				cfg.PublicHosts = append(cfg.PublicHosts[:len(cfg.PublicHosts):len(cfg.PublicHosts)], h)
			}
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		s := web.New(cfg, app, n.Client(), n.ChainID())
		s.SetNodes(append([]string{"http://" + addr}, webPeers...))
		s.SetHealth(n.Health)
		return s.ListenAndServe(ctx, addr)
	}
}
