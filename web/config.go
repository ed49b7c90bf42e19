package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Config configures a Server. Zero fields take the defaults shown.
type Config struct {
	// AllowedOrigins lists the browser origins ("https://vote.example.org")
	// allowed to open a websocket and to read the HTTP API across origins.
	// Empty allows only pages served by the same host as the request; "*"
	// allows every origin (explicit opt-in). Requests without an Origin
	// header (non-browser clients) are always allowed.
	AllowedOrigins []string
	// PublicHosts are the host names (or IP addresses) voters and
	// observers reach the node by, such as "vote.example.org"; a port, if
	// given, is ignored. A request whose Host header names neither one of
	// them nor a loopback host (localhost, 127.0.0.0/8, ::1) is refused
	// with 421 Misdirected Request, so that a page of another site whose
	// name was made to resolve to the node (DNS rebinding) cannot use it.
	// /healthz answers whatever the Host.
	PublicHosts []string
	// MaxMessageSize bounds a websocket message from a client (1 MiB).
	MaxMessageSize int
	// MessageRate and MessageBurst are each connection's token bucket for
	// messages (20 per second, burst 40). A connection that exceeds it is
	// closed with 1008.
	MessageRate  float64
	MessageBurst int
	// MaxConnsPerIP caps the websocket connections of one remote address
	// (32); more are refused with HTTP 429.
	MaxConnsPerIP int
	// ConnRate and ConnBurst are each remote address's token bucket for new
	// websocket connections (MaxConnsPerIP/4 per second, at least 1, burst
	// MaxConnsPerIP); beyond it the handshake gets HTTP 429 and
	// Retry-After.
	ConnRate  float64
	ConnBurst int
	// MaxSubscriptions caps the subscriptions (a connection and a topic)
	// of the whole node (65,536; each connection has at most 8 topics). A
	// subscription beyond it is refused with close 1008.
	MaxSubscriptions int
	// CastRate and CastBurst are each remote address's token bucket for
	// casts and audits (5 per second, burst 20); beyond it the server
	// answers "throttled".
	CastRate  float64
	CastBurst int
	// ReadRate and ReadBurst are each remote address's token bucket for
	// calls of the public read-only RPC (/rpc, publicrpc.go: 200 per second,
	// burst 400, enough to export a record at the node's speed); beyond it
	// the answer is HTTP 429 with Retry-After.
	ReadRate  float64
	ReadBurst int
	// RecordMaxAge is how old the election record /api/elections/{id}/
	// record.tar serves may be (60 s): the node exports it at most that
	// often per election.
	RecordMaxAge time.Duration
	// MaxInFlight bounds the casts and audits of one connection waiting for
	// their commit (16); beyond it the server answers "throttled".
	MaxInFlight int
	// IdleTimeout closes a connection from which nothing (not even a pong)
	// arrived for this long (60 s); the server pings every 9/10 of it.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a client (10 s).
	WriteTimeout time.Duration
	// CommitTimeout is how long the server waits for a cast's block before
	// answering "pending" (30 s).
	CommitTimeout time.Duration
	// PollInterval is how often a waiting cast also asks the node's index
	// for its transaction, in case a block event was missed (2 s).
	PollInterval time.Duration
	// EventBuffer is the number of events queued for one connection (256);
	// a subscriber that falls further behind is disconnected.
	EventBuffer int
	// ShutdownGrace is how long a graceful shutdown waits for casts in
	// flight to be committed before answering "pending" (10 s).
	ShutdownGrace time.Duration
	// ErrorSummaryInterval is the period of the info line that sums up
	// the clients' protocol errors, each of which is logged at debug level
	// only (10 s).
	ErrorSummaryInterval time.Duration
	// Logger receives the server's logs (slog.Default()).
	Logger *slog.Logger
}

// Validate checks the fields that withDefaults cannot repair: each public
// host must be a host name or an IP address, with an optional port.
func (c Config) Validate() error {
	for _, h := range c.PublicHosts {
		if _, ok := normalHost(h); !ok {
			return fmt.Errorf("web: public host %q is not a host name or IP address (such as vote.example.org)", h)
		}
	}
	return nil
}

// normalHost returns the host of a Host header or a configured public host
// ("Vote.Example.org.:443", "[::1]:8080"): lower case, without port,
// brackets or final dot; ok is false for anything but a DNS name or an IP
// address.
func normalHost(h string) (string, bool) {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.WithZone("").String(), true
	}
	if h == "" || len(h) > 253 {
		return "", false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return "", false
			}
		}
	}
	return h, true
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxMessageSize, 1<<20)
	deff(&c.MessageRate, 20)
	def(&c.MessageBurst, 40)
	def(&c.MaxConnsPerIP, 32)
	deff(&c.ConnRate, max(1, float64(c.MaxConnsPerIP)/4))
	def(&c.ConnBurst, c.MaxConnsPerIP)
	def(&c.MaxSubscriptions, 65_536)
	deff(&c.CastRate, 5)
	def(&c.CastBurst, 20)
	deff(&c.ReadRate, 200)
	def(&c.ReadBurst, 400)
	defd(&c.RecordMaxAge, 60*time.Second)
	def(&c.MaxInFlight, 16)
	defd(&c.IdleTimeout, 60*time.Second)
	defd(&c.WriteTimeout, 10*time.Second)
	defd(&c.CommitTimeout, 30*time.Second)
	defd(&c.PollInterval, 2*time.Second)
	def(&c.EventBuffer, 256)
	defd(&c.ShutdownGrace, 10*time.Second)
	defd(&c.ErrorSummaryInterval, 10*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
