package node

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"
)

// DefaultStallAfter is how long a node may go without a new block while a
// peer is ahead of it before Health reports it stalled.
const DefaultStallAfter = 20 * time.Second

// failure is the first reason the node cannot go on.
type failure struct {
	once sync.Once
	done chan struct{}
	err  error
}

func newFailure() *failure { return &failure{done: make(chan struct{})} }

func (f *failure) set(err error) {
	f.once.Do(func() {
		f.err = err
		close(f.done)
	})
}

// get returns the failure, or nil.
func (f *failure) get() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

// fataler is implemented by an application that can halt (chain.App).
type fataler interface{ Fatal() error }

// Failed is closed when the node can no longer make progress and must be
// stopped: its consensus failed (CometBFT's "CONSENSUS FAILURE!!!": a block
// it could not execute or commit, a consensus WAL it could not write, an app
// hash its peers disagree with) or its application halted on a store error.
// A supervisor (evote node start) then stops the process with Err: a node
// that cannot write must not linger as if it were healthy.
func (n *Node) Failed() <-chan struct{} { return n.failure.done }

// Err returns why the node failed, or nil while it runs.
func (n *Node) Err() error { return n.failure.get() }

// Health returns nil while the node makes progress, else why not: it failed
// (Err), or its last block has not changed for StallAfter while a peer is at
// least two blocks ahead.
func (n *Node) Health() error {
	if err := n.Err(); err != nil {
		return err
	}
	n.progress.Lock()
	defer n.progress.Unlock()
	if n.progress.stalled != nil {
		return n.progress.stalled
	}
	return nil
}

// progress is what the node's monitor last saw.
type progress struct {
	sync.Mutex
	height   int64
	changed  time.Time
	stalled  error
	reported time.Time // when stalled was last logged
}

// missingPeers returns the persistent peers (ID@host:port, comma-separated)
// the node is not connected to, as ID@host:port, and how many there are.
func missingPeers(persistent string, connected []p2p.Peer) ([]string, int) {
	on := map[string]bool{}
	for _, p := range connected {
		on[string(p.ID())] = true
	}
	var missing []string
	total := 0
	for _, pp := range strings.Split(persistent, ",") {
		pp = strings.TrimSpace(pp)
		if pp == "" {
			continue
		}
		total++
		id, _, _ := strings.Cut(pp, "@")
		if !on[id] {
			missing = append(missing, pp)
		}
	}
	return missing, total
}

// monitor samples the node every interval until stop: the application's
// halt becomes the node's failure, and the block height is compared with
// the peers'.
func (n *Node) monitor(interval, stallAfter time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-n.failure.done:
			return
		case <-t.C:
		}
		if f, ok := n.app.(fataler); ok {
			if err := f.Fatal(); err != nil {
				n.failure.set(fmt.Errorf("node: the application halted: %w", err))
				return
			}
		}
		h := n.cmt.BlockStore().Height()
		peers := n.cmt.Switch().Peers().Copy()
		peer := maxPeerHeight(peers)
		now := time.Now()
		n.progress.Lock()
		if h != n.progress.height || n.progress.changed.IsZero() {
			n.progress.height, n.progress.changed = h, now
		}
		n.progress.stalled = nil
		since := now.Sub(n.progress.changed)
		switch {
		case since >= stallAfter && peer >= h+2:
			n.progress.stalled = fmt.Errorf("node: stalled: no new block for %s at height %d while a peer is at height %d", since.Round(time.Second), h, peer)
		case since >= stallAfter:
			if missing, total := missingPeers(n.cfg.P2P.PersistentPeers, peers); len(missing) > 0 {
				n.progress.stalled = fmt.Errorf("node: no new block for %s at height %d: connected to %d of the %d persistent peers; not connected: %s. "+
					"Likely causes: those nodes are down or unreachable (firewall, a wrong address in persistent_peers), "+
					"or several nodes share a host or a NAT and were not set up for it (evote node init --private-network; "+
					"CometBFT then logs \"Cannot add non-routable address\"). Without more than 2/3 of the voting power connected no block is made",
					since.Round(time.Second), h, total-len(missing), total, strings.Join(missing, ", "))
			}
		}
		stalled := n.progress.stalled
		report := stalled != nil && now.Sub(n.progress.reported) >= time.Minute
		if report {
			n.progress.reported = now
		}
		n.progress.Unlock()
		if report {
			n.log.Warn(stalled.Error())
		}
	}
}

// maxPeerHeight returns the highest height the peers' consensus states
// report (0 without peers).
func maxPeerHeight(peers []p2p.Peer) int64 {
	var m int64
	for _, p := range peers {
		if ps, ok := p.Get(types.PeerStateKey).(interface{ GetHeight() int64 }); ok {
			m = max(m, ps.GetHeight())
		}
	}
	return m
}

// errConsensus is the failure reported by CometBFT's consensus.
var errConsensus = errors.New("node: consensus failure")
