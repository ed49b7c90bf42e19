package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cometbft/cometbft/mempool"
	"github.com/gorilla/websocket"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/web/protocol"
	"github.com/evote/evote/wire"
)

// closeWait is how long the server waits for the client's close frame
// after sending its own.
const closeWait = 2 * time.Second

// maxTopics bounds one connection's subscriptions: the distinct topics of
// all its subscribe messages.
const maxTopics = 8

// maxIDLength bounds the client-chosen id of a request, which every answer
// echoes.
const maxIDLength = 64

// conn is one websocket connection. The HTTP handler's goroutine reads
// (readLoop); one goroutine writes (writeLoop); each cast or audit in flight
// has its own goroutine.
type conn struct {
	s   *Server
	hub *hub
	ws  *websocket.Conn
	ip  string
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	out        chan []byte // messages to write, answers and events
	closeOnce  sync.Once
	closing    chan struct{} // closeWith was called
	closeFrame []byte
	readDone   chan struct{}
	writerDone chan struct{}

	msgs     *bucket
	inflight chan struct{} // semaphore of casts in flight
}

func newConn(s *Server, h *hub, ws *websocket.Conn, ip string) *conn {
	c := &conn{s: s, hub: h, ws: ws, ip: ip, log: s.log.With("remote", ip),
		out: make(chan []byte, s.cfg.EventBuffer), closing: make(chan struct{}),
		readDone: make(chan struct{}), writerDone: make(chan struct{}),
		msgs: newBucket(s.cfg.MessageRate, s.cfg.MessageBurst), inflight: make(chan struct{}, s.cfg.MaxInFlight)}
	c.ctx, c.cancel = context.WithCancel(s.base)
	return c
}

func (c *conn) run() {
	go c.writeLoop()
	c.readLoop()
	c.cancel()
	c.hub.unsubscribeAll(c)
	<-c.writerDone
}

// closeWith asks the writer to send a close frame (after what is queued)
// and end the connection. Only the first call counts.
func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeFrame = websocket.FormatCloseMessage(code, truncate(reason, 123))
		close(c.closing)
		// Bound the reader's wait for the client's close frame.
		_ = c.ws.SetReadDeadline(time.Now().Add(closeWait))
	})
}

func (c *conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// fail answers a bad message with an error naming the problem, then closes
// the connection with code. It is logged at debug level, and counted in the
// info summary of protocol errors (errorLog). An id that is not 1 to
// maxIDLength bytes is not echoed.
func (c *conn) fail(id string, code int, reason string) {
	if c.isClosing() {
		return
	}
	if len(id) > maxIDLength {
		id = ""
	}
	c.s.errs.note(fmt.Sprintf("close %d", code), c.ip, "web: closing connection", "code", code, "reason", reason)
	b, _ := encodeJSON(&protocol.Message{Type: protocol.TypeError, ID: id, Reason: reason, CloseCode: code})
	select {
	case c.out <- b:
	default:
	}
	c.closeWith(code, reason)
}

// send queues an answer; it blocks while the queue is full (the client is
// slow: only its own requests wait).
func (c *conn) send(m *protocol.Message) {
	b, err := encodeJSON(m)
	if err != nil {
		c.log.Error("web: encoding a message", "type", m.Type, "err", err)
		return
	}
	select {
	case c.out <- b:
	case <-c.closing:
	case <-c.writerDone:
	}
}

// event queues an event without blocking; a subscriber whose queue is full
// is disconnected rather than slowing the node down.
func (c *conn) event(m *protocol.Message) {
	b, err := encodeJSON(m)
	if err != nil {
		return
	}
	select {
	case c.out <- b:
	default:
		if !c.isClosing() {
			c.fail("", protocol.ClosePolicy, fmt.Sprintf("slow subscriber: more than %d messages queued", cap(c.out)))
		}
	}
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("web: panic in websocket writer", "panic", v, "stack", string(debug.Stack()))
			_ = c.ws.Close()
		}
	}()
	ping := time.NewTicker(c.s.cfg.IdleTimeout * 9 / 10)
	defer ping.Stop()
	write := func(b []byte) error {
		_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
		return c.ws.WriteMessage(websocket.TextMessage, b)
	}
	for {
		select {
		case b := <-c.out:
			if err := write(b); err != nil {
				_ = c.ws.Close()
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
				_ = c.ws.Close()
				return
			}
		case <-c.closing:
		drain:
			for {
				select {
				case b := <-c.out:
					if write(b) != nil {
						break drain
					}
				default:
					break drain
				}
			}
			_ = c.ws.WriteControl(websocket.CloseMessage, c.closeFrame, time.Now().Add(c.s.cfg.WriteTimeout))
			select {
			case <-c.readDone:
			case <-time.After(closeWait):
			}
			_ = c.ws.Close()
			return
		case <-c.readDone:
			_ = c.ws.Close()
			return
		}
	}
}

func (c *conn) readLoop() {
	defer close(c.readDone)
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("web: panic on client input", "panic", v, "stack", string(debug.Stack()))
			c.fail("", protocol.CloseInternal, "internal error")
		}
	}()
	max := c.s.cfg.MaxMessageSize
	idle := c.s.cfg.IdleTimeout
	// A message far over the limit is cut off by the websocket layer
	// itself (close 1009 without an error message); one a little over it
	// gets the error message below.
	c.ws.SetReadLimit(int64(4*max + 4096))
	_ = c.ws.SetReadDeadline(time.Now().Add(idle))
	// Control frames cost the node a read and, for a ping, a write: both
	// count in the connection's message rate like messages do.
	control := func(kind string) bool {
		if c.isClosing() {
			return false
		}
		if ok, _ := c.msgs.take(); !ok {
			c.fail("", protocol.ClosePolicy, fmt.Sprintf("rate limit: more than %g messages per second (%ss count)", c.s.cfg.MessageRate, kind))
			return false
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(idle))
		return true
	}
	c.ws.SetPongHandler(func(string) error {
		control("pong")
		return nil
	})
	c.ws.SetPingHandler(func(data string) error {
		if control("ping") {
			// A failed write ends the connection at the next read.
			_ = c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.s.cfg.WriteTimeout))
		}
		return nil
	})
	for {
		typ, rd, err := c.ws.NextReader()
		if err != nil {
			if !c.isClosing() && !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				c.log.Debug("web: connection ended", "err", err)
			}
			return
		}
		if c.isClosing() {
			// Discard until the client's close frame arrives.
			_, _ = io.Copy(io.Discard, rd)
			continue
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(idle))
		data, err := io.ReadAll(io.LimitReader(rd, int64(max)+1))
		if err != nil {
			return
		}
		if ok, _ := c.msgs.take(); !ok {
			c.fail("", protocol.ClosePolicy, fmt.Sprintf("rate limit: more than %g messages per second", c.s.cfg.MessageRate))
			continue
		}
		switch {
		case typ != websocket.TextMessage:
			c.fail("", protocol.CloseUnsupported, "binary messages are not supported: send JSON text messages")
		case len(data) > max:
			c.fail("", protocol.CloseTooBig, fmt.Sprintf("message over %d bytes", max))
		default:
			c.handle(data)
		}
	}
}

func (c *conn) handle(data []byte) {
	if !utf8.Valid(data) {
		c.fail("", protocol.CloseInvalidPayload, "message is not valid UTF-8")
		return
	}
	var m protocol.Message
	if err := json.Unmarshal(data, &m); err != nil {
		c.fail("", protocol.CloseInvalidPayload, "message is not a JSON object of the protocol: "+err.Error())
		return
	}
	switch {
	case m.ID == "":
		c.fail("", protocol.ClosePolicy, `missing field "id"`)
		return
	case len(m.ID) > maxIDLength:
		c.fail("", protocol.ClosePolicy, fmt.Sprintf("field \"id\" is %d bytes, more than %d", len(m.ID), maxIDLength))
		return
	case m.Type == "":
		c.fail(m.ID, protocol.ClosePolicy, `missing field "type"`)
		return
	}
	switch m.Type {
	case protocol.TypeCast:
		c.cast(&m)
	case protocol.TypeAudit:
		c.audit(&m)
	case protocol.TypeReceipt:
		c.receipt(&m)
	case protocol.TypeSubscribe:
		c.subscribe(&m)
	case protocol.TypePing: // a browser's heartbeat (docs/api.md)
		c.send(&protocol.Message{Type: protocol.TypePong, ID: m.ID})
	default:
		c.fail(m.ID, protocol.ClosePolicy, fmt.Sprintf("unknown message type %q", safe(m.Type)))
	}
}

// checkElection checks the election field.
func (c *conn) checkElection(m *protocol.Message) bool {
	if m.Election == "" || len(m.Election) > 64 {
		c.fail(m.ID, protocol.ClosePolicy, fmt.Sprintf("%s: field \"election\" must be 1 to 64 bytes", m.Type))
		return false
	}
	return true
}

func (c *conn) cast(m *protocol.Message) {
	if !c.checkElection(m) {
		return
	}
	if m.Cast == "" {
		c.fail(m.ID, protocol.ClosePolicy, `cast: missing field "cast"`)
		return
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(m.Cast)
	if err != nil {
		c.fail(m.ID, protocol.CloseInvalidPayload, "cast: field \"cast\" is not standard base64: "+err.Error())
		return
	}
	c.submit(m, protocol.KindBallot, wire.Encode(&wire.Ballot{ElectionID: m.Election, Cast: raw}), raw)
}

func (c *conn) audit(m *protocol.Message) {
	if !c.checkElection(m) {
		return
	}
	if len(m.Audit) == 0 || m.Audit[0] != '{' {
		c.fail(m.ID, protocol.ClosePolicy, `audit: field "audit" must be the audited ballot's JSON object`)
		return
	}
	// Compact it, so the same audit sent twice is the same transaction.
	var compact bytes.Buffer
	if err := json.Compact(&compact, m.Audit); err != nil {
		c.fail(m.ID, protocol.CloseInvalidPayload, "audit: "+err.Error())
		return
	}
	raw := compact.Bytes()
	c.submit(m, protocol.KindAudit, wire.Encode(&wire.Audit{ElectionID: m.Election, File: raw}), raw)
}

// submit sends a transaction to the node and answers: ack or rejected at
// once, then committed (or rejected, or pending) from a goroutine.
func (c *conn) submit(m *protocol.Message, kind string, tx, payload []byte) {
	if ok, wait := c.s.takeCast(c.ip); !ok {
		c.send(&protocol.Message{Type: protocol.TypeThrottled, ID: m.ID, RetryAfterMS: max(1, wait.Milliseconds()),
			Reason: fmt.Sprintf("more than %g casts per second from this address", c.s.cfg.CastRate)})
		return
	}
	select {
	case c.inflight <- struct{}{}:
	default:
		c.send(&protocol.Message{Type: protocol.TypeThrottled, ID: m.ID, RetryAfterMS: 1000,
			Reason: fmt.Sprintf("%d casts of this connection are waiting for a block", cap(c.inflight))})
		return
	}
	if !c.s.startInflight() {
		<-c.inflight
		c.send(&protocol.Message{Type: protocol.TypeError, ID: m.ID, Reason: errDraining.Error(), CloseCode: protocol.CloseGoingAway})
		return
	}
	id, election := m.ID, m.Election
	go func() {
		defer c.s.inflight.Done()
		defer func() { <-c.inflight }()
		defer func() {
			if v := recover(); v != nil {
				c.log.Error("web: panic while casting", "panic", v, "stack", string(debug.Stack()))
				c.fail(id, protocol.CloseInternal, "internal error")
			}
		}()
		c.broadcast(id, election, kind, tx, payload)
	}()
}

func (c *conn) broadcast(id, election, kind string, tx, payload []byte) {
	ctx := c.ctx
	hash := sha256.Sum256(tx)
	txHash := hex.EncodeToString(hash[:])
	outcome, forget := c.hub.watch(hash)
	defer forget()
	if kind == protocol.KindBallot && c.s.app != nil {
		// Verify the voter's proofs here, so that a bad ballot is refused
		// at once (CheckTx leaves a gossiped ballot's proofs to its block).
		c.s.app.VerifyBallot(ctx, tx)
	}
	res, err := c.s.rpc.BroadcastTxSync(ctx, tx)
	already := false
	switch {
	case err != nil && isTxInCache(err):
		// The node has seen it: it is in the mempool, or in a block (the
		// mempool's cache keeps committed transactions). Run the app's
		// check again, without the cache, to tell which: a ballot already
		// on the chain is rejected with code 8 like on any other node.
		chk, cerr := c.s.rpc.CheckTx(ctx, tx)
		if cerr == nil && chk.Code != 0 {
			c.send(&protocol.Message{Type: protocol.TypeRejected, ID: id, Code: wire.Code(chk.Code), Reason: chk.Log, TxHash: txHash,
				TrackingCode: c.s.trackingCode(ctx, election, kind, payload)})
			return
		}
		already = true
	case err != nil && rejection(err) != nil:
		rj := rejection(err)
		c.send(&protocol.Message{Type: protocol.TypeRejected, ID: id, Code: wire.Code(rj.Code), Reason: rj.Log, TxHash: txHash,
			TrackingCode: c.s.trackingCode(ctx, election, kind, payload)})
		return
	case err != nil && errors.As(err, new(mempool.ErrTxTooLarge)):
		c.send(&protocol.Message{Type: protocol.TypeRejected, ID: id, Code: wire.CodeMalformed, Reason: err.Error(), TxHash: txHash})
		return
	case err != nil:
		c.log.Warn("web: broadcast failed", "tx", txHash, "err", err)
		c.send(&protocol.Message{Type: protocol.TypeThrottled, ID: id, RetryAfterMS: 1000, Reason: "the node did not take the transaction: " + err.Error()})
		return
	case res.Code != 0:
		c.send(&protocol.Message{Type: protocol.TypeRejected, ID: id, Code: wire.Code(res.Code), Reason: res.Log, TxHash: txHash,
			TrackingCode: c.s.trackingCode(ctx, election, kind, payload)})
		return
	}
	tracking := c.s.trackingCode(ctx, election, kind, payload)
	c.send(&protocol.Message{Type: protocol.TypeAck, ID: id, Election: election, TrackingCode: tracking, TxHash: txHash})
	out, ok := c.s.waitCommit(ctx, hash, outcome, already)
	if !ok {
		c.send(&protocol.Message{Type: protocol.TypePending, ID: id, Election: election, TrackingCode: tracking, TxHash: txHash})
		return
	}
	if out.code != 0 {
		c.send(&protocol.Message{Type: protocol.TypeRejected, ID: id, Code: out.code, Reason: out.log, TxHash: txHash, TrackingCode: tracking, Height: out.height})
		return
	}
	r, err := c.s.blocks.receipt(ctx, election, kind, tracking, out.height, out.index, hash[:])
	if err != nil {
		c.log.Warn("web: building a receipt", "tx", txHash, "height", out.height, "err", err)
		c.send(&protocol.Message{Type: protocol.TypePending, ID: id, Election: election, TrackingCode: tracking, TxHash: txHash})
		return
	}
	c.send(&protocol.Message{Type: protocol.TypeCommitted, ID: id, Election: election, TrackingCode: tracking, TxHash: txHash, Receipt: r})
}

// rejectionRE matches mempool.ErrInvalidTx's message, as a remote RPC
// client returns it.
var rejectionRE = regexp.MustCompile(`is invalid: code=(\d+), data=[0-9A-F]*, log='(.*)', codespace=`)

// rejection returns the application's CheckTx rejection that err carries
// (CometBFT v1 reports a non-zero CheckTx code as a mempool.ErrInvalidTx
// error of BroadcastTxSync), or nil.
func rejection(err error) *mempool.ErrInvalidTx {
	var v mempool.ErrInvalidTx
	if errors.As(err, &v) {
		return &v
	}
	var p *mempool.ErrInvalidTx
	if errors.As(err, &p) && p != nil {
		return p
	}
	if m := rejectionRE.FindStringSubmatch(err.Error()); m != nil {
		code, perr := strconv.ParseUint(m[1], 10, 32)
		if perr == nil && code != 0 {
			return &mempool.ErrInvalidTx{Code: uint32(code), Log: m[2]}
		}
	}
	return nil
}

func isTxInCache(err error) bool {
	return errors.Is(err, mempool.ErrTxInCache) || strings.Contains(err.Error(), mempool.ErrTxInCache.Error())
}

// waitCommit waits for the transaction's block: from the block events, and
// every PollInterval from the node's transaction index (in case an event
// was missed). already says the node had the transaction before.
func (s *Server) waitCommit(ctx context.Context, hash [32]byte, outcome <-chan txOutcome, already bool) (txOutcome, bool) {
	if already {
		if o, ok := s.pollTx(ctx, hash); ok {
			return o, true
		}
	}
	timeout := time.NewTimer(s.cfg.CommitTimeout)
	defer timeout.Stop()
	poll := time.NewTicker(s.cfg.PollInterval)
	defer poll.Stop()
	for {
		select {
		case o := <-outcome:
			return o, true
		case <-poll.C:
			if o, ok := s.pollTx(ctx, hash); ok {
				return o, true
			}
		case <-timeout.C:
			return txOutcome{}, false
		case <-ctx.Done():
			return txOutcome{}, false
		}
	}
}

func (s *Server) pollTx(ctx context.Context, hash [32]byte) (txOutcome, bool) {
	r, err := s.rpc.Tx(ctx, hash[:], false)
	if err != nil || r == nil {
		return txOutcome{}, false
	}
	return txOutcome{height: r.Height, index: int(r.Index), code: wire.Code(r.TxResult.Code), log: r.TxResult.Log}, true
}

// trackingCode decodes a cast or audited ballot of the election and returns
// its tracking code, or "" if it does not decode.
func (s *Server) trackingCode(ctx context.Context, election, kind string, payload []byte) string {
	_, e, err := s.app.Election(ctx, election)
	if err != nil || e == nil {
		return ""
	}
	if kind == protocol.KindAudit {
		a, err := e.DecodeAudit(payload)
		if err != nil {
			return ""
		}
		return a.Ballot.TrackingCode()
	}
	h, err := e.CastHash(payload)
	if err != nil {
		return ""
	}
	return ballot.TrackingCode(h)
}

func (c *conn) receipt(m *protocol.Message) {
	if !c.checkElection(m) {
		return
	}
	if m.TrackingCode == "" || len(m.TrackingCode) > 128 {
		c.fail(m.ID, protocol.ClosePolicy, `receipt: field "tracking_code" must be 1 to 128 bytes`)
		return
	}
	r, audited, code, reason := c.s.lookupReceipt(c.ctx, m.Election, m.TrackingCode)
	if code != 0 {
		c.send(&protocol.Message{Type: protocol.TypeRejected, ID: m.ID, Code: code, Reason: reason, Election: m.Election, TrackingCode: m.TrackingCode})
		return
	}
	c.send(&protocol.Message{Type: protocol.TypeReceipt, ID: m.ID, Election: m.Election, TrackingCode: r.TrackingCode, TxHash: hex.EncodeToString(r.TxHash), Receipt: r, Audited: audited})
}

// lookupReceipt finds a committed ballot by tracking code and builds its
// receipt; on failure it returns a rejection code and reason.
func (s *Server) lookupReceipt(ctx context.Context, election, tracking string) (*protocol.Receipt, bool, wire.Code, string) {
	rec, audited, err := s.app.BallotByTrackingCode(ctx, election, tracking)
	if err != nil {
		var te *rules.Rejection
		if errors.As(err, &te) {
			return nil, false, te.Code, te.Msg
		}
		s.log.Error("web: reading a ballot record", "election", election, "err", err)
		return nil, false, wire.CodeInternal, "internal error reading the ballot record"
	}
	kind := protocol.KindBallot
	if audited {
		kind = protocol.KindAudit
	}
	r, err := s.blocks.receipt(ctx, election, kind, rec.TrackingCode, rec.Height, rec.Index, nil)
	if err != nil {
		s.log.Error("web: building a receipt", "election", election, "height", rec.Height, "err", err)
		return nil, false, wire.CodeInternal, "the node cannot read the ballot's block"
	}
	return r, audited, 0, ""
}

func (c *conn) subscribe(m *protocol.Message) {
	if len(m.Topics) == 0 || len(m.Topics) > maxTopics {
		c.fail(m.ID, protocol.ClosePolicy, fmt.Sprintf("subscribe: field \"topics\" must list 1 to %d topics", maxTopics))
		return
	}
	for _, t := range m.Topics {
		if t == protocol.TopicBlocks {
			continue
		}
		if id, ok := strings.CutPrefix(t, protocol.TopicBallots); ok && id != "" && len(id) <= 64 {
			continue
		}
		c.fail(m.ID, protocol.ClosePolicy, fmt.Sprintf("subscribe: unknown topic %q (want %q or %q followed by an election id)", safe(t), protocol.TopicBlocks, protocol.TopicBallots))
		return
	}
	if err := c.hub.subscribe(c, m.Topics); err != nil {
		c.fail(m.ID, protocol.ClosePolicy, "subscribe: "+err.Error())
		return
	}
	c.send(&protocol.Message{Type: protocol.TypeSubscribed, ID: m.ID, Topics: m.Topics})
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// safe shortens client-supplied text quoted in an error.
func safe(s string) string { return truncate(s, 64) }
