// Package client is a Go client of evote's websocket API (package web): it
// casts and audits ballots, waits for their receipts, asks for receipts by
// tracking code and follows blocks and ballots. It connects to the first
// reachable node of a list and fails over to the next when the connection
// is lost or the node goes silent (paused, partitioned or stuck: no pong to
// its pings, or no answer to a request, within a few seconds), without ever
// losing or double-counting a ballot: re-sending the same cast is safe (the
// chain rejects a duplicate with code 8, which the client takes as "already
// there" and fetches the receipt).
package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evote/evote/web/protocol"

	"github.com/cometbft/cometbft/types"
	"github.com/gorilla/websocket"

	"github.com/evote/evote/wire"
)

// Options configure a Client. Zero fields take the defaults shown.
type Options struct {
	// Header is sent with every websocket handshake (e.g. Origin).
	Header http.Header
	// ChainID and Validators, when both are set, make the client verify
	// every receipt with protocol.VerifyReceipt before returning it; pin the
	// validator set from the genesis.
	ChainID    string
	Validators *types.ValidatorSet
	// DialTimeout bounds one connection attempt (5 s).
	DialTimeout time.Duration
	// RetryDelay is the first pause after every node failed to connect; it
	// doubles up to 5 s (200 ms).
	RetryDelay time.Duration
	// PingInterval is how often the client pings the node (2 s).
	PingInterval time.Duration
	// SilenceTimeout closes a connection on which nothing, not even a pong,
	// arrived for that long, and fails over (5 s; at least twice
	// PingInterval). A paused or partitioned node closes nothing itself.
	SilenceTimeout time.Duration
	// AnswerTimeout closes a connection when a request (cast, audit,
	// receipt, subscribe) has no answer at all within it, and fails over:
	// a node that answers pings but whose mempool or store is stuck (8 s).
	AnswerTimeout time.Duration
	// Logger receives the client's logs (slog.Default()).
	Logger *slog.Logger
}

// Rejected is a request the chain (or the node) refused, with the chain's
// rejection code (chain.Code...).
type Rejected struct {
	Code   wire.Code
	Reason string
}

func (e *Rejected) Error() string {
	return fmt.Sprintf("client: rejected (code %d): %s", e.Code, e.Reason)
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("client: closed")

// Ack is the node's acceptance of a cast or an audit into its mempool.
type Ack struct {
	Election     string
	TrackingCode string
	TxHash       string
	// Duplicate says the ballot was already on the chain (a re-send).
	Duplicate bool
	kind      string
	payload   []byte
	sess      *session
	id        string
	ch        chan *protocol.Message
}

// Client is a connection to one node of a list, replaced by a connection to
// the next one when it is lost. Its methods are safe for concurrent use.
type Client struct {
	urls   []string
	opts   Options
	log    *slog.Logger
	dialer websocket.Dialer
	seq    atomic.Int64
	events chan *protocol.Message
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	cur    *session
	ready  chan struct{} // closed while cur is set
	next   int           // the url to try after cur's
	topics []string
}

type session struct {
	ws      *websocket.Conn
	url     string
	wmu     sync.Mutex
	mu      sync.Mutex
	pending map[string]chan *protocol.Message
	done    chan struct{}
}

// Dial connects to the first reachable node of urls ("ws://host:port/ws").
func Dial(ctx context.Context, urls []string, opts Options) (*Client, error) {
	if len(urls) == 0 {
		return nil, errors.New("client: no node addresses")
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 200 * time.Millisecond
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 2 * time.Second
	}
	if opts.SilenceTimeout <= 0 {
		opts.SilenceTimeout = 5 * time.Second
	}
	opts.SilenceTimeout = max(opts.SilenceTimeout, 2*opts.PingInterval)
	if opts.AnswerTimeout <= 0 {
		opts.AnswerTimeout = 8 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Client{urls: urls, opts: opts, log: opts.Logger.With("component", "client"),
		dialer: websocket.Dialer{HandshakeTimeout: opts.DialTimeout}, events: make(chan *protocol.Message, 256), ready: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	var errs []error
	for i := range urls {
		s, err := c.connect(ctx, i)
		if err == nil {
			c.install(s, i+1)
			return c, nil
		}
		errs = append(errs, err)
	}
	c.cancel()
	return nil, fmt.Errorf("client: no node reachable: %w", errors.Join(errs...))
}

// Close closes the connection and stops failing over.
func (c *Client) Close() error {
	c.cancel()
	c.mu.Lock()
	s := c.cur
	c.mu.Unlock()
	if s != nil {
		s.wmu.Lock()
		_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		s.wmu.Unlock()
		_ = s.ws.Close()
	}
	return nil
}

// URL returns the address of the node the client is connected to, or "".
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return ""
	}
	return c.cur.url
}

func (c *Client) connect(ctx context.Context, i int) (*session, error) {
	url := c.urls[i%len(c.urls)]
	dctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	ws, _, err := c.dialer.DialContext(dctx, url, c.opts.Header)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", url, err)
	}
	return &session{ws: ws, url: url, pending: map[string]chan *protocol.Message{}, done: make(chan struct{})}, nil
}

// install makes s the current session and starts reading it.
func (c *Client) install(s *session, next int) {
	c.mu.Lock()
	c.cur, c.next = s, next
	close(c.ready)
	c.mu.Unlock()
	go c.readLoop(s)
	go c.keepAlive(s)
}

// keepAlive pings the node every PingInterval until the session ends; the
// read loop's deadline, moved on by every message and pong, ends a session
// whose node has gone silent.
func (c *Client) keepAlive(s *session) {
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// WriteControl may run concurrently with the other writers.
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opts.PingInterval)); err != nil {
				return
			}
		case <-s.done:
			return
		}
	}
}

// drop closes a session whose node does not answer, and waits for its read
// loop to end (which fails over).
func (c *Client) drop(s *session, why string) {
	c.log.Warn("client: node not answering; failing over", "node", s.url, "reason", why)
	_ = s.ws.Close()
	<-s.done
}

func (c *Client) readLoop(s *session) {
	silence := c.opts.SilenceTimeout
	alive := func() { _ = s.ws.SetReadDeadline(time.Now().Add(silence)) }
	alive()
	s.ws.SetPongHandler(func(string) error { alive(); return nil })
	var readErr error
	defer func() {
		close(s.done)
		_ = s.ws.Close()
		c.mu.Lock()
		if c.cur == s {
			c.cur = nil
			c.ready = make(chan struct{})
		}
		c.mu.Unlock()
		if c.ctx.Err() == nil {
			var ne net.Error
			if errors.As(readErr, &ne) && ne.Timeout() {
				c.log.Warn("client: node silent; failing over", "node", s.url, "silent_for", silence)
			} else {
				c.log.Warn("client: connection lost; failing over", "node", s.url)
			}
			go c.reconnect()
		}
	}()
	for {
		_, b, err := s.ws.ReadMessage()
		if err != nil {
			readErr = err
			return
		}
		alive()
		var m protocol.Message
		if err := json.Unmarshal(b, &m); err != nil {
			c.log.Warn("client: bad message from node", "node", s.url, "err", err)
			continue
		}
		switch m.Type {
		case protocol.TypeBlock, protocol.TypeBallot, protocol.TypeAudited:
			select {
			case c.events <- &m:
			default:
				c.log.Warn("client: event dropped: the subscriber is slow", "type", m.Type)
			}
			continue
		}
		s.mu.Lock()
		ch := s.pending[m.ID]
		s.mu.Unlock()
		if ch == nil {
			if m.Type == protocol.TypeError {
				c.log.Warn("client: node reports an error", "node", s.url, "reason", m.Reason)
			}
			continue
		}
		select {
		case ch <- &m:
		default:
		}
	}
}

// reconnect tries the nodes in turn, from the one after the lost one, until
// one answers; then it subscribes again to the client's topics.
func (c *Client) reconnect() {
	delay := c.opts.RetryDelay
	c.mu.Lock()
	i := c.next
	c.mu.Unlock()
	for c.ctx.Err() == nil {
		for range c.urls {
			s, err := c.connect(c.ctx, i)
			i++
			if err != nil {
				c.log.Debug("client: node unreachable", "err", err)
				continue
			}
			c.install(s, i)
			c.log.Info("client: connected", "node", s.url)
			c.mu.Lock()
			topics := append([]string(nil), c.topics...)
			c.mu.Unlock()
			if len(topics) > 0 {
				if err := s.write(&protocol.Message{Type: protocol.TypeSubscribe, ID: c.newID(), Topics: topics}); err != nil {
					c.log.Warn("client: subscribing again", "err", err)
				}
			}
			return
		}
		select {
		case <-time.After(delay):
		case <-c.ctx.Done():
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (c *Client) newID() string { return "q" + strconv.FormatInt(c.seq.Add(1), 10) }

func (s *session) register(id string) chan *protocol.Message {
	ch := make(chan *protocol.Message, 8)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	return ch
}

func (s *session) forget(id string) {
	s.mu.Lock()
	delete(s.pending, id)
	s.mu.Unlock()
}

func (s *session) write(m *protocol.Message) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.ws.WriteJSON(m)
}

// session waits for a connection.
func (c *Client) session(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		s, ready := c.cur, c.ready
		c.mu.Unlock()
		if s != nil {
			return s, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("client: no connection: %w", ctx.Err())
		case <-c.ctx.Done():
			return nil, ErrClosed
		}
	}
}

// request sends m with a fresh id on the current connection and returns the
// channel of its answers.
func (c *Client) request(ctx context.Context, m protocol.Message) (*session, string, chan *protocol.Message, error) {
	for {
		s, err := c.session(ctx)
		if err != nil {
			return nil, "", nil, err
		}
		m.ID = c.newID()
		ch := s.register(m.ID)
		if err := s.write(&m); err != nil {
			s.forget(m.ID)
			_ = s.ws.Close() // the read loop notices and fails over
			<-s.done
			continue
		}
		return s, m.ID, ch, nil
	}
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Cast sends a cast ballot (the ballot.Cast encoding) and returns the
// node's acknowledgement, once the ballot passed the chain's checks and is
// in the node's mempool. A ballot already on the chain gives an Ack with
// Duplicate set. A ballot the chain refuses gives a *Rejected.
func (c *Client) Cast(ctx context.Context, electionID string, cast []byte) (*Ack, error) {
	return c.submit(ctx, protocol.KindBallot, electionID, cast)
}

// Audit sends an audited ballot like Cast: its JSON file, signed with the
// voter's credential (ballot.Election.SignAudit; the chain refuses an
// unsigned audit with code 5).
func (c *Client) Audit(ctx context.Context, electionID string, audit []byte) (*Ack, error) {
	return c.submit(ctx, protocol.KindAudit, electionID, audit)
}

func (c *Client) submit(ctx context.Context, kind, election string, payload []byte) (*Ack, error) {
	m := protocol.Message{Type: protocol.TypeCast, Election: election}
	if kind == protocol.KindAudit {
		m.Type, m.Audit = protocol.TypeAudit, json.RawMessage(payload)
	} else {
		m.Cast = base64.StdEncoding.EncodeToString(payload)
	}
	for {
		s, id, ch, err := c.request(ctx, m)
		if err != nil {
			return nil, err
		}
		answer := time.NewTimer(c.opts.AnswerTimeout)
		select {
		case <-answer.C:
			// No answer: send it again to the next node; the chain keeps
			// one copy.
			s.forget(id)
			c.drop(s, fmt.Sprintf("no answer to a %s within %v", m.Type, c.opts.AnswerTimeout))
		case a := <-ch:
			answer.Stop()
			switch a.Type {
			case protocol.TypeAck:
				return &Ack{Election: election, TrackingCode: a.TrackingCode, TxHash: a.TxHash, kind: kind, payload: payload, sess: s, id: id, ch: ch}, nil
			case protocol.TypeRejected:
				s.forget(id)
				if a.Code == wire.CodeDuplicate && a.TrackingCode != "" {
					return &Ack{Election: election, TrackingCode: a.TrackingCode, TxHash: a.TxHash, Duplicate: true, kind: kind, payload: payload}, nil
				}
				return nil, &Rejected{Code: a.Code, Reason: a.Reason}
			case protocol.TypeThrottled:
				s.forget(id)
				if err := wait(ctx, time.Duration(max(a.RetryAfterMS, 100))*time.Millisecond); err != nil {
					return nil, err
				}
			default: // an error: the node closes the connection
				s.forget(id)
				return nil, fmt.Errorf("client: %s: %s", a.Type, a.Reason)
			}
		case <-s.done:
			// Lost before the answer: send it again to the next node; the
			// chain keeps one copy.
			answer.Stop()
		case <-ctx.Done():
			answer.Stop()
			s.forget(id)
			return nil, ctx.Err()
		}
	}
}

// WaitCommitted waits until the acknowledged ballot is in a committed block
// and returns its receipt (verified when Options pin a validator set). After
// a lost connection or a "pending" answer it asks for the receipt by
// tracking code, and sends the ballot again if no node has it.
func (c *Client) WaitCommitted(ctx context.Context, ack *Ack) (*protocol.Receipt, error) {
	if ack.sess != nil && ack.ch != nil {
		defer ack.sess.forget(ack.id)
	wait:
		for {
			select {
			case m := <-ack.ch:
				switch m.Type {
				case protocol.TypeCommitted:
					return c.verified(m.Receipt)
				case protocol.TypeRejected:
					return nil, &Rejected{Code: m.Code, Reason: m.Reason}
				case protocol.TypePending:
					// No block held it for the node's commit timeout: that
					// node may be stuck; ask the others.
					c.drop(ack.sess, "no block within the node's commit timeout")
					break wait
				}
			case <-ack.sess.done:
				break wait
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	delay := 500 * time.Millisecond
	for {
		r, _, err := c.receipt(ctx, ack.Election, ack.TrackingCode)
		if err == nil {
			return r, nil
		}
		var rj *Rejected
		if !errors.As(err, &rj) || rj.Code != wire.CodeNotFound {
			return nil, err
		}
		// Not on the chain (yet): send it again; the chain keeps one copy.
		again, err := c.submit(ctx, ack.kind, ack.Election, ack.payload)
		if err != nil {
			return nil, err
		}
		if !again.Duplicate {
			return c.WaitCommitted(ctx, again)
		}
		if err := wait(ctx, delay); err != nil {
			return nil, err
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// Receipt asks for the receipt of a committed ballot by tracking code. It
// returns a *Rejected with wire.CodeNotFound when no such ballot is on the
// chain.
func (c *Client) Receipt(ctx context.Context, electionID, trackingCode string) (*protocol.Receipt, error) {
	r, _, err := c.receipt(ctx, electionID, trackingCode)
	return r, err
}

func (c *Client) receipt(ctx context.Context, election, code string) (*protocol.Receipt, bool, error) {
	for {
		s, id, ch, err := c.request(ctx, protocol.Message{Type: protocol.TypeReceipt, Election: election, TrackingCode: code})
		if err != nil {
			return nil, false, err
		}
		answer := time.NewTimer(c.opts.AnswerTimeout)
		select {
		case <-answer.C:
			s.forget(id)
			c.drop(s, fmt.Sprintf("no answer to a receipt request within %v", c.opts.AnswerTimeout))
		case m := <-ch:
			answer.Stop()
			s.forget(id)
			switch m.Type {
			case protocol.TypeReceipt:
				r, err := c.verified(m.Receipt)
				return r, m.Audited, err
			case protocol.TypeRejected:
				return nil, false, &Rejected{Code: m.Code, Reason: m.Reason}
			default:
				return nil, false, fmt.Errorf("client: %s: %s", m.Type, m.Reason)
			}
		case <-s.done:
			answer.Stop()
		case <-ctx.Done():
			answer.Stop()
			s.forget(id)
			return nil, false, ctx.Err()
		}
	}
}

func (c *Client) verified(r *protocol.Receipt) (*protocol.Receipt, error) {
	if r == nil {
		return nil, errors.New("client: the node sent no receipt")
	}
	if c.opts.Validators != nil && c.opts.ChainID != "" {
		if err := protocol.VerifyReceipt(r, c.opts.ChainID, c.opts.Validators); err != nil {
			return nil, fmt.Errorf("client: the node's receipt does not verify: %w", err)
		}
	}
	return r, nil
}

// Subscribe subscribes to topics (protocol.TopicBlocks, protocol.TopicBallots+id)
// and returns the channel of events, the same for every call. Events that
// the caller does not take in time are dropped. After a failover the client
// subscribes again; events of blocks committed meanwhile are not replayed.
func (c *Client) Subscribe(ctx context.Context, topics ...string) (<-chan *protocol.Message, error) {
	for {
		s, id, ch, err := c.request(ctx, protocol.Message{Type: protocol.TypeSubscribe, Topics: topics})
		if err != nil {
			return nil, err
		}
		answer := time.NewTimer(c.opts.AnswerTimeout)
		select {
		case <-answer.C:
			s.forget(id)
			c.drop(s, fmt.Sprintf("no answer to a subscribe request within %v", c.opts.AnswerTimeout))
		case m := <-ch:
			answer.Stop()
			s.forget(id)
			if m.Type != protocol.TypeSubscribed {
				return nil, fmt.Errorf("client: subscribe: %s: %s", m.Type, m.Reason)
			}
			c.mu.Lock()
			c.topics = append(c.topics, topics...)
			c.mu.Unlock()
			return c.events, nil
		case <-s.done:
			answer.Stop()
		case <-ctx.Done():
			answer.Stop()
			s.forget(id)
			return nil, ctx.Err()
		}
	}
}
