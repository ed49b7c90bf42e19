package tally

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// Config configures a Service.
type Config struct {
	// Client is an RPC client of one authority node: an HTTP/websocket
	// client (started, so that subscriptions work) in production, the
	// node's in-process client in tests.
	Client rpcclient.Client
	// ElectionID is the election to tally.
	ElectionID string
	// Store keeps the service's state; the caller opens and closes it. One
	// store holds one election.
	Store store.Store
	// Logger receives the service's log; slog.Default() if nil.
	Logger *slog.Logger
	// PollInterval is how often the service asks the node for new blocks
	// when no NewBlock notification arrives; 2 s if zero.
	PollInterval time.Duration
}

// States of the service, as Progress reports them.
const (
	StateWaitingForElection = "waiting-for-election" // not on the chain yet, or its key ceremony is not finished
	StateFollowing          = "following"            // adding ballots as blocks come
	StateWaitingForShares   = "waiting-for-shares"   // totals published; fewer than k decryption shares
	StateTallied            = "tallied"              // the result is on the chain and checked
	StateAlarm              = "alarm"                // the chain and the service disagree (AlarmError)
)

// Service follows one node's chain and tallies one election: it applies the
// election's transactions with the chain's rules (package rules) to its own
// store, so that it holds the election's state, encrypted running totals
// included, as it derived it; it publishes the totals at close, combines the
// trustees' decryption shares and publishes the result.
type Service struct {
	c   rpcclient.Client
	st  store.Store
	log *slog.Logger
	id  string

	poll time.Duration

	// afterBlock, if set, runs after each committed height (tests).
	afterBlock func(height int64)

	step sync.Mutex // one Step at a time

	pre *rules.Prechecked // the rules' Checker

	mu sync.Mutex // guards the fields below
	// rules are the chain's, made from its genesis at the first Step (nil
	// before); appState is the genesis app_state.
	rules       *rules.Rules
	appState    []byte
	bind        *binding
	s           *state
	reload      bool // the store's outcome of a Commit is unknown
	chainHeight int64
	rec         *rules.ElectionRecord // last seen on the chain
	alarm       *AlarmError
	lastErr     string
	computed    []uint64 // counts decrypted by the service
	checked     bool     // the result on the chain equals computed
	badShares   []int
	table       *crypto.DlogTable

	runMu   sync.Mutex
	cancel  context.CancelFunc
	running chan struct{}
}

// New returns a service over cfg.Store. A store that already holds the
// election resumes from its last processed height; New does not contact the
// node.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Store == nil {
		return nil, errors.New("tally: a node client and a store are needed")
	}
	if !ballot.ValidID(cfg.ElectionID) {
		return nil, fmt.Errorf("tally: %q is not an election id", cfg.ElectionID)
	}
	s := &Service{c: cfg.Client, st: cfg.Store, log: cfg.Logger, id: cfg.ElectionID, poll: cfg.PollInterval,
		pre: &rules.Prechecked{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("election", cfg.ElectionID)
	if s.poll <= 0 {
		s.poll = 2 * time.Second
	}
	raw, err := cfg.Store.Get(ctx, bucketMeta, keyBinding)
	if errors.Is(err, store.ErrNotFound) {
		last, err := cfg.Store.LastBlock(ctx)
		if err != nil {
			return nil, fmt.Errorf("tally: reading the store: %w", err)
		}
		if last.Height != 0 {
			return nil, fmt.Errorf("tally: the store is at height %d but holds no election: it belongs to something else", last.Height)
		}
		return s, nil
	} else if err != nil {
		return nil, fmt.Errorf("tally: reading the store: %w", err)
	}
	var b binding
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("tally: reading the store: binding: %w", err)
	}
	if b.ElectionID != cfg.ElectionID {
		return nil, fmt.Errorf("tally: the store holds election %q, not %q", b.ElectionID, cfg.ElectionID)
	}
	if _, err := cfg.Store.Get(ctx, rules.BucketMeta, []byte("chain-id")); errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("tally: the store of election %q was made by an older version of the tally service, which kept its own totals instead of the rules' state; remove it and start over (the service processes the chain again from height 1)", cfg.ElectionID)
	} else if err != nil {
		return nil, fmt.Errorf("tally: reading the store: %w", err)
	}
	if err := s.setBinding(ctx, &b); err != nil {
		return nil, err
	}
	return s, nil
}

// setBinding binds the service to b and loads its state from the store.
func (s *Service) setBinding(ctx context.Context, b *binding) error {
	st, err := loadState(ctx, s.st, b.ElectionID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.bind, s.s = b, st
	s.mu.Unlock()
	return nil
}

// setRules makes the chain's rules from its genesis, read from the node,
// once.
func (s *Service) setRules(ctx context.Context, chainID string) error {
	s.mu.Lock()
	done := s.rules != nil
	s.mu.Unlock()
	if done {
		return nil
	}
	g, err := s.c.Genesis(ctx)
	if err != nil {
		return fmt.Errorf("tally: node genesis: %w", err)
	}
	if g.Genesis == nil || g.Genesis.ChainID != chainID {
		return fmt.Errorf("tally: the node's genesis is not that of its chain %q", chainID)
	}
	return s.useGenesis(ctx, chainID, g.Genesis.AppState)
}

// useGenesis makes the rules of chain chainID whose genesis app_state is
// appState, after checking that it is the genesis the store was made with.
func (s *Service) useGenesis(ctx context.Context, chainID string, appState []byte) error {
	_, officials, err := chain.ParseGenesisState(appState)
	if err != nil {
		return fmt.Errorf("tally: node genesis: %w", err)
	}
	for _, w := range rules.GenesisWrites(chainID, appState) {
		stored, err := s.st.Get(ctx, w.Bucket, w.Key)
		if errors.Is(err, store.ErrNotFound) {
			continue // a new store: written with block 1
		} else if err != nil {
			return fmt.Errorf("tally: reading the store: %w", err)
		}
		if !bytes.Equal(stored, w.Value) {
			return fmt.Errorf("tally: the node's genesis (its %s) is not the one the store was made with", w.Key)
		}
	}
	r := rules.New(chainID, officials)
	r.Checks = s.pre
	s.mu.Lock()
	s.rules, s.appState = r, appState
	s.mu.Unlock()
	return nil
}

// Step catches up with the node once and does what the election's phase
// calls for: publish the totals after close, combine the decryption shares
// and publish the result once k are on the chain. It reports whether the
// election is tallied (and the result checked). An *AlarmError is final:
// every later Step returns it again.
func (s *Service) Step(ctx context.Context) (bool, error) {
	s.step.Lock()
	defer s.step.Unlock()
	if a := s.getAlarm(); a != nil {
		return false, a
	}
	tallied, err := s.step1(ctx)
	var a *AlarmError
	if errors.As(err, &a) {
		s.mu.Lock()
		if a.Height == 0 && s.s != nil {
			a.Height = s.s.height + 1
		}
		s.alarm = a
		s.mu.Unlock()
		s.log.Error("tally: ALARM: the chain and the tally service disagree; stopping", "height", a.Height, "item", a.Item, "detail", a.Detail)
	}
	s.mu.Lock()
	s.lastErr = ""
	if err != nil {
		s.lastErr = err.Error()
	}
	s.mu.Unlock()
	return tallied, err
}

func (s *Service) getAlarm() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.alarm != nil {
		return s.alarm
	}
	return nil
}

func (s *Service) step1(ctx context.Context) (bool, error) {
	s.mu.Lock()
	reload := s.reload && s.bind != nil
	b := s.bind
	s.mu.Unlock()
	if reload {
		if err := s.setBinding(ctx, b); err != nil {
			return false, err
		}
		s.mu.Lock()
		s.reload = false
		s.mu.Unlock()
	}
	// Acting (publishing the totals or the result) adds a block that the
	// service then processes; a few rounds finish what one call can.
	for range 4 {
		status, err := s.c.Status(ctx)
		if err != nil {
			return false, fmt.Errorf("tally: node status: %w", err)
		}
		latest := status.SyncInfo.LatestBlockHeight
		var rec rules.ElectionRecord
		if err := chain.QueryJSON(ctx, s.c, "election/"+s.id, &rec); err != nil {
			if chain.IsCode(err, wire.CodeUnknownElection) {
				s.mu.Lock()
				s.chainHeight, s.rec = latest, nil
				s.mu.Unlock()
				return false, nil
			}
			return false, fmt.Errorf("tally: election record: %w", err)
		}
		s.mu.Lock()
		s.chainHeight, s.rec = latest, &rec
		s.mu.Unlock()
		if err := s.checkBinding(ctx, status.NodeInfo.Network, &rec); err != nil || s.bound() == nil {
			return false, err
		}
		if err := s.setRules(ctx, status.NodeInfo.Network); err != nil {
			return false, err
		}
		if err := s.catchUp(ctx, latest); err != nil {
			return false, err
		}
		acted, err := s.act(ctx, latest)
		if err != nil || !acted {
			return s.tallied(), err
		}
	}
	return s.tallied(), nil
}

func (s *Service) bound() *binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bind
}

func (s *Service) tallied() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s != nil && s.s.rec != nil && s.s.rec.ResultHeight > 0 && s.checked
}

// checkBinding binds a new store to the election once its key exists, and
// checks that the chain still holds the election the store was made for.
func (s *Service) checkBinding(ctx context.Context, chainID string, rec *rules.ElectionRecord) error {
	b := s.bound()
	if b == nil {
		if rec.JointKey == nil {
			return nil // the key ceremony is not finished
		}
		nb := &binding{ChainID: chainID, ElectionID: s.id, ManifestHash: rec.ManifestHash, JointKey: rec.JointKey}
		if err := s.setBinding(ctx, nb); err != nil {
			return err
		}
		s.log.Info("tally: following the election", "chain", chainID)
		return nil
	}
	switch {
	case b.ChainID != chainID:
		return fmt.Errorf("tally: the node is on chain %q, the store follows chain %q", chainID, b.ChainID)
	case !bytes.Equal(b.ManifestHash, rec.ManifestHash) || !bytes.Equal(b.JointKey, rec.JointKey):
		return &AlarmError{Item: "election " + s.id, Detail: "the chain's manifest or key is not the one the service has been following"}
	}
	return nil
}

// catchUp processes every block after the last processed height up to
// latest, one store commit per height.
func (s *Service) catchUp(ctx context.Context, latest int64) error {
	s.mu.Lock()
	from := s.s.height + 1
	s.mu.Unlock()
	for from <= latest {
		to := min(from+19, latest) // the node returns at most 20 block metas
		info, err := s.c.BlockchainInfo(ctx, from, to)
		if err != nil {
			return fmt.Errorf("tally: blocks %d to %d: %w", from, to, err)
		}
		metas := map[int64]int{}
		for i, bm := range info.BlockMetas {
			metas[bm.Header.Height] = i
		}
		for h := from; h <= to; h++ {
			i, ok := metas[h]
			if !ok {
				return fmt.Errorf("tally: the node sent no header for height %d", h)
			}
			bm := info.BlockMetas[i]
			blk := &chainBlock{height: h, hash: bm.BlockID.Hash, parent: bm.Header.LastBlockID.Hash, time: bm.Header.Time}
			if bm.NumTxs > 0 {
				rb, err := s.c.Block(ctx, &h)
				if err != nil {
					return fmt.Errorf("tally: block %d: %w", h, err)
				}
				results, err := s.c.BlockResults(ctx, &h)
				if err != nil {
					return fmt.Errorf("tally: results of block %d: %w", h, err)
				}
				if !bytes.Equal(rb.BlockID.Hash, bm.BlockID.Hash) || len(rb.Block.Txs) != len(results.TxResults) {
					return fmt.Errorf("tally: block %d: the node's block, header and results do not match", h)
				}
				for _, tx := range rb.Block.Txs {
					blk.txs = append(blk.txs, tx)
				}
				blk.results = results.TxResults
			}
			if err := s.processBlock(ctx, blk); err != nil {
				return err
			}
			if s.afterBlock != nil {
				s.afterBlock(h)
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("tally: %w", err)
			}
		}
		from = to + 1
	}
	return nil
}

// Run follows the chain until the election is tallied (it then returns nil),
// ctx is done (it returns ctx's error), Close is called (nil), or the chain
// and the service disagree (an *AlarmError). It wakes on every NewBlock
// notification of the node and also polls, so a lost subscription never
// stalls it; errors talking to the node are retried with backoff.
func (s *Service) Run(ctx context.Context) error {
	s.runMu.Lock()
	if s.running != nil {
		s.runMu.Unlock()
		return errors.New("tally: the service is already running")
	}
	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	s.cancel, s.running = cancel, done
	s.runMu.Unlock()
	defer func() {
		cancel()
		s.runMu.Lock()
		s.cancel, s.running = nil, nil
		s.runMu.Unlock()
		close(done)
	}()

	wake := make(chan struct{}, 1)
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		s.subscribe(ctx, wake)
	}()
	defer func() {
		cancel()
		<-subDone
	}()

	backoff := time.Duration(0)
	for {
		tallied, err := s.Step(ctx)
		if ctx.Err() != nil {
			return parent.Err() // nil after Close
		}
		switch {
		case errors.Is(err, ErrAlarm):
			return err
		case err != nil:
			backoff = min(max(2*backoff, 250*time.Millisecond), 30*time.Second)
			s.log.Warn("tally: retrying", "in", backoff, "err", err)
		case tallied:
			s.log.Info("tally: the election is tallied")
			return nil
		default:
			backoff = 0
		}
		wait := s.poll
		if backoff > 0 {
			wait = backoff
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-wake:
			if backoff > 0 { // a block came, but wait the backoff out anyway
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		}
		t.Stop()
	}
}

// Close stops a running Run (which then returns nil) and waits for it. The
// state committed so far stays in the store; a new service over the same
// store resumes from it. Close does not close the store or the client.
func (s *Service) Close() error {
	s.runMu.Lock()
	cancel, done := s.cancel, s.running
	s.cancel = nil
	s.runMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// subscribe keeps a NewBlock subscription open and signals wake for each
// notification, resubscribing with backoff when it is lost.
func (s *Service) subscribe(ctx context.Context, wake chan<- struct{}) {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	name := "evote-tally-" + hex.EncodeToString(nonce[:])
	const query = "tm.event='NewBlock'"
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.c.UnsubscribeAll(uctx, name)
	}()
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := s.c.Subscribe(ctx, name, query, 16)
		if err == nil {
			backoff = 500 * time.Millisecond
			s.log.Debug("tally: subscribed to new blocks")
		loop:
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-ch:
					if !ok {
						break loop
					}
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
			s.log.Debug("tally: the subscription to new blocks ended; polling until it is back")
			uctx, cancel := context.WithTimeout(ctx, time.Second)
			_ = s.c.UnsubscribeAll(uctx, name)
			cancel()
		} else {
			s.log.Debug("tally: cannot subscribe to new blocks; polling", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}
