package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/gorilla/websocket"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/web/protocol"
)

// Server serves evote's websocket and HTTP API of one authority node.
type Server struct {
	cfg      Config
	app      *chain.App
	rpc      rpcclient.Client
	blocks   *blockCache
	chainID  string
	log      *slog.Logger
	upgrader websocket.Upgrader
	mux      *http.ServeMux
	handler  http.Handler // mux behind the Host check
	ui       uiState      // the pages (ui.go)
	hosts    map[string]bool
	errs     *errorLog
	newConns *buckets     // new websockets per client address
	casts    *buckets     // casts and audits per client address
	reads    *buckets     // public RPC calls and record downloads per client address
	records  archives     // exported records for /api/elections/{id}/record.tar
	health   func() error // the node's own health (SetHealth); nil: none

	// base is the parent of every connection's context; cancelling it
	// ends the waits of casts in flight (they answer "pending").
	base       context.Context
	cancelBase context.CancelFunc

	hubMu sync.Mutex
	hub   *hub

	mu       sync.Mutex
	conns    map[*conn]struct{}
	perIP    map[string]int
	draining bool
	connWG   sync.WaitGroup
	inflight sync.WaitGroup
}

// New returns a server for the node whose application is app, reached
// through client (CometBFT's in-process rpc/client/local client, or any
// started client), on the chain chainID.
func New(cfg Config, app *chain.App, client rpcclient.Client, chainID string) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, app: app, rpc: client, blocks: newBlockCache(client, 16), chainID: chainID, log: cfg.Logger.With("component", "web"),
		conns: map[*conn]struct{}{}, perIP: map[string]int{}, hosts: map[string]bool{},
		newConns: newBuckets(cfg.ConnRate, cfg.ConnBurst), casts: newBuckets(cfg.CastRate, cfg.CastBurst), reads: newBuckets(cfg.ReadRate, cfg.ReadBurst)}
	s.errs = newErrorLog(s.log, cfg.ErrorSummaryInterval)
	for _, h := range cfg.PublicHosts {
		if n, ok := normalHost(h); ok {
			s.hosts[n] = true
		} else {
			s.log.Warn("web: ignoring an invalid public host", "host", h)
		}
	}
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		CheckOrigin:      s.originAllowed,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			s.errs.note(fmt.Sprintf("handshake %d", status), clientKey(r), "web: websocket handshake refused", "err", reason)
			writeError(w, r, status, 0, "web: websocket handshake: "+reason.Error())
		},
	}
	s.routes()
	s.mountUI()
	s.handler = s.checkHost(s.mux)
	return s
}

// Handler returns the server's HTTP handler: /ws, /api/..., /healthz and
// the pages (ui.go), behind the check of the Host header
// (Config.PublicHosts).
func (s *Server) Handler() http.Handler { return s.handler }

// checkHost refuses requests whose Host is neither a public host of the node
// nor a loopback host, except for /healthz.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && !s.hostAllowed(r.Host) {
			s.errs.note("host 421", clientKey(r), "web: request for another host", "host", r.Host)
			msg := fmt.Sprintf("web: host %q is not a name of this node; its operator lists the public names with --public-host (public_hosts in evote.toml)", safe(r.Host))
			if r.Host == "" {
				msg = "web: the request names no host"
			}
			writeError(w, r, http.StatusMisdirectedRequest, 0, msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a Host header names the node: one of
// Config.PublicHosts, or a loopback host (for local use).
func (s *Server) hostAllowed(host string) bool {
	n, ok := normalHost(host)
	if !ok {
		return false
	}
	if s.hosts[n] || n == "localhost" || strings.HasSuffix(n, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(n)
	return err == nil && a.Unmap().IsLoopback()
}

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully (see Shutdown).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("web: serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		s.stopHub()
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace+10*time.Second)
	defer cancel()
	// Stop accepting connections and finish plain HTTP requests; websockets
	// are hijacked and closed by Shutdown.
	err := hs.Shutdown(sctx)
	if err2 := s.Shutdown(sctx); err == nil {
		err = err2
	}
	<-errc
	return err
}

// Shutdown drains the server: new websocket connections are refused and new
// casts answered with an error; casts in flight get up to
// Config.ShutdownGrace to be committed (then "pending"); then every
// websocket is closed with 1001 "going away". It does not stop an
// http.Server: Serve does both.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	defer s.records.removeAll()
	drained := make(chan struct{})
	go func() { s.inflight.Wait(); close(drained) }()
	grace := time.NewTimer(s.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-drained:
	case <-grace.C:
	case <-ctx.Done():
	}
	s.cancelBase()
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
	}
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(protocol.CloseGoingAway, "server shutting down")
	}
	closed := make(chan struct{})
	go func() { s.connWG.Wait(); close(closed) }()
	var err error
	select {
	case <-closed:
	case <-ctx.Done():
		err = fmt.Errorf("web: shutdown: %d connections still open: %w", len(conns), ctx.Err())
	}
	s.stopHub()
	s.errs.flush()
	return err
}

func (s *Server) getHub() (*hub, error) {
	s.hubMu.Lock()
	defer s.hubMu.Unlock()
	if s.hub != nil {
		return s.hub, nil
	}
	h, err := startHub(s)
	if err != nil {
		return nil, err
	}
	s.hub = h
	return h, nil
}

func (s *Server) stopHub() {
	s.hubMu.Lock()
	h := s.hub
	s.hub = nil
	s.hubMu.Unlock()
	if h != nil {
		h.stop()
	}
}

// originAllowed implements Config.AllowedOrigins. The Host it compares
// with has passed checkHost.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// takeCast takes a token of the cast bucket of a client address (clientKey).
func (s *Server) takeCast(ip string) (bool, time.Duration) { return s.casts.take(ip) }

// startInflight registers a cast in flight unless the server is draining.
func (s *Server) startInflight() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.inflight.Add(1)
	return true
}

// serveWS upgrades a request to a websocket and runs the connection.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ip := clientKey(r)
	if ok, wait := s.newConns.take(ip); !ok {
		s.errs.note("conn-rate 429", ip, "web: connection rate exceeded")
		retryAfter(w, wait)
		writeError(w, r, http.StatusTooManyRequests, 0, fmt.Sprintf("web: more than %g new connections per second from %s; retry later", s.cfg.ConnRate, ip))
		return
	}
	s.mu.Lock()
	switch {
	case s.draining:
		s.mu.Unlock()
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: the server is shutting down")
		return
	case s.perIP[ip] >= s.cfg.MaxConnsPerIP:
		s.mu.Unlock()
		s.errs.note("conns 429", ip, "web: too many connections")
		retryAfter(w, time.Second)
		writeError(w, r, http.StatusTooManyRequests, 0, fmt.Sprintf("web: more than %d connections from %s", s.cfg.MaxConnsPerIP, ip))
		return
	}
	s.perIP[ip]++
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
	}
	h, err := s.getHub()
	if err != nil {
		release()
		s.log.Error("web: no block subscription", "err", err)
		writeError(w, r, http.StatusServiceUnavailable, 0, "web: the node's events are not available")
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		release()
		// The upgrader's Error noted it.
		return
	}
	c := newConn(s, h, ws, ip)
	s.mu.Lock()
	draining := s.draining
	if !draining {
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
	}
	s.mu.Unlock()
	if draining {
		release()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = ws.Close()
		return
	}
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		release()
		s.connWG.Done()
	}()
	c.run()
}

var errDraining = errors.New("web: the server is shutting down; reconnect to another node")
