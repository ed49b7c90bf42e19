package web

import (
	"log/slog"
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
	// CastRate and CastBurst are each remote address's token bucket for
	// casts and audits (5 per second, burst 20); beyond it the server
	// answers "throttled".
	CastRate  float64
	CastBurst int
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
	// Logger receives the server's logs (slog.Default()).
	Logger *slog.Logger
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
	deff(&c.CastRate, 5)
	def(&c.CastBurst, 20)
	def(&c.MaxInFlight, 16)
	defd(&c.IdleTimeout, 60*time.Second)
	defd(&c.WriteTimeout, 10*time.Second)
	defd(&c.CommitTimeout, 30*time.Second)
	defd(&c.PollInterval, 2*time.Second)
	def(&c.EventBuffer, 256)
	defd(&c.ShutdownGrace, 10*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
