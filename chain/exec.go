package chain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/trustee"
)

// execution applies transactions to an overlay: a scratch one for CheckTx,
// the block's for FinalizeBlock.
type execution struct {
	app    *App
	ctx    context.Context
	o      *overlay
	time   time.Time
	height int64 // 0 in CheckTx
	index  int
	raw    []byte
	// totals holds the running encrypted totals of the elections this block
	// read or changed, decoded once per block (nil in CheckTx, which keeps
	// no totals); those of the elections in changed are stored once at its
	// end. Totals that were only read (by a share, a result or published
	// totals, accepted or not) are not written: a rejected transaction
	// changes nothing, not even the app hash.
	totals  map[string][]crypto.Ciphertext
	changed map[string]bool
}

func (x *execution) apply(tx *Tx) ([]abci.Event, error) {
	switch tx.Type {
	case TxDefineElection:
		return x.defineElection(tx)
	case TxCredentialRoll:
		return x.credentialRoll(tx)
	case TxCeremony:
		return x.ceremony(tx)
	case TxOpen, TxClose:
		return x.openClose(tx)
	case TxBallot:
		return x.ballot(tx)
	case TxAudit:
		return x.audit(tx)
	case TxTotals:
		return x.publishTotals(tx)
	case TxShare:
		return x.decryptionShare(tx)
	case TxResult:
		return x.result(tx)
	}
	return nil, txErr(CodeMalformed, "unknown transaction type %d", tx.Type)
}

func event(typ string, kv ...string) abci.Event {
	e := abci.Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attributes = append(e.Attributes, abci.EventAttribute{Key: kv[i], Value: kv[i+1], Index: true})
	}
	return e
}

// checkOfficial verifies an official transaction's signature and that its
// key is allowed.
func (x *execution) checkOfficial(tx *Tx, allowed func(ed25519.PublicKey) bool) error {
	x.app.mu.Lock()
	chainID := x.app.chainID
	x.app.mu.Unlock()
	if !allowed(tx.Official) {
		return txErr(CodeUnauthorized, "%s: key %s is not an authorised official's key", tx.Type, ballot.FormatEd25519Key(tx.Official))
	}
	if !ed25519.Verify(tx.Official, OfficialMessage(chainID, tx), tx.Signature) {
		return txErr(CodeBadSignature, "%s: the official's signature does not verify", tx.Type)
	}
	return nil
}

func (x *execution) defineElection(tx *Tx) ([]abci.Event, error) {
	err := x.checkOfficial(tx, func(k ed25519.PublicKey) bool {
		x.app.mu.Lock()
		defer x.app.mu.Unlock()
		for _, o := range x.app.officials {
			if o.Equal(k) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	m, err := ballot.DecodeManifestJSON(tx.Fields[0])
	if err != nil {
		return nil, txErr(CodeMalformed, "define-election: %v", err)
	}
	if m.ElectionID != tx.ElectionID {
		return nil, txErr(CodeMalformed, "define-election: manifest is for %q, transaction for %q", m.ElectionID, tx.ElectionID)
	}
	listed := false
	for _, o := range m.Officials {
		listed = listed || o.PublicKey.Equal(tx.Official)
	}
	if !listed {
		return nil, txErr(CodeUnauthorized, "define-election: the signing official is not listed among the election's officials")
	}
	if _, err := trustee.NewCeremony(m); err != nil {
		return nil, txErr(CodeMalformed, "define-election: %v", err)
	}
	if found, err := x.o.has(x.ctx, bucketElection, []byte(m.ElectionID)); err != nil {
		return nil, err
	} else if found {
		return nil, txErr(CodeExists, "election %q is already defined on this chain", m.ElectionID)
	}
	mh := m.Hash()
	x.o.put(bucketManifest, []byte(m.ElectionID), m.CanonicalJSON())
	x.o.putRecord(m.ElectionID, &ElectionRecord{ManifestHash: mh[:], Phase: PhaseCeremony, DefinedHeight: x.height})
	return []abci.Event{event("election", "election", m.ElectionID, "action", "defined")}, nil
}

// electionFor loads the transaction's election and checks an official
// signer against the election's officials.
func (x *execution) electionFor(tx *Tx) (*ElectionRecord, *electionCache, error) {
	rec, ec, err := x.app.election(x.ctx, x.o, tx.ElectionID)
	if err != nil {
		return nil, nil, err
	}
	if tx.Type.official() {
		if err := x.checkOfficial(tx, func(k ed25519.PublicKey) bool { return ec.officials[string(k)] }); err != nil {
			return nil, nil, err
		}
	}
	return rec, ec, nil
}

func (x *execution) credentialRoll(tx *Tx) ([]abci.Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.Phase != PhaseCeremony && rec.Phase != PhaseReady {
		return nil, txErr(CodeWrongPhase, "credential-roll: election %q is %s; the roll can only be loaded before it opens", tx.ElectionID, rec.Phase)
	}
	if rec.RollComplete {
		return nil, txErr(CodeDuplicate, "credential-roll: the roll of %q is already complete", tx.ElectionID)
	}
	hdr, err := credential.DecodeHeader(tx.Fields[0])
	if err != nil {
		return nil, txErr(CodeRoll, "credential-roll: header: %v", err)
	}
	if hdr.ElectionID != tx.ElectionID {
		return nil, txErr(CodeRoll, "credential-roll: roll is for election %q", hdr.ElectionID)
	}
	if rs := ec.manifest.Voters.RollSize; rs > 0 && hdr.Count > rs {
		return nil, txErr(CodeRoll, "credential-roll: %d credentials, the election's roll size is %d", hdr.Count, rs)
	}
	if rec.RollHeader != nil && !bytes.Equal(rec.RollHeader, tx.Fields[0]) {
		return nil, txErr(CodeRoll, "credential-roll: header differs from the roll's first chunk")
	}
	if len(tx.Fields[1]) != 8 {
		return nil, txErr(CodeMalformed, "credential-roll: chunk index is not 8 bytes")
	}
	idx := binary.BigEndian.Uint64(tx.Fields[1])
	if idx >= uint64(hdr.Chunks()) {
		return nil, txErr(CodeRoll, "credential-roll: chunk %d, the roll has %d chunks", idx, hdr.Chunks())
	}
	want := min(credential.ChunkSize, hdr.Count-int(idx)*credential.ChunkSize)
	keys := tx.Fields[2]
	if len(keys) != want*credential.PublicKeySize {
		return nil, txErr(CodeRoll, "credential-roll: chunk %d holds %d bytes, want %d keys", idx, len(keys), want)
	}
	if found, err := x.o.has(x.ctx, bucketRollChunk, key(tx.ElectionID, u64(idx))); err != nil {
		return nil, err
	} else if found {
		return nil, txErr(CodeDuplicate, "credential-roll: chunk %d is already loaded", idx)
	}
	if err := credential.CheckKeyOrder(keys); err != nil {
		return nil, txErr(CodeRoll, "credential-roll: chunk %d: %v", idx, err)
	}
	if err := x.checkChunkOrder(tx.ElectionID, idx, keys); err != nil {
		return nil, err
	}
	x.o.put(bucketRollBounds, key(tx.ElectionID, u64(idx)), append(append([]byte(nil), keys[:credential.PublicKeySize]...), keys[len(keys)-credential.PublicKeySize:]...))
	seen := map[string]int{}
	for i := range want {
		k := keys[i*credential.PublicKeySize : (i+1)*credential.PublicKeySize]
		pos := int(idx)*credential.ChunkSize + i
		if j, dup := seen[string(k)]; dup {
			return nil, txErr(CodeRoll, "credential-roll: credential %d repeats credential %d", pos, j)
		}
		seen[string(k)] = pos
		if found, err := x.o.has(x.ctx, bucketCred, key(tx.ElectionID, k)); err != nil {
			return nil, err
		} else if found {
			return nil, txErr(CodeRoll, "credential-roll: credential %d is already on the roll", pos)
		}
		x.o.put(bucketCred, key(tx.ElectionID, k), u64(uint64(pos)))
	}
	ch := credential.ChunkHash(idx, keys)
	x.o.put(bucketRollChunk, key(tx.ElectionID, u64(idx)), ch[:])
	rec.RollHeader = tx.Fields[0]
	rec.RollChunks++
	if rec.RollChunks == hdr.Chunks() {
		hashes := make([][32]byte, hdr.Chunks())
		for i := range hashes {
			b, err := x.o.get(x.ctx, bucketRollChunk, key(tx.ElectionID, u64(uint64(i))))
			if err != nil {
				return nil, err
			}
			copy(hashes[i][:], b)
		}
		rh, err := hdr.RollHash(hashes)
		if err != nil {
			return nil, txErr(CodeRoll, "credential-roll: %v", err)
		}
		rec.RollComplete, rec.RollHash, rec.RollCount = true, rh[:], hdr.Count
	}
	x.o.putRecord(tx.ElectionID, rec)
	return []abci.Event{event("roll", "election", tx.ElectionID, "chunk", strconv.FormatUint(idx, 10), "complete", strconv.FormatBool(rec.RollComplete))}, nil
}

// checkChunkOrder checks that a chunk's keys come after those of the chunk
// before it and before those of the chunk after it, for each of the two
// that is loaded: a roll lists its keys in ascending order (docs/credentials.md
// §4), so that its order says nothing of the order the credentials were made
// in. Every boundary is checked when the second of its chunks comes.
func (x *execution) checkChunkOrder(id string, idx uint64, keys []byte) error {
	const n = credential.PublicKeySize
	first, last := keys[:n], keys[len(keys)-n:]
	neighbour := func(i uint64) ([]byte, error) {
		b, err := x.o.get(x.ctx, bucketRollBounds, key(id, u64(i)))
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err == nil && len(b) != 2*n {
			err = fmt.Errorf("chain: stored bounds of roll chunk %d are %d bytes", i, len(b))
		}
		return b, err
	}
	if idx > 0 {
		b, err := neighbour(idx - 1)
		if err != nil {
			return err
		}
		if b != nil && bytes.Compare(b[n:], first) >= 0 {
			return txErr(CodeRoll, "credential-roll: the first key of chunk %d is not after the last key of chunk %d: a roll lists its keys in ascending order", idx, idx-1)
		}
	}
	b, err := neighbour(idx + 1)
	if err != nil {
		return err
	}
	if b != nil && bytes.Compare(last, b[:n]) >= 0 {
		return txErr(CodeRoll, "credential-roll: the last key of chunk %d is not before the first key of chunk %d: a roll lists its keys in ascending order", idx, idx+1)
	}
	return nil
}

var ceremonyKinds = []string{trustee.KindRegister, trustee.KindDealing, trustee.KindComplaints, trustee.KindJustifications}

func (x *execution) ceremony(tx *Tx) ([]abci.Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.Phase != PhaseCeremony {
		return nil, txErr(CodeWrongPhase, "ceremony: the key ceremony of %q is over", tx.ElectionID)
	}
	if len(tx.Fields[1]) != 8 {
		return nil, txErr(CodeMalformed, "ceremony: sender index is not 8 bytes")
	}
	sig, err := crypto.DecodeSchnorrProof(tx.Fields[3])
	if err != nil {
		return nil, txErr(CodeMalformed, "ceremony: signature: %v", err)
	}
	from := binary.BigEndian.Uint64(tx.Fields[1])
	if from > 255 {
		return nil, txErr(CodeCeremony, "ceremony: no trustee %d", from)
	}
	msg := &trustee.Message{Kind: string(tx.Fields[0]), ElectionID: tx.ElectionID, From: int(from), Payload: tx.Fields[2], Signature: sig}
	if err := ec.ceremony.Verify(msg); err != nil {
		if errors.Is(err, trustee.ErrSignature) {
			return nil, txErr(CodeBadSignature, "ceremony: %v", err)
		}
		return nil, txErr(CodeCeremony, "ceremony: %v", err)
	}
	if t := ec.ceremony.Collect([]*trustee.Message{msg}); len(t.Problems) > 0 {
		return nil, txErr(CodeCeremony, "ceremony: %v", t.Problems[0])
	}
	k := key(tx.ElectionID, []byte(msg.Kind), u64(from))
	if found, err := x.o.has(x.ctx, bucketCeremony, k); err != nil {
		return nil, err
	} else if found {
		return nil, txErr(CodeDuplicate, "ceremony: %s already sent its %s message", ec.ceremony.Name(msg.From), msg.Kind)
	}
	enc, err := trustee.EncodeMessage(msg)
	if err != nil {
		return nil, err
	}
	x.o.put(bucketCeremony, k, enc)
	events := []abci.Event{event("ceremony", "election", tx.ElectionID, "kind", msg.Kind, "from", strconv.Itoa(msg.From))}
	if msg.Kind == trustee.KindJustifications {
		done, err := x.resolveCeremony(rec, ec)
		if err != nil {
			return nil, err
		}
		if done {
			events = append(events, event("election", "election", tx.ElectionID, "action", "keyed"))
		}
	}
	return events, nil
}

// resolveCeremony runs the ceremony's resolution once every trustee's
// justifications message is on the chain.
func (x *execution) resolveCeremony(rec *ElectionRecord, ec *electionCache) (bool, error) {
	id := ec.manifest.ElectionID
	n := ec.ceremony.Params.N
	var msgs []*trustee.Message
	for _, kind := range ceremonyKinds {
		for l := 1; l <= n; l++ {
			b, err := x.o.get(x.ctx, bucketCeremony, key(id, []byte(kind), u64(uint64(l))))
			if errors.Is(err, store.ErrNotFound) {
				if kind == trustee.KindJustifications {
					return false, nil // not everyone has finished
				}
				continue
			}
			if err != nil {
				return false, err
			}
			m, err := trustee.DecodeMessage(b)
			if err != nil {
				return false, fmt.Errorf("chain: stored ceremony message: %w", err)
			}
			msgs = append(msgs, m)
		}
	}
	t := ec.ceremony.Collect(msgs)
	res, err := ec.ceremony.Resolve(t, true)
	if res != nil {
		rec.Faults = nil
		for _, f := range res.Faults {
			rec.Faults = append(rec.Faults, f.Error())
		}
	}
	if err != nil {
		// Too few qualified trustees: the election cannot get a key; the
		// faults say why. It stays in the ceremony phase.
		rec.Faults = append(rec.Faults, err.Error())
		x.o.putRecord(id, rec)
		return false, nil
	}
	jk := crypto.EncodePoint(res.PublicKey)
	e, err := ballot.NewElection(ec.manifest, res.PublicKey)
	if err != nil {
		return false, err
	}
	rec.JointKey, rec.BaseHash, rec.Qualified, rec.KeyHeight, rec.Phase = jk[:], e.BaseHash[:], res.Qualified, x.height, PhaseReady
	rec.VerificationKeys = nil
	for _, vk := range res.VerificationKeys {
		v := crypto.EncodePoint(vk)
		rec.VerificationKeys = append(rec.VerificationKeys, v[:])
	}
	x.o.putRecord(id, rec)
	return true, nil
}

func (x *execution) openClose(tx *Tx) ([]abci.Event, error) {
	rec, _, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if tx.Type == TxOpen {
		switch {
		case rec.Phase == PhaseCeremony:
			return nil, txErr(CodeWrongPhase, "open: the key ceremony of %q is not finished", tx.ElectionID)
		case rec.Phase != PhaseReady:
			return nil, txErr(CodeWrongPhase, "open: election %q is already %s", tx.ElectionID, rec.Phase)
		case !rec.RollComplete:
			return nil, txErr(CodeWrongPhase, "open: the credential roll of %q is incomplete (%d chunks loaded)", tx.ElectionID, rec.RollChunks)
		}
		rec.Phase, rec.OpenedHeight = PhaseOpen, x.height
	} else {
		if rec.Phase != PhaseOpen {
			return nil, txErr(CodeWrongPhase, "close: election %q is %s, not open", tx.ElectionID, rec.Phase)
		}
		rec.Phase, rec.ClosedHeight = PhaseClosed, x.height
	}
	x.o.putRecord(tx.ElectionID, rec)
	return []abci.Event{event("election", "election", tx.ElectionID, "action", rec.Phase)}, nil
}

// checkVoting checks that the election accepts ballots at the execution's
// time.
func (x *execution) checkVoting(rec *ElectionRecord, ec *electionCache) error {
	m := ec.manifest
	switch {
	case rec.Phase == PhaseClosed:
		return txErr(CodeWrongPhase, "election %q is closed", m.ElectionID)
	case rec.Phase != PhaseOpen:
		return txErr(CodeWrongPhase, "election %q is not open yet", m.ElectionID)
	case x.time.Before(m.Start):
		return txErr(CodeOutsideWindow, "election %q opens for voting at %s", m.ElectionID, ballot.FormatTime(m.Start))
	case !x.time.Before(m.End):
		return txErr(CodeOutsideWindow, "voting in election %q ended at %s", m.ElectionID, ballot.FormatTime(m.End))
	}
	return nil
}

// cacheKey binds a pure check to the election it was made for.
func cacheKey(e *ballot.Election, raw []byte) [32]byte {
	h := txHash(raw)
	return crypto.Hash("evote/v1/verify-cache", e.BaseHash[:], h[:])
}

// inspectCast checks a cast's structure and signature; a non-nil result is
// the rejection.
func inspectCast(e *ballot.Election, field []byte) (*ballot.CastInfo, *pureResult) {
	info, err := e.InspectCast(field)
	switch {
	case errors.Is(err, ballot.ErrMalformed):
		return nil, &pureResult{err: txErr(CodeMalformed, "ballot: %v", err)}
	case err != nil:
		return nil, &pureResult{err: txErr(CodeBadSignature, "%v", err)}
	}
	return info, nil
}

// castResult is the pure result of a valid cast: what applying it needs.
func castResult(e *ballot.Election, info *ballot.CastInfo, entry *ballot.BatchEntry) *pureResult {
	cts, _ := e.CiphertextBytes(info.Ballot) // the header was checked already
	return &pureResult{hash: info.Hash, credential: info.Credential, style: info.Style, cts: cts, decoded: entry.Ciphertexts()}
}

// voterTx runs the checks common to ballots and audits: the election accepts
// them now, and the transaction's pure checks (cached by transaction) pass.
func (x *execution) voterTx(tx *Tx, pure func(*ballot.Election, []byte) *pureResult) (*ElectionRecord, *electionCache, *pureResult, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := x.checkVoting(rec, ec); err != nil {
		return nil, nil, nil, err
	}
	ck := cacheKey(ec.election, x.raw)
	pr, ok := x.app.verified.get(ck)
	if !ok {
		pr = pure(ec.election, tx.Fields[0])
		x.app.verified.put(ck, pr)
	}
	if pr.err != nil {
		return nil, nil, nil, pr.err
	}
	return rec, ec, pr, nil
}

func (x *execution) ballot(tx *Tx) ([]abci.Event, error) {
	rec, ec, pr, err := x.voterTx(tx, x.app.ballots.verify)
	if err != nil {
		return nil, err
	}
	id := tx.ElectionID
	code := ballot.TrackingCode(pr.hash)
	if _, err := x.o.get(x.ctx, bucketCred, key(id, pr.credential)); errors.Is(err, store.ErrNotFound) {
		return nil, txErr(CodeNotOnRoll, "ballot %s: the credential is not on the credential roll of %q", code, id)
	} else if err != nil {
		return nil, err
	}
	if found, err := x.o.has(x.ctx, bucketBallot, key(id, pr.hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, txErr(CodeDuplicate, "ballot %s is already on the chain", code)
	}
	if found, err := x.o.has(x.ctx, bucketAudited, key(id, pr.hash[:])); err != nil {
		return nil, err
	} else if found {
		return nil, txErr(CodeAudited, "ballot %s was audited and can never be cast; encrypt a fresh ballot", code)
	}
	ev := event("ballot", "election", id, "tracking_code", code, "hash", hexHash(pr.hash[:]))
	if err := x.addToTotals(ec, pr.style, pr.cts, pr.decoded, false); err != nil {
		return nil, err
	}
	if pr.decoded != nil && x.totals != nil {
		x.app.verified.forgetDecoded(cacheKey(ec.election, x.raw))
	}
	x.o.put(bucketBallotCT, key(id, pr.hash[:]), append(u64(uint64(len(pr.style))), append([]byte(pr.style), pr.cts...)...))
	if prev, err := x.o.get(x.ctx, bucketCurrent, key(id, pr.credential)); err == nil {
		if err := x.subtractStored(ec, prev); err != nil {
			return nil, err
		}
		var old BallotRecord
		if ok, err := x.o.getJSON(x.ctx, bucketBallot, key(id, prev), &old); err != nil || !ok {
			if err != nil {
				return nil, fmt.Errorf("chain: ballot record of the replaced ballot: %w", err)
			}
			return nil, errors.New("chain: ballot record of the replaced ballot is missing")
		}
		old.ReplacedBy = pr.hash[:]
		x.o.putJSON(bucketBallot, key(id, prev), &old)
		rec.BallotsReplaced++
		ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: "replaces", Value: old.TrackingCode, Index: true})
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	x.o.put(bucketCurrent, key(id, pr.credential), pr.hash[:])
	x.o.putJSON(bucketBallot, key(id, pr.hash[:]), &BallotRecord{Hash: pr.hash[:], TrackingCode: code, Credential: pr.credential, Height: x.height, Index: x.index})
	x.o.put(bucketTracking, key(id, []byte(code)), pr.hash[:])
	rec.BallotsCast++
	x.o.putRecord(id, rec)
	return []abci.Event{ev}, nil
}

// preverify checks the signatures and proofs of the block's ballots that
// are not in the cache yet, with one batch verification for all of them.
func (a *App) preverify(ctx context.Context, o *overlay, txs [][]byte) {
	type pending struct {
		key   [32]byte
		entry *ballot.BatchEntry
		res   *pureResult
	}
	var batch *crypto.Batch
	var todo []pending
	// One lookup per election of the block: the verdicts cached here depend
	// only on the transaction and the election, whatever the block does to
	// the election's record.
	elections := map[string]*electionCache{}
	for _, raw := range txs {
		tx, err := DecodeTx(raw)
		if err != nil || tx.Type != TxBallot {
			continue
		}
		ec, seen := elections[tx.ElectionID]
		if !seen {
			_, ec, _ = a.election(ctx, o, tx.ElectionID) // nil on error
			elections[tx.ElectionID] = ec
		}
		if ec == nil || ec.election == nil {
			continue
		}
		ck := cacheKey(ec.election, raw)
		if _, ok := a.verified.get(ck); ok {
			continue
		}
		e := ec.election
		info, res := inspectCast(e, tx.Fields[0])
		if res != nil {
			a.verified.put(ck, res)
			continue
		}
		if batch == nil {
			if batch, err = crypto.NewBatch(nil); err != nil {
				return // the ballots are then verified one by one
			}
		}
		entry, err := e.AddToBatchEncoded(batch, info.Ballot)
		if err != nil {
			a.verified.put(ck, addToBatchRejection(err))
			continue
		}
		todo = append(todo, pending{ck, entry, castResult(e, info, entry)})
	}
	if batch == nil {
		return
	}
	failed := batch.Verify()
	for _, p := range todo {
		if err := p.entry.Failed(failed); err != nil {
			p.res = &pureResult{err: txErr(CodeInvalidProof, "%v", err)}
		}
		a.verified.put(p.key, p.res)
	}
}
