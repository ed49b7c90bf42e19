package rules

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"sync"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// Rules executes transactions for one chain: its id and the officials its
// genesis authorises to define elections. It caches the parsed, immutable
// parts of each election (manifest, ceremony, ballot.Election), which depend
// only on the state; it is safe for concurrent use.
type Rules struct {
	chainID   string
	officials []ed25519.PublicKey
	// Checks runs the checks of ballots and audits that depend only on the
	// transaction and the election (decoding, signatures, proofs). The
	// nodes cache and batch them; nil runs CheckBallot and CheckAudit.
	Checks Checker

	mu        sync.Mutex
	elections map[string]*Election
}

// New returns the rules of chain chainID.
func New(chainID string, officials []ed25519.PublicKey) *Rules {
	return &Rules{chainID: chainID, officials: officials, elections: map[string]*Election{}}
}

// ChainID returns the chain's id.
func (r *Rules) ChainID() string { return r.chainID }

// Election holds the parsed, immutable parts of a defined election.
type Election struct {
	Manifest *ballot.Manifest
	Ceremony *trustee.Ceremony
	// Ballot is nil until the key ceremony is resolved.
	Ballot    *ballot.Election
	officials map[string]bool
	hash      []byte // manifest hash, to notice a redefined election on a new chain
	key       []byte // the joint key Ballot was made for
}

// Event is what an accepted transaction reports (as CometBFT events, which
// are not part of consensus): a type and key-value attributes.
type Event struct {
	Type  string
	Attrs [][2]string
}

func event(typ string, kv ...string) Event {
	e := Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, [2]string{kv[i], kv[i+1]})
	}
	return e
}

// Block executes the transactions of one block, or those checked against
// the committed state (Check). It keeps the running totals of the elections
// the block touches, decoded once and stored once, at End.
type Block struct {
	r      *Rules
	height int64 // 0 in Check
	time   time.Time
	check  bool
	// totals holds the running encrypted totals of the elections this block
	// read or changed; those in changed are stored at End. Totals that were
	// only read are not written: a rejected transaction changes nothing,
	// not even the app hash.
	totals  map[string][]crypto.Ciphertext
	changed map[string]bool
	chk     Checker // nil: the rules' Checker
}

// Block starts the execution of the block at height with the block's time.
func (r *Rules) Block(height int64, t time.Time) *Block {
	return &Block{r: r, height: height, time: t, totals: map[string][]crypto.Ciphertext{}, changed: map[string]bool{}}
}

// Check returns an execution for checking transactions against the
// committed state at time now (CheckTx): the same rules and rejections, but
// it keeps no totals (so it does not add ballots up) and its writes are
// dropped, so an accepted ballot or audit returns once its last check passed,
// without building them.
func (r *Rules) Check(now time.Time) *Block {
	return &Block{r: r, time: now, check: true}
}

// Tx is one transaction to apply: its bytes, its decoding and its index in
// the block.
type Tx struct {
	Raw   []byte
	Tx    wire.Tx
	Index int
}

// Apply applies one decoded transaction to st. It returns the events of an
// accepted transaction, a *Rejection, or another error if st failed. A
// rejected transaction may have written to st: the caller gives each
// transaction its own layer of writes and keeps it only on success.
func (b *Block) Apply(st State, t Tx) ([]Event, error) {
	x := &exec{b: b, st: st, raw: t.Raw, index: t.Index}
	switch tx := t.Tx.(type) {
	case *wire.DefineElection:
		return x.defineElection(tx)
	case *wire.CredentialRoll:
		return x.credentialRoll(tx)
	case *wire.Ceremony:
		return x.ceremony(tx)
	case *wire.Open:
		return x.open(tx)
	case *wire.Close:
		return x.close(tx)
	case *wire.Ballot:
		return x.ballot(tx)
	case *wire.Audit:
		return x.audit(tx)
	case *wire.Totals:
		return x.publishTotals(tx)
	case *wire.Share:
		return x.decryptionShare(tx)
	case *wire.Result:
		return x.result(tx)
	}
	return nil, reject(wire.CodeMalformed, "unknown transaction type %T", t.Tx)
}

// End stores the totals the block changed. It is called once, after the
// block's last transaction, on the block's state.
func (b *Block) End(st State) {
	for _, id := range sortedKeys(b.changed) {
		st.Put(BucketTotals, []byte(id), crypto.EncodeCiphertexts(b.totals[id]))
	}
	clear(b.totals)
	clear(b.changed)
}

// exec is the execution of one transaction.
type exec struct {
	b     *Block
	st    State
	raw   []byte
	index int
}

func (x *exec) get(bucket string, k []byte) ([]byte, bool, error) { return x.st.Get(bucket, k) }

func (x *exec) has(bucket string, k []byte) (bool, error) {
	_, ok, err := x.st.Get(bucket, k)
	return ok, err
}

func (x *exec) putRecord(id string, rec *ElectionRecord) {
	x.st.Put(BucketElection, []byte(id), rec.Encode())
}

// UnknownElection is the rejection of a transaction or query of an
// election the chain does not hold.
func UnknownElection(id string) *Rejection {
	return reject(wire.CodeUnknownElection, "no election %q on this chain", id)
}

// Record reads an election's record (without its manifest): a rejection
// with CodeUnknownElection if there is none. A tallied record's blank counts
// of count_blank contests are split off their counts (ContestResult.Blank),
// for which Record reads the manifest.
func Record(st State, id string) (*ElectionRecord, error) {
	rec, err := storedRecord(st, id)
	if err != nil || len(rec.Result) == 0 {
		return rec, err
	}
	raw, err := Manifest(st, id)
	if err != nil {
		return nil, err
	}
	m, err := ballot.DecodeManifestJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("rules: stored manifest of %q: %w", id, err)
	}
	return rec, rec.splitBlanks(m)
}

// storedRecord decodes the election's record as stored.
func storedRecord(st State, id string) (*ElectionRecord, error) {
	b, ok, err := st.Get(BucketElection, []byte(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, UnknownElection(id)
	}
	return DecodeElectionRecord(b)
}

// Election returns the election's record and its parsed parts as of st.
func (r *Rules) Election(st State, id string) (*ElectionRecord, *Election, error) {
	rec, ec, err := r.election(st, id)
	if err != nil {
		return nil, nil, err
	}
	return rec, ec, rec.splitBlanks(ec.Manifest)
}

// election is Election without the split of the blank counts.
func (r *Rules) election(st State, id string) (*ElectionRecord, *Election, error) {
	rec, err := storedRecord(st, id)
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	ec := r.elections[id]
	r.mu.Unlock()
	if ec == nil || !bytes.Equal(ec.hash, rec.ManifestHash) {
		raw, ok, err := st.Get(BucketManifest, []byte(id))
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, fmt.Errorf("rules: the manifest of %q is missing", id)
		}
		m, err := ballot.DecodeManifestJSON(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("rules: stored manifest of %q: %w", id, err)
		}
		cer, err := trustee.NewCeremony(m)
		if err != nil {
			return nil, nil, fmt.Errorf("rules: stored manifest of %q: %w", id, err)
		}
		ec = &Election{Manifest: m, Ceremony: cer, officials: map[string]bool{}, hash: rec.ManifestHash}
		for _, off := range m.Officials {
			ec.officials[string(off.PublicKey)] = true
		}
	}
	switch {
	case rec.JointKey == nil && ec.Ballot != nil:
		// A state before the key (CheckTx while the keying block is not
		// committed): the cached key is not this state's.
		c := *ec
		c.Ballot, c.key = nil, nil
		return rec, &c, nil
	case rec.JointKey != nil && !bytes.Equal(ec.key, rec.JointKey):
		k, err := crypto.DecodeNonIdentityPoint(rec.JointKey)
		if err != nil {
			return nil, nil, fmt.Errorf("rules: stored key of %q: %w", id, err)
		}
		e, err := ballot.NewElection(ec.Manifest, k)
		if err != nil {
			return nil, nil, err
		}
		c := *ec
		c.Ballot, c.key = e, rec.JointKey
		ec = &c
	}
	r.mu.Lock()
	r.elections[id] = ec
	r.mu.Unlock()
	return rec, ec, nil
}

// Cached returns the parsed election id as last read by Election, without
// reading any state (nil if none was read): for caches keyed by the
// election, never for a rule.
func (r *Rules) Cached(id string) *Election {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.elections[id]
}

// Manifest reads an election's canonical manifest JSON.
func Manifest(st State, id string) ([]byte, error) {
	raw, ok, err := st.Get(BucketManifest, []byte(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, UnknownElection(id)
	}
	return raw, nil
}

// electionFor loads the transaction's election and, for an official
// transaction, checks its signer against the election's officials.
func (x *exec) electionFor(tx wire.Tx) (*ElectionRecord, *Election, error) {
	rec, ec, err := x.b.r.Election(x.st, tx.Election())
	if err != nil {
		return nil, nil, err
	}
	if o, ok := tx.(wire.OfficialTx); ok {
		if err := x.checkOfficial(o, func(k ed25519.PublicKey) bool { return ec.officials[string(k)] }); err != nil {
			return nil, nil, err
		}
	}
	return rec, ec, nil
}

// checkOfficial verifies an official transaction's signature and that its
// key is allowed.
func (x *exec) checkOfficial(tx wire.OfficialTx, allowed func(ed25519.PublicKey) bool) error {
	s := tx.Signer()
	if !allowed(s.Official) {
		return reject(wire.CodeUnauthorized, "%s: key %s is not an authorised official's key", tx.Kind(), ballot.FormatEd25519Key(s.Official))
	}
	if !wire.VerifyOfficial(x.b.r.chainID, tx) {
		return reject(wire.CodeBadSignature, "%s: the official's signature does not verify", tx.Kind())
	}
	return nil
}
