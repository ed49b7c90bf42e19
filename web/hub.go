package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
	"github.com/evote/evote/web/protocol"
	"github.com/evote/evote/wire"
)

// txOutcome is where a transaction landed and its block result.
type txOutcome struct {
	height int64
	index  int
	code   wire.Code
	log    string
}

// hub follows the node's blocks with one subscription and fans them out:
// to casts waiting for their transaction, and to the connections
// subscribed to a topic.
type hub struct {
	s      *Server
	name   string // subscriber name at the node's event bus
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	waiters map[[32]byte][]chan txOutcome
	topics  map[string]map[*conn]struct{}
	byConn  map[*conn]map[string]struct{} // the same subscriptions by connection
	subs    int                           // number of (connection, topic) pairs
	last    int64                         // height of the last block processed
}

const newBlockQuery = "tm.event='NewBlock'"

// startHub subscribes to the node's new blocks.
func startHub(s *Server) (*hub, error) {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	h := &hub{s: s, name: "evote-web-" + hex.EncodeToString(nonce[:]), done: make(chan struct{}),
		waiters: map[[32]byte][]chan txOutcome{}, topics: map[string]map[*conn]struct{}{}, byConn: map[*conn]map[string]struct{}{}}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	ch, err := s.rpc.Subscribe(ctx, h.name, newBlockQuery, 100)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("web: subscribing to new blocks: %w", err)
	}
	go h.run(ctx, ch)
	return h, nil
}

func (h *hub) stop() {
	h.cancel()
	<-h.done
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = h.s.rpc.UnsubscribeAll(ctx, h.name)
}

func (h *hub) run(ctx context.Context, ch <-chan ctypes.ResultEvent) {
	defer close(h.done)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			nb, ok := ev.Data.(types.EventDataNewBlock)
			if !ok || nb.Block == nil {
				continue
			}
			h.fillGap(ctx, nb.Block.Height)
			h.process(nb.Block, nb.BlockID, nb.ResultFinalizeBlock.TxResults)
		}
	}
}

// fillGap fetches blocks the subscription missed (the node's event bus
// drops events for a full channel), at most 100.
func (h *hub) fillGap(ctx context.Context, height int64) {
	h.mu.Lock()
	last := h.last
	h.mu.Unlock()
	if last == 0 || height <= last+1 {
		return
	}
	from := max(last+1, height-100)
	for k := from; k < height; k++ {
		rb, err := h.s.rpc.Block(ctx, &k)
		if err != nil || rb == nil || rb.Block == nil {
			return
		}
		rr, err := h.s.rpc.BlockResults(ctx, &k)
		if err != nil || rr == nil {
			return
		}
		h.process(rb.Block, rb.BlockID, rr.TxResults)
	}
}

func (h *hub) process(b *types.Block, id types.BlockID, results []*abci.ExecTxResult) {
	h.mu.Lock()
	if b.Height <= h.last {
		h.mu.Unlock()
		return
	}
	h.last = b.Height
	hashes := make([]string, len(b.Txs))
	for i, tx := range b.Txs {
		sum := sha256.Sum256(tx)
		hashes[i] = hex.EncodeToString(sum[:])
		var out txOutcome
		out.height, out.index = b.Height, i
		if i < len(results) && results[i] != nil {
			out.code, out.log = wire.Code(results[i].Code), results[i].Log
		}
		for _, w := range h.waiters[sum] {
			select {
			case w <- out:
			default:
			}
		}
		delete(h.waiters, sum)
	}
	var events []topicEvent
	if len(h.topics[protocol.TopicBlocks]) > 0 {
		t := b.Time
		events = append(events, topicEvent{protocol.TopicBlocks, &protocol.Message{Type: protocol.TypeBlock, Height: b.Height, Hash: hex.EncodeToString(id.Hash), Time: &t, Txs: hashes}})
	}
	for i, r := range results {
		if r == nil || r.Code != 0 || i >= len(hashes) {
			continue
		}
		for _, e := range r.Events {
			var typ, action string
			switch e.Type {
			case "ballot":
				typ = protocol.TypeBallot
			case "audit":
				typ = protocol.TypeAudited
			case "election", "totals", "share", "result":
				typ, action = protocol.TypeElection, e.Type
			default:
				continue
			}
			m := &protocol.Message{Type: typ, Height: b.Height, TxHash: hashes[i], Action: action}
			for _, a := range e.Attributes {
				switch a.Key {
				case "election":
					m.Election = a.Value
				case "tracking_code":
					m.TrackingCode = a.Value
				case "replaces":
					m.Replaces = a.Value
				case "action":
					m.Action = a.Value
				case "trustee":
					m.Trustee = a.Value
				}
			}
			if topic := protocol.TopicBallots + m.Election; len(h.topics[topic]) > 0 {
				events = append(events, topicEvent{topic, m})
			}
		}
	}
	type delivery struct {
		c   *conn
		msg *protocol.Message
	}
	var out []delivery
	for _, e := range events {
		for c := range h.topics[e.topic] {
			out = append(out, delivery{c, e.msg})
		}
	}
	h.mu.Unlock()
	for _, d := range out {
		d.c.event(d.msg)
	}
}

type topicEvent struct {
	topic string
	msg   *protocol.Message
}

// watch registers interest in a transaction's block. The channel receives
// at most one outcome; cancel forgets the registration.
func (h *hub) watch(hash [32]byte) (<-chan txOutcome, func()) {
	ch := make(chan txOutcome, 1)
	h.mu.Lock()
	h.waiters[hash] = append(h.waiters[hash], ch)
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		ws := h.waiters[hash]
		for i, w := range ws {
			if w == ch {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(h.waiters, hash)
		} else {
			h.waiters[hash] = ws
		}
	}
}

// subscribe adds c's subscriptions to topics, unless c would then have more
// than maxTopics distinct topics, or the node more than
// Config.MaxSubscriptions subscriptions. A topic c already has is not
// counted again.
func (h *hub) subscribe(c *conn, topics []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	have := h.byConn[c]
	var add []string
	for _, t := range topics {
		if _, ok := have[t]; !ok && !slices.Contains(add, t) {
			add = append(add, t)
		}
	}
	if n := len(have) + len(add); n > maxTopics {
		return fmt.Errorf("at most %d topics per connection (this one would have %d)", maxTopics, n)
	}
	if h.subs+len(add) > h.s.cfg.MaxSubscriptions {
		return fmt.Errorf("the node serves its maximum of %d subscriptions; try another node or later", h.s.cfg.MaxSubscriptions)
	}
	if have == nil && len(add) > 0 {
		have = map[string]struct{}{}
		h.byConn[c] = have
	}
	for _, t := range add {
		have[t] = struct{}{}
		if h.topics[t] == nil {
			h.topics[t] = map[*conn]struct{}{}
		}
		h.topics[t][c] = struct{}{}
	}
	h.subs += len(add)
	return nil
}

func (h *hub) unsubscribeAll(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t := range h.byConn[c] {
		cs := h.topics[t]
		delete(cs, c)
		if len(cs) == 0 {
			delete(h.topics, t)
		}
	}
	h.subs -= len(h.byConn[c])
	delete(h.byConn, c)
}

// subscriptions returns the number of (connection, topic) pairs.
func (h *hub) subscriptions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subs
}
