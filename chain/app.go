// Package chain is the authority node's replicated state machine: evote's
// CometBFT ABCI application. It checks every transaction (election
// definitions, credential rolls, key-ceremony messages, open and close,
// ballots, audited ballots) in CheckTx and again, deterministically, when a
// block is finalised, and keeps its state in a store.Store.
//
// Determinism: every check depends only on the transaction, the committed
// state and the block's time. Checks that depend on the transaction alone
// (decoding, signatures, proofs) are pure functions; their outcome is cached
// by transaction hash so a node does not verify the same ballot twice, and a
// block's uncached ballots are verified together in one batch.
package chain

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// AppOptions configure an App.
type AppOptions struct {
	Logger *slog.Logger
	// Now returns the current time for CheckTx's time-window check; blocks
	// use their own (consensus) time. Defaults to time.Now.
	Now func() time.Time
	// OnFatal is called once, from the consensus connection, when the
	// application halts because its store failed while executing or
	// committing a block. The node must then stop: its state for that block
	// is unknown, and only a restart (which executes the block again) makes
	// it agree with its peers.
	OnFatal func(error)
}

// App is evote's ABCI application.
type App struct {
	abci.BaseApplication
	store store.Store
	log   *slog.Logger
	now   func() time.Time

	// Consensus connection state: the block being finalised.
	block       *overlay
	pending     *store.Changes
	initWrites  *overlay // InitChain's writes, committed with block 1
	lastAppHash []byte

	mu              sync.Mutex
	committedHeight int64
	// committed caches the election records of the committed state, read by
	// CheckTx (which runs for every transaction and again for the whole
	// mempool after each block), by the height they were read at.
	committed map[string]cachedValue
	rules     *rules.Rules // nil before InitChain
	verified  *verifyCache
	// background verifies the proofs of gossiped ballots between blocks.
	background *backgroundVerifier
	ballots    ballotBatcher

	// fatal is the error that halted the application (nil while it runs);
	// onFatal is called once with it.
	fatal      atomic.Pointer[error]
	onFatal    func(error)
	checkPanic func(tx []byte) // tests: called at the start of CheckTx
}

var _ abci.Application = (*App)(nil)

// NewApp returns the application over st. The chain's genesis app_state
// (GenesisState, JSON) authorises the officials' keys.
func NewApp(st store.Store, opts AppOptions) (*App, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a := &App{store: st, log: log, now: now, onFatal: opts.OnFatal, committed: map[string]cachedValue{}, verified: newVerifyCache(200_000)}
	a.background = newBackgroundVerifier(a.verified)
	ctx := context.Background()
	id, err := st.Get(ctx, bucketMeta, []byte("chain-id"))
	switch {
	case err == nil:
		raw, err := st.Get(ctx, bucketMeta, []byte("app-state"))
		if err != nil {
			return nil, fmt.Errorf("chain: the store has a chain id but no genesis app_state: %w", err)
		}
		_, officials, err := ParseGenesisState(raw)
		if err != nil {
			return nil, err
		}
		a.setRules(string(id), officials)
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	last, err := st.LastBlock(ctx)
	if err != nil {
		return nil, err
	}
	a.lastAppHash, a.committedHeight = last.AppHash, last.Height
	return a, nil
}

// Info tells CometBFT the last committed height and app hash, from which it
// replays blocks after a restart or a crash.
func (a *App) Info(ctx context.Context, _ *abci.InfoRequest) (*abci.InfoResponse, error) {
	last, err := a.store.LastBlock(ctx)
	if err != nil {
		return nil, err
	}
	return &abci.InfoResponse{Data: "evote", Version: "1", AppVersion: 1, LastBlockHeight: last.Height, LastBlockAppHash: last.AppHash}, nil
}

// InitChain records the chain id and the genesis app_state (the officials).
func (a *App) InitChain(_ context.Context, req *abci.InitChainRequest) (*abci.InitChainResponse, error) {
	_, officials, err := ParseGenesisState(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	o := newOverlay(a.store)
	for _, w := range rules.GenesisWrites(req.ChainId, req.AppStateBytes) {
		o.put(w.Bucket, w.Key, w.Value)
	}
	a.setRules(req.ChainId, officials)
	a.initWrites = o
	return &abci.InitChainResponse{}, nil
}

// CheckTx runs the same checks as block execution against the committed
// state (and the current time), without keeping any change, except that a
// ballot this node has not verified yet (one a peer gossiped) has its proofs
// verified in its block rather than here (admission).
func (a *App) CheckTx(ctx context.Context, req *abci.CheckTxRequest) (resp *abci.CheckTxResponse, _ error) {
	defer func() {
		// A bug in a check must not take the node down with it, nor let the
		// transaction in: it is refused and logged with its hash.
		if r := recover(); r != nil {
			h := txHash(req.Tx)
			a.log.Error("chain: panic while checking a transaction", "tx", hexHash(h[:]), "panic", r, "stack", string(debug.Stack()))
			resp = &abci.CheckTxResponse{Code: uint32(wire.CodeInternal), Log: "internal error: the node failed while checking this transaction", Codespace: wire.Codespace}
		}
	}()
	if a.checkPanic != nil {
		a.checkPanic(req.Tx)
	}
	tx, err := wire.Decode(req.Tx)
	if err != nil {
		return &abci.CheckTxResponse{Code: uint32(wire.CodeMalformed), Log: err.Error(), Codespace: wire.Codespace}, nil
	}
	r := a.Rules()
	if r == nil {
		return &abci.CheckTxResponse{Code: uint32(wire.CodeInternal), Log: "internal error: the chain has no genesis yet", Codespace: wire.Codespace}, nil
	}
	o := newOverlay(a.store)
	o.committedView = true
	_, err = r.Check(a.now()).WithChecker(admission{checker{a}}).Apply(committedState{view{ctx, o}, a}, rules.Tx{Raw: req.Tx, Tx: tx})
	if ferr := o.failed(); ferr != nil {
		// Whatever the check made of it, a transaction checked against a
		// state that could not be read is refused (and may be sent again).
		a.log.Warn("chain: CheckTx could not read the state", "err", ferr)
		return &abci.CheckTxResponse{Code: uint32(wire.CodeInternal), Log: "internal error: the node could not read its state; try again or another node", Codespace: wire.Codespace}, nil
	}
	if err != nil {
		code, log := rules.Outcome(err)
		return &abci.CheckTxResponse{Code: uint32(code), Log: log, Codespace: wire.Codespace}, nil
	}
	return &abci.CheckTxResponse{Code: abci.CodeTypeOK}, nil
}

// FinalizeBlock executes a decided block: it verifies the proofs of all its
// not yet verified ballots in one batch, then applies each transaction in
// order to the block's overlay, and returns the results and the new app
// hash. Nothing is stored before Commit.
//
// A failure of the store (a read that returned neither a value nor "not
// found") makes the block's outcome unknown on this node: FinalizeBlock then
// returns an error, which stops the node's consensus (the ABCI contract),
// stores nothing, and halts the application (Fatal). After a restart, once
// the store works again, CometBFT executes the block again and the node
// agrees with its peers. A storage failure is never a transaction's result.
func (a *App) FinalizeBlock(ctx context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	if err := a.Fatal(); err != nil {
		return nil, err
	}
	o := newOverlay(a.store)
	if a.initWrites != nil {
		o = a.initWrites
	}
	r := a.Rules()
	if r == nil {
		return nil, a.halt(fmt.Errorf("chain: finalizing block %d before InitChain", req.Height))
	}
	txs := make([]decoded, len(req.Txs))
	for i, raw := range req.Txs {
		tx, err := wire.Decode(raw)
		txs[i] = decoded{raw: raw, tx: tx, err: err}
	}
	verified := a.preverify(ctx, o, txs)
	if err := o.failed(); err != nil {
		return nil, a.halt(fmt.Errorf("chain: finalizing block %d: %w", req.Height, err))
	}
	o.prefetch(ctx, txs, verified)
	blk := r.Block(req.Height, req.Time)
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i, d := range txs {
		res := &abci.ExecTxResult{Code: abci.CodeTypeOK}
		err := d.err
		var events []rules.Event
		if err == nil {
			// Each transaction writes to its own overlay, merged only if it is
			// accepted: a rejected transaction changes nothing.
			c := o.child()
			events, err = blk.Apply(view{ctx, c}, rules.Tx{Raw: d.raw, Tx: d.tx, Index: i})
			if err == nil {
				o.merge(c)
			}
		}
		if ferr := o.failed(); ferr != nil {
			return nil, a.halt(fmt.Errorf("chain: finalizing block %d, transaction %d: %w", req.Height, i, ferr))
		}
		if err != nil && rules.AsRejection(err) == nil && !errors.Is(err, wire.ErrMalformed) {
			// Neither a rejection nor a failure of the store (which halts
			// above): a deterministic error of the rules, answered with
			// CodeInternal on every node alike.
			a.log.Error("chain: internal error executing a transaction", "height", req.Height, "index", i, "err", err)
		}
		if err != nil {
			code, log := rules.Outcome(err)
			res.Code, res.Log, res.Codespace = uint32(code), log, wire.Codespace
		} else {
			res.Events = abciEvents(events)
			if b, ok := d.tx.(*wire.Ballot); ok {
				a.forgetDecoded(b, d.raw)
			}
		}
		results[i] = res
	}
	blk.End(view{ctx, o})
	a.initWrites = nil
	appHash := a.lastAppHash
	if len(o.writes) > 0 {
		// A block that changes nothing keeps the app hash, so an idle chain
		// needs no proof blocks and CometBFT can stop making blocks.
		appHash = rules.NextAppHash(a.lastAppHash, req.Height, rules.ChangesHash(o.changes()))
	}
	a.block = o
	a.pending = &store.Changes{Height: req.Height, AppHash: appHash, Writes: o.writes}
	return &abci.FinalizeBlockResponse{TxResults: results, AppHash: appHash}, nil
}

// Commit stores the finalised block's changes atomically.
func (a *App) Commit(ctx context.Context, _ *abci.CommitRequest) (*abci.CommitResponse, error) {
	if err := a.Fatal(); err != nil {
		return nil, err
	}
	if a.pending == nil {
		return &abci.CommitResponse{}, nil
	}
	if err := a.store.Commit(ctx, a.pending); err != nil {
		// The block cannot be stored: stop rather than diverge. CometBFT
		// replays it after the operator fixes the store.
		return nil, a.halt(&StorageError{Op: fmt.Sprintf("commit block %d", a.pending.Height), Err: err})
	}
	a.lastAppHash = a.pending.AppHash
	a.mu.Lock()
	a.committedHeight = a.pending.Height
	a.mu.Unlock()
	a.pending, a.block = nil, nil
	return &abci.CommitResponse{}, nil
}

// Fatal returns the error that halted the application, or nil.
func (a *App) Fatal() error {
	if p := a.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

// halt stops the application for good with err (the first error wins), logs
// it and calls OnFatal. It returns the error that halted the application.
func (a *App) halt(err error) error {
	if !a.fatal.CompareAndSwap(nil, &err) {
		return a.Fatal()
	}
	a.log.Error("chain: the node's store failed while executing a block; the node stops (nothing of the block was stored; it is executed again after a restart)", "err", err)
	if a.onFatal != nil {
		a.onFatal(err)
	}
	return err
}

// setRules sets the chain's rules once its genesis is known.
func (a *App) setRules(chainID string, officials []ed25519.PublicKey) {
	r := rules.New(chainID, officials)
	r.Checks = checker{a}
	a.mu.Lock()
	a.rules = r
	a.mu.Unlock()
}

// Rules returns the chain's rules (nil before InitChain).
func (a *App) Rules() *rules.Rules {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rules
}

// forgetDecoded drops the decoded ciphertexts of an applied ballot's cached
// checks: the block has added them up, and the cache keeps bytes only.
func (a *App) forgetDecoded(b *wire.Ballot, raw []byte) {
	if ec := a.rules.Cached(b.ElectionID); ec != nil && ec.Ballot != nil {
		a.verified.forgetDecoded(cacheKey(ec.Ballot, raw))
	}
}

// cachedValue is a value of the committed state read at a height.
type cachedValue struct {
	height int64
	value  []byte
}

// committedState is CheckTx's view of the committed state: election
// records are kept until the next commit.
type committedState struct {
	view
	a *App
}

func (s committedState) Get(bucket string, k []byte) ([]byte, bool, error) {
	if bucket != bucketElection || s.o.written(bucket, k) {
		return s.view.Get(bucket, k)
	}
	s.a.mu.Lock()
	height := s.a.committedHeight
	c, ok := s.a.committed[string(k)]
	s.a.mu.Unlock()
	if ok && c.height == height {
		return c.value, c.value != nil, nil
	}
	v, found, err := s.view.Get(bucket, k)
	if err == nil {
		// Read possibly after a commit: label it with the height seen before
		// the read, so that an entry is never used for a later state.
		s.a.mu.Lock()
		if len(s.a.committed) > 1024 {
			clear(s.a.committed)
		}
		s.a.committed[string(k)] = cachedValue{height: height, value: v}
		s.a.mu.Unlock()
	}
	return v, found, err
}

// committedView returns a view of the committed state.
func (a *App) committedView(ctx context.Context) view {
	return view{ctx, newOverlay(a.store)}
}

// ElectionRecord returns the committed state of an election with its
// manifest.
func (a *App) ElectionRecord(ctx context.Context, id string) (*rules.ElectionRecord, error) {
	st := a.committedView(ctx)
	rec, err := rules.Record(st, id)
	if err != nil {
		return nil, err
	}
	if rec.Manifest, err = rules.Manifest(st, id); err != nil {
		return nil, err
	}
	return rec, nil
}

// RollIndex returns the committed record of an election and the loaded
// chunks of its credential roll.
func (a *App) RollIndex(ctx context.Context, id string) (*rules.ElectionRecord, []rules.RollChunkInfo, error) {
	st := a.committedView(ctx)
	rec, err := rules.Record(st, id)
	if err != nil {
		return nil, nil, err
	}
	chunks, err := rules.RollIndex(st, id, rec)
	return rec, chunks, err
}

// Board returns a page of an election's public ballot board from the
// committed state (rules.Board).
func (a *App) Board(ctx context.Context, id, query, after string, limit int) (*rules.BoardPage, error) {
	st := a.committedView(ctx)
	if _, err := rules.Record(st, id); err != nil {
		return nil, err
	}
	return rules.Board(st, storeScanner{ctx, a.store}, id, query, after, limit)
}

// storeScanner reads the committed store for rules.Scanner.
type storeScanner struct {
	ctx context.Context
	st  store.Store
}

func (s storeScanner) ScanFrom(bucket string, prefix, start []byte, fn func(k, v []byte) error) error {
	return s.st.ScanFrom(s.ctx, bucket, prefix, start, fn)
}

// RollChunk returns the entries of a loaded chunk of an election's roll;
// ok is false if the chunk is not loaded. An unknown election is a
// rejection with CodeUnknownElection.
func (a *App) RollChunk(ctx context.Context, id string, chunk uint64) ([]byte, bool, error) {
	st := a.committedView(ctx)
	if _, err := rules.Record(st, id); err != nil {
		return nil, false, err
	}
	return rules.RollChunk(st, id, chunk)
}

// Election returns the committed election's parsed manifest and, once its
// key exists, the ballot.Election for encrypting and checking ballots.
func (a *App) Election(ctx context.Context, id string) (*ballot.Manifest, *ballot.Election, error) {
	r := a.Rules()
	if r == nil {
		return nil, nil, rules.UnknownElection(id)
	}
	_, ec, err := r.Election(a.committedView(ctx), id)
	if err != nil {
		return nil, nil, err
	}
	return ec.Manifest, ec.Ballot, nil
}

// BallotByTrackingCode returns the committed record of the ballot with the
// given tracking code (audited reports an audited ballot's), or a rejection
// with CodeNotFound.
func (a *App) BallotByTrackingCode(ctx context.Context, electionID, code string) (rec *rules.BallotRecord, audited bool, err error) {
	return rules.BallotByTrackingCode(a.committedView(ctx), electionID, code)
}

// CeremonyMessages returns the key-ceremony messages of an election that are
// on the chain, in round order, as the trustees' tools read them.
func (a *App) CeremonyMessages(ctx context.Context, electionID string) ([]*trustee.Message, error) {
	r := a.Rules()
	if r == nil {
		return nil, rules.UnknownElection(electionID)
	}
	st := a.committedView(ctx)
	_, ec, err := r.Election(st, electionID)
	if err != nil {
		return nil, err
	}
	return rules.CeremonyMessages(st, ec)
}

// Totals returns the election's committed encrypted running totals: one
// ciphertext per selection of every contest, in manifest order.
func (a *App) Totals(ctx context.Context, electionID string) ([]crypto.Ciphertext, error) {
	m, _, err := a.Election(ctx, electionID)
	if err != nil {
		return nil, err
	}
	return rules.Totals(a.committedView(ctx), m)
}

// Shares returns the decryption shares on the chain, by trustee index.
func (a *App) Shares(ctx context.Context, electionID string) ([]crypto.DecryptionShare, error) {
	st := a.committedView(ctx)
	rec, err := rules.Record(st, electionID)
	if err != nil {
		return nil, err
	}
	return rules.Shares(st, rec, electionID)
}

// Query answers ABCI queries on the committed state: "election/ID" and
// "ballot/ID/TRACKING-CODE" return JSON records, "ceremony/ID" the
// ceremony's messages (a JSON array of message files), "totals/ID" the
// running encrypted totals ({"totals": base64}), "shares/ID" the
// decryption shares ({"shares": [base64, …]}).
func (a *App) Query(ctx context.Context, req *abci.QueryRequest) (*abci.QueryResponse, error) {
	parts := strings.Split(strings.Trim(req.Path, "/"), "/")
	var v any
	var err error
	switch {
	case len(parts) == 2 && parts[0] == "election":
		v, err = a.ElectionRecord(ctx, parts[1])
	case len(parts) == 3 && parts[0] == "ballot":
		v, _, err = a.BallotByTrackingCode(ctx, parts[1], parts[2])
	case len(parts) == 2 && parts[0] == "totals":
		var t []crypto.Ciphertext
		t, err = a.Totals(ctx, parts[1])
		v = map[string][]byte{"totals": crypto.EncodeCiphertexts(t)}
	case len(parts) == 2 && parts[0] == "shares":
		var shares []crypto.DecryptionShare
		shares, err = a.Shares(ctx, parts[1])
		var encoded [][]byte
		for _, sh := range shares {
			encoded = append(encoded, sh.Encode())
		}
		v = map[string][][]byte{"shares": encoded}
	case len(parts) == 2 && parts[0] == "ceremony":
		var msgs []*trustee.Message
		msgs, err = a.CeremonyMessages(ctx, parts[1])
		var files []json.RawMessage
		for _, m := range msgs {
			f, _ := trustee.EncodeMessage(m)
			files = append(files, f)
		}
		v = files
	default:
		return &abci.QueryResponse{Code: uint32(wire.CodeNotFound), Log: fmt.Sprintf("unknown query path %q", req.Path), Codespace: wire.Codespace}, nil
	}
	if err != nil {
		code, log := rules.Outcome(err)
		return &abci.QueryResponse{Code: uint32(code), Log: log, Codespace: wire.Codespace}, nil
	}
	// Not json.Marshal: it would HTML-escape the embedded canonical manifest.
	b, _ := jsonout.Marshal(v)
	last, _ := a.store.LastBlock(ctx)
	return &abci.QueryResponse{Code: abci.CodeTypeOK, Value: b, Height: last.Height}, nil
}

// txHash is the SHA-256 of a transaction's bytes, as CometBFT names it.
func txHash(raw []byte) [32]byte { return sha256.Sum256(raw) }

func hexHash(b []byte) string { return hex.EncodeToString(b) }
