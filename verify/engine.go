package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/record"
	"github.com/evote/evote/trustee"
)

// engine re-executes the application's rules (docs/spec-chain.md) for one
// election over the transactions of the blocks, in order, with its own
// state. Each transaction gets a code (0 accepted, else the rejection code
// of spec-chain.md §7), which is compared with the chain's result.
type engine struct {
	v  *verifier
	id string

	// Definition and phases.
	manifest    *ballot.Manifest
	manifestRaw []byte
	officials   map[string]bool
	cer         *trustee.Ceremony
	phase       string
	heights     map[string]int64 // defined, keyed, opened, closed, totals, result

	// Key ceremony.
	msgs      map[string]*trustee.Message // kind/from
	msgOrder  []*trustee.Message
	faults    []string
	election  *ballot.Election
	vks       []crypto.Point
	qualified []int

	// Credential roll.
	rollHeader   []byte
	rollHdr      credential.Header
	rollChunks   map[uint64][32]byte
	creds        map[[32]byte]int
	rollComplete bool
	rollHash     []byte

	// Ballots and audits.
	cast       map[[32]byte]*castInfo
	order      []*castInfo
	current    map[[32]byte]*castInfo
	audited    map[[32]byte]*auditInfo
	auditOrder []*auditInfo
	auditCount map[[32]byte]int // accepted audits per credential
	replaced   []*castInfo

	// Totals, shares, result.
	totals       []crypto.Ciphertext // Σ of the summed accepted ballots
	unsummed     []*pureBallot
	published    []crypto.Ciphertext
	publishedRaw []byte
	shares       map[int]crypto.DecryptionShare
	shareRaw     map[int][]byte
	counts       []uint64

	// Window of blocks whose ballots are verified together.
	pending        []*pendingBlock
	pendingBallots int
}

type castInfo struct {
	hash       [32]byte
	code       string
	cred       [32]byte
	height     int64
	index      int
	replacedBy *castInfo
	style      string
}

type auditInfo struct {
	hash   [32]byte
	code   string
	height int64
	index  int
}

type pendingBlock struct {
	e   *record.Entry
	txs []*ptx
}

// ptx is one transaction of a block.
type ptx struct {
	tx   *chain.Tx
	derr error
	pure *pureBallot // ballots of this election
}

// pureBallot is the outcome of the checks of a ballot transaction that
// depend only on its bytes and the election (decoding, signature, proofs).
type pureBallot struct {
	code      uint32
	msg       string
	contest   string
	selection string
	hash      [32]byte
	cred      [32]byte
	trackCode string
	ballot    *ballot.Ballot
	positions []int
}

func newEngine(v *verifier) *engine {
	return &engine{v: v, id: v.rec.Index.ElectionID, heights: map[string]int64{},
		msgs: map[string]*trustee.Message{}, creds: map[[32]byte]int{}, rollChunks: map[uint64][32]byte{},
		cast: map[[32]byte]*castInfo{}, current: map[[32]byte]*castInfo{}, audited: map[[32]byte]*auditInfo{}, auditCount: map[[32]byte]int{},
		shares: map[int]crypto.DecryptionShare{}, shareRaw: map[int][]byte{}}
}

// rejection is a transaction's rejection with the chain's code.
type rejection struct {
	code uint32
	msg  string
	// where narrows the item (contest, selection, trustee).
	contest, selection string
	trustee            int
}

func (r *rejection) Error() string { return r.msg }

func reject(code uint32, format string, args ...any) *rejection {
	return &rejection{code: code, msg: fmt.Sprintf(format, args...)}
}

// addBlock queues a block; its ballots are verified with those of the
// following blocks, in one round of batches, before the queue is applied.
func (e *engine) addBlock(en *record.Entry) {
	pb := &pendingBlock{e: en, txs: make([]*ptx, len(en.Block.Txs))}
	for i, raw := range en.Block.Txs {
		tx, err := chain.DecodeTx(raw)
		pb.txs[i] = &ptx{tx: tx, derr: err}
		if err == nil && tx.ElectionID == e.id && tx.Type == chain.TxBallot {
			e.pendingBallots++
		}
	}
	e.pending = append(e.pending, pb)
	// Until the election has its key, no ballot can be valid: blocks are
	// applied at once, so that the key is known for the batches.
	if e.election == nil || e.pendingBallots >= e.v.opts.Workers*e.v.opts.BallotsPerBatch || len(e.pending) >= record.ChunkHeights {
		e.flush()
	}
}

// flush verifies the queued ballots in parallel batches, then applies the
// queued blocks in order.
func (e *engine) flush() {
	if e.election != nil {
		var todo []*ptx
		for _, pb := range e.pending {
			for _, t := range pb.txs {
				if t.derr == nil && t.tx.ElectionID == e.id && t.tx.Type == chain.TxBallot {
					todo = append(todo, t)
				}
			}
		}
		e.v.timed(CheckBallots, func() { e.verifyBallots(todo) })
	}
	for _, pb := range e.pending {
		e.applyBlock(pb)
	}
	e.settle()
	e.pending, e.pendingBallots = nil, 0
}

// verifyBallots runs the pure checks of ballots: each worker decodes and
// checks the signatures of its share of the ballots and verifies all their
// proofs in one batch (one multi-scalar multiplication, bisected on
// failure to name the ballot, contest and selection).
func (e *engine) verifyBallots(todo []*ptx) {
	if len(todo) == 0 {
		return
	}
	workers := min(e.v.opts.Workers, len(todo))
	var wg sync.WaitGroup
	per := (len(todo) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per, min((w+1)*per, len(todo))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(part []*ptx) {
			defer wg.Done()
			e.verifyPart(part)
		}(todo[lo:hi])
	}
	wg.Wait()
}

func (e *engine) verifyPart(part []*ptx) {
	batch, err := crypto.NewBatch(nil)
	if err != nil {
		for _, t := range part {
			t.pure = &pureBallot{code: chain.CodeInternal, msg: "no randomness for the batch: " + err.Error()}
		}
		return
	}
	batch.Workers = 1
	type entry struct {
		t *ptx
		b *ballot.BatchEntry
	}
	var entries []entry
	for _, t := range part {
		t.pure = e.pureDecode(t.tx)
		if t.pure.code != 0 || t.pure.ballot == nil {
			continue
		}
		be, err := e.election.AddToBatch(batch, t.pure.ballot)
		if err != nil {
			t.pure.code, t.pure.msg = chain.CodeMalformed, "ballot: "+err.Error()
			continue
		}
		entries = append(entries, entry{t, be})
	}
	failed := batch.Verify()
	var proofs, sels int64
	for _, en := range entries {
		for _, c := range en.t.pure.ballot.Contests {
			proofs += int64(len(c.Selections)) + 1
			sels += int64(len(c.Selections))
		}
	}
	c := e.v.check(CheckBallots)
	c.add("proofs verified", proofs)
	c.add("selections", sels)
	if len(failed) == 0 {
		return
	}
	for _, en := range entries {
		if err := en.b.Failed(failed); err != nil {
			p := en.t.pure
			p.code, p.msg = chain.CodeInvalidProof, err.Error()
			var pe *ballot.ProofError
			if errors.As(err, &pe) {
				p.contest, p.selection = pe.Contest, pe.Selection
			}
		}
	}
}

// pureDecode decodes a cast ballot and checks its signature.
func (e *engine) pureDecode(tx *chain.Tx) *pureBallot {
	p := &pureBallot{}
	if h, cred, ok := record.CastInfo(tx.Fields[0]); ok {
		p.hash, p.trackCode = h, ballot.TrackingCode(h)
		copy(p.cred[:], cred)
	}
	c, err := e.election.DecodeCast(tx.Fields[0])
	var pe *ballot.ProofError
	if errors.As(err, &pe) {
		// A ciphertext or proof that does not decode: an invalid proof (7)
		// of its contest, once the framing and the signature are checked,
		// as the chain checks them (spec-chain.md §4).
		if _, ierr := e.election.InspectCast(tx.Fields[0]); errors.Is(ierr, ballot.ErrMalformed) {
			p.code, p.msg = chain.CodeMalformed, "ballot: "+ierr.Error()
		} else if ierr != nil {
			p.code, p.msg = chain.CodeBadSignature, ierr.Error()
		} else {
			p.code, p.msg, p.contest, p.selection = chain.CodeInvalidProof, err.Error(), pe.Contest, pe.Selection
		}
		return p
	}
	if err != nil {
		p.code, p.msg = chain.CodeMalformed, "ballot: "+err.Error()
		return p
	}
	// The signature covers the ballot hash, computed from the received
	// bytes (the one canonical encoding): as VerifyCast, without encoding
	// the decoded ballot again.
	if err := credential.VerifyBallot(ed25519.PublicKey(c.Ballot.Credential), e.election.BaseHash, p.hash, c.Signature); err != nil {
		p.code, p.msg = chain.CodeBadSignature, "ballot: signature: "+err.Error()
		return p
	}
	p.ballot = c.Ballot
	p.positions, err = e.manifest.TotalsPositions(c.Ballot.StyleID)
	if err != nil {
		p.code, p.msg = chain.CodeMalformed, "ballot: "+err.Error()
	}
	return p
}

// pureSingle runs the pure checks of one ballot on its own (for a ballot
// that arrives in the block that completes the key ceremony).
func (e *engine) pureSingle(t *ptx) {
	e.verifyPart([]*ptx{t})
}

func (e *engine) applyBlock(pb *pendingBlock) {
	en := pb.e
	out := e.v.check(CheckOutcomes)
	for i, t := range pb.txs {
		chainCode, known := uint32(0), en.Results != nil
		var chainLog string
		if known {
			chainCode, chainLog = en.Results[i].Code, en.Results[i].Log
		}
		if t.derr != nil {
			out.add("transactions that do not decode", 1)
			if known && chainCode != chain.CodeMalformed {
				out.fail(&Failure{Height: en.Height, TxIndex: intp(i), Message: fmt.Sprintf("the transaction does not decode (%v), but the chain's result is code %d", t.derr, chainCode)})
			}
			continue
		}
		if t.tx.ElectionID != e.id {
			out.add("transactions of other elections (not re-executed)", 1)
			continue
		}
		var rej *rejection
		e.v.timed(checkOf(t.tx.Type), func() { rej = e.apply(en, i, t) })
		mine := uint32(0)
		if rej != nil {
			mine = rej.code
		}
		out.add("transactions re-executed", 1)
		if mine != 0 {
			out.add("rejected", 1)
		}
		if !known || mine == chainCode {
			continue
		}
		f := &Failure{Height: en.Height, TxIndex: intp(i)}
		if t.pure != nil {
			f.TrackingCode = t.pure.trackCode
		}
		if rej != nil {
			f.Contest, f.Selection, f.Trustee = rej.contest, rej.selection, rej.trustee
		}
		what := t.tx.Type.String()
		switch {
		case chainCode == 0:
			f.Message = fmt.Sprintf("%s accepted by the chain, but invalid: %s (code %d)", what, rej.msg, mine)
			cp := *f
			e.v.check(checkOf(t.tx.Type)).fail(&cp)
		case mine == 0:
			f.Message = fmt.Sprintf("%s rejected by the chain (code %d: %s), but valid", what, chainCode, chainLog)
			cp := *f
			e.v.check(checkOf(t.tx.Type)).fail(&cp)
		default:
			f.Message = fmt.Sprintf("%s rejected by the chain with code %d (%s), re-execution rejects it with code %d (%s)", what, chainCode, chainLog, mine, rej.msg)
		}
		out.fail(f)
	}
}

// checkOf is the check a transaction type belongs to.
func checkOf(t chain.TxType) int {
	switch t {
	case chain.TxDefineElection, chain.TxOpen, chain.TxClose:
		return CheckDefinition
	case chain.TxCredentialRoll:
		return CheckRoll
	case chain.TxCeremony:
		return CheckCeremony
	case chain.TxBallot:
		return CheckBallots
	case chain.TxAudit:
		return CheckAudits
	case chain.TxTotals:
		return CheckTotals
	case chain.TxShare:
		return CheckShares
	case chain.TxResult:
		return CheckCounts
	}
	return CheckOutcomes
}

func (e *engine) apply(en *record.Entry, i int, t *ptx) *rejection {
	tx := t.tx
	if tx.Type == chain.TxDefineElection {
		return e.define(en, tx)
	}
	if e.manifest == nil {
		return reject(chain.CodeUnknownElection, "no election %q on this chain", tx.ElectionID)
	}
	if tx.Type == chain.TxCredentialRoll || tx.Type == chain.TxOpen || tx.Type == chain.TxClose {
		if r := e.checkOfficial(tx, func(k ed25519.PublicKey) bool { return e.officials[string(k)] }); r != nil {
			return r
		}
	}
	switch tx.Type {
	case chain.TxCredentialRoll:
		return e.roll(tx)
	case chain.TxCeremony:
		return e.ceremony(en, tx)
	case chain.TxOpen, chain.TxClose:
		return e.openClose(en, tx)
	case chain.TxBallot:
		return e.ballot(en, i, t)
	case chain.TxAudit:
		return e.audit(en, i, tx)
	case chain.TxTotals:
		return e.publishTotals(en, tx)
	case chain.TxShare:
		return e.share(tx)
	case chain.TxResult:
		return e.result(en, tx)
	}
	return reject(chain.CodeMalformed, "unknown transaction type %d", tx.Type)
}

func (e *engine) checkOfficial(tx *chain.Tx, allowed func(ed25519.PublicKey) bool) *rejection {
	if !allowed(tx.Official) {
		return reject(chain.CodeUnauthorized, "%s: key %s is not an authorised official's key", tx.Type, ballot.FormatEd25519Key(tx.Official))
	}
	if !ed25519.Verify(tx.Official, chain.OfficialMessage(e.v.chainID, tx), tx.Signature) {
		return reject(chain.CodeBadSignature, "%s: the official's signature does not verify", tx.Type)
	}
	return nil
}

// define: spec-chain.md §3, define-election.
func (e *engine) define(en *record.Entry, tx *chain.Tx) *rejection {
	if r := e.checkOfficial(tx, func(k ed25519.PublicKey) bool {
		for _, o := range e.v.officials {
			if o.Equal(k) {
				return true
			}
		}
		return false
	}); r != nil {
		return r
	}
	m, err := ballot.DecodeManifestJSON(tx.Fields[0])
	if err != nil {
		return reject(chain.CodeMalformed, "define-election: %v", err)
	}
	if m.ElectionID != tx.ElectionID {
		return reject(chain.CodeMalformed, "define-election: manifest is for %q, transaction for %q", m.ElectionID, tx.ElectionID)
	}
	listed := false
	for _, o := range m.Officials {
		listed = listed || o.PublicKey.Equal(tx.Official)
	}
	if !listed {
		return reject(chain.CodeUnauthorized, "define-election: the signing official is not listed among the election's officials")
	}
	cer, err := trustee.NewCeremony(m)
	if err != nil {
		return reject(chain.CodeMalformed, "define-election: %v", err)
	}
	if e.manifest != nil {
		return reject(chain.CodeExists, "election %q is already defined on this chain", m.ElectionID)
	}
	e.manifest, e.manifestRaw, e.cer, e.phase = m, tx.Fields[0], cer, chain.PhaseCeremony
	e.officials = map[string]bool{}
	for _, o := range m.Officials {
		e.officials[string(o.PublicKey)] = true
	}
	e.heights["defined"] = en.Height
	c := e.v.check(CheckDefinition)
	c.add("election definitions", 1)
	c.note("manifest hash %x, defined at height %d by %s", m.Hash(), en.Height, ballot.FormatEd25519Key(tx.Official))
	return nil
}

// roll: spec-chain.md §3, credential-roll.
func (e *engine) roll(tx *chain.Tx) *rejection {
	if e.phase != chain.PhaseCeremony && e.phase != chain.PhaseReady {
		return reject(chain.CodeWrongPhase, "credential-roll: election %q is %s; the roll can only be loaded before it opens", tx.ElectionID, e.phase)
	}
	if e.rollComplete {
		return reject(chain.CodeDuplicate, "credential-roll: the roll of %q is already complete", tx.ElectionID)
	}
	hdr, err := credential.DecodeHeader(tx.Fields[0])
	if err != nil {
		return reject(chain.CodeRoll, "credential-roll: header: %v", err)
	}
	if hdr.ElectionID != tx.ElectionID {
		return reject(chain.CodeRoll, "credential-roll: roll is for election %q", hdr.ElectionID)
	}
	if rs := e.manifest.Voters.RollSize; rs > 0 && hdr.Count > rs {
		return reject(chain.CodeRoll, "credential-roll: %d credentials, the election's roll size is %d", hdr.Count, rs)
	}
	if e.rollHeader != nil && !bytes.Equal(e.rollHeader, tx.Fields[0]) {
		return reject(chain.CodeRoll, "credential-roll: header differs from the roll's first chunk")
	}
	if len(tx.Fields[1]) != 8 {
		return reject(chain.CodeMalformed, "credential-roll: chunk index is not 8 bytes")
	}
	idx := binary.BigEndian.Uint64(tx.Fields[1])
	if idx >= uint64(hdr.Chunks()) {
		return reject(chain.CodeRoll, "credential-roll: chunk %d, the roll has %d chunks", idx, hdr.Chunks())
	}
	want := min(credential.ChunkSize, hdr.Count-int(idx)*credential.ChunkSize)
	keys := tx.Fields[2]
	if len(keys) != want*credential.PublicKeySize {
		return reject(chain.CodeRoll, "credential-roll: chunk %d holds %d bytes, want %d keys", idx, len(keys), want)
	}
	if _, ok := e.rollChunks[idx]; ok {
		return reject(chain.CodeDuplicate, "credential-roll: chunk %d is already loaded", idx)
	}
	seen := make(map[[32]byte]int, want)
	for i := range want {
		var k [32]byte
		copy(k[:], keys[i*32:])
		pos := int(idx)*credential.ChunkSize + i
		if j, dup := seen[k]; dup {
			return reject(chain.CodeRoll, "credential-roll: credential %d repeats credential %d", pos, j)
		}
		seen[k] = pos
		if _, on := e.creds[k]; on {
			return reject(chain.CodeRoll, "credential-roll: credential %d is already on the roll", pos)
		}
	}
	for k, pos := range seen {
		e.creds[k] = pos
	}
	e.rollChunks[idx] = credential.ChunkHash(idx, keys)
	e.rollHeader, e.rollHdr = tx.Fields[0], hdr
	c := e.v.check(CheckRoll)
	c.add("chunks", 1)
	c.add("credentials", int64(want))
	if len(e.rollChunks) == hdr.Chunks() {
		hashes := make([][32]byte, hdr.Chunks())
		for i := range hashes {
			hashes[i] = e.rollChunks[uint64(i)]
		}
		rh, err := hdr.RollHash(hashes)
		if err != nil {
			return reject(chain.CodeRoll, "credential-roll: %v", err)
		}
		e.rollComplete, e.rollHash = true, rh[:]
		c.note("roll hash %x (%d credentials)", rh, hdr.Count)
	}
	return nil
}

func ceremonyKey(kind string, from int) string { return fmt.Sprintf("%s/%d", kind, from) }

var ceremonyKinds = []string{trustee.KindRegister, trustee.KindDealing, trustee.KindComplaints, trustee.KindJustifications}

// ceremony: spec-chain.md §3 and spec-threshold.md §11.
func (e *engine) ceremony(en *record.Entry, tx *chain.Tx) *rejection {
	if e.phase != chain.PhaseCeremony {
		return reject(chain.CodeWrongPhase, "ceremony: the key ceremony of %q is over", tx.ElectionID)
	}
	if len(tx.Fields[1]) != 8 {
		return reject(chain.CodeMalformed, "ceremony: sender index is not 8 bytes")
	}
	sig, err := crypto.DecodeSchnorrProof(tx.Fields[3])
	if err != nil {
		return reject(chain.CodeMalformed, "ceremony: signature: %v", err)
	}
	from := binary.BigEndian.Uint64(tx.Fields[1])
	if from > 255 {
		return reject(chain.CodeCeremony, "ceremony: no trustee %d", from)
	}
	msg := &trustee.Message{Kind: string(tx.Fields[0]), ElectionID: tx.ElectionID, From: int(from), Payload: tx.Fields[2], Signature: sig}
	if err := e.cer.Verify(msg); err != nil {
		r := reject(chain.CodeCeremony, "ceremony: %v", err)
		if errors.Is(err, trustee.ErrSignature) {
			r.code = chain.CodeBadSignature
		}
		r.trustee = int(from)
		return r
	}
	if t := e.cer.Collect([]*trustee.Message{msg}); len(t.Problems) > 0 {
		r := reject(chain.CodeCeremony, "ceremony: %v", t.Problems[0])
		r.trustee = int(from)
		return r
	}
	k := ceremonyKey(msg.Kind, msg.From)
	if _, dup := e.msgs[k]; dup {
		return reject(chain.CodeDuplicate, "ceremony: %s already sent its %s message", e.cer.Name(msg.From), msg.Kind)
	}
	e.msgs[k] = msg
	e.msgOrder = append(e.msgOrder, msg)
	c := e.v.check(CheckCeremony)
	c.add("messages", 1)
	if msg.Kind == trustee.KindJustifications {
		e.resolve(en)
	}
	return nil
}

// resolve runs the ceremony's resolution once every trustee's
// justifications are on the chain (spec-threshold.md §6).
func (e *engine) resolve(en *record.Entry) {
	n := e.cer.Params.N
	var msgs []*trustee.Message
	for _, kind := range ceremonyKinds {
		for l := 1; l <= n; l++ {
			m, ok := e.msgs[ceremonyKey(kind, l)]
			if !ok {
				if kind == trustee.KindJustifications {
					return
				}
				continue
			}
			msgs = append(msgs, m)
		}
	}
	c := e.v.check(CheckCeremony)
	t := e.cer.Collect(msgs)
	res, err := e.cer.Resolve(t, true)
	e.faults = nil
	if res != nil {
		for _, f := range res.Faults {
			e.faults = append(e.faults, f.Error())
		}
	}
	if err != nil {
		e.faults = append(e.faults, err.Error())
		c.note("the ceremony failed at height %d: %v", en.Height, err)
		return
	}
	el, err := ballot.NewElection(e.manifest, res.PublicKey)
	if err != nil {
		c.fail(&Failure{Height: en.Height, Message: err.Error()})
		return
	}
	e.election, e.vks, e.qualified = el, res.VerificationKeys, res.Qualified
	e.phase = chain.PhaseReady
	e.heights["keyed"] = en.Height
	jk := crypto.EncodePoint(res.PublicKey)
	c.note("joint key %x, base hash %x, qualified trustees %v", jk, el.BaseHash[:], res.Qualified)
	for _, f := range res.Faults {
		c.note("fault: %v", f)
	}
}

func (e *engine) openClose(en *record.Entry, tx *chain.Tx) *rejection {
	if tx.Type == chain.TxOpen {
		switch {
		case e.phase == chain.PhaseCeremony:
			return reject(chain.CodeWrongPhase, "open: the key ceremony of %q is not finished", tx.ElectionID)
		case e.phase != chain.PhaseReady:
			return reject(chain.CodeWrongPhase, "open: election %q is already %s", tx.ElectionID, e.phase)
		case !e.rollComplete:
			return reject(chain.CodeWrongPhase, "open: the credential roll of %q is incomplete (%d chunks loaded)", tx.ElectionID, len(e.rollChunks))
		}
		e.phase, e.heights["opened"] = chain.PhaseOpen, en.Height
	} else {
		if e.phase != chain.PhaseOpen {
			return reject(chain.CodeWrongPhase, "close: election %q is %s, not open", tx.ElectionID, e.phase)
		}
		e.phase, e.heights["closed"] = chain.PhaseClosed, en.Height
	}
	return nil
}

// checkVoting: the election is open and the block's time is in the window.
func (e *engine) checkVoting(en *record.Entry) *rejection {
	m := e.manifest
	t := en.Block.Header.Time
	switch {
	case e.phase == chain.PhaseClosed:
		return reject(chain.CodeWrongPhase, "election %q is closed", m.ElectionID)
	case e.phase != chain.PhaseOpen:
		return reject(chain.CodeWrongPhase, "election %q is not open yet", m.ElectionID)
	case t.Before(m.Start):
		return reject(chain.CodeOutsideWindow, "election %q opens for voting at %s", m.ElectionID, ballot.FormatTime(m.Start))
	case !t.Before(m.End):
		return reject(chain.CodeOutsideWindow, "voting in election %q ended at %s", m.ElectionID, ballot.FormatTime(m.End))
	}
	return nil
}

// ballot: spec-chain.md §4, in the order of its checks.
func (e *engine) ballot(en *record.Entry, i int, t *ptx) *rejection {
	c := e.v.check(CheckBallots)
	c.add("ballot transactions", 1)
	if r := e.checkVoting(en); r != nil {
		c.add("rejected: not open or outside the voting window", 1)
		return r
	}
	if t.pure == nil {
		e.pureSingle(t)
	}
	p := t.pure
	if p.code != 0 {
		c.add("rejected: malformed, bad signature or bad proof", 1)
		return &rejection{code: p.code, msg: p.msg, contest: p.contest, selection: p.selection}
	}
	if _, ok := e.creds[p.cred]; !ok {
		c.add("rejected: not on the roll", 1)
		return reject(chain.CodeNotOnRoll, "ballot %s: the credential is not on the credential roll of %q", p.trackCode, e.id)
	}
	if _, ok := e.cast[p.hash]; ok {
		c.add("rejected: replays", 1)
		return reject(chain.CodeDuplicate, "ballot %s is already on the chain", p.trackCode)
	}
	if _, ok := e.audited[p.hash]; ok {
		c.add("rejected: audited ballots cast", 1)
		return reject(chain.CodeAudited, "ballot %s was audited and can never be cast", p.trackCode)
	}
	ci := &castInfo{hash: p.hash, code: p.trackCode, cred: p.cred, height: en.Height, index: i, style: p.ballot.StyleID}
	if prev, ok := e.current[p.cred]; ok {
		prev.replacedBy = ci
		e.replaced = append(e.replaced, prev)
	}
	e.current[p.cred] = ci
	e.cast[p.hash] = ci
	e.order = append(e.order, ci)
	e.unsummed = append(e.unsummed, p)
	c.add("accepted", 1)
	return nil
}

// audit: spec-chain.md §4.
func (e *engine) audit(en *record.Entry, i int, tx *chain.Tx) *rejection {
	c := e.v.check(CheckAudits)
	c.add("audit transactions", 1)
	if r := e.checkVoting(en); r != nil {
		return r
	}
	if e.election == nil {
		return reject(chain.CodeWrongPhase, "election %q has no key", e.id)
	}
	a, err := e.election.DecodeAudit(tx.Fields[0])
	var dpe *ballot.ProofError
	if errors.As(err, &dpe) { // a ciphertext or proof that does not decode
		r := reject(chain.CodeInvalidAudit, "audit: %v", err)
		r.contest, r.selection = dpe.Contest, dpe.Selection
		return r
	}
	if err != nil {
		return reject(chain.CodeMalformed, "audit: %v", err)
	}
	if _, err := e.election.VerifyAudit(a); err != nil {
		if errors.Is(err, ballot.ErrAuditSignature) {
			c.add("rejected: unsigned or badly signed", 1)
			return reject(chain.CodeBadSignature, "%v", err)
		}
		r := reject(chain.CodeInvalidAudit, "audit: %v", err)
		var pe *ballot.ProofError
		if errors.As(err, &pe) {
			r.contest, r.selection = pe.Contest, pe.Selection
		}
		return r
	}
	h := a.Ballot.Hash()
	code := ballot.TrackingCode(h)
	cred := [32]byte(a.Ballot.Credential) // 32 bytes: DecodeAudit checked
	if _, ok := e.creds[cred]; !ok {
		c.add("rejected: not on the roll", 1)
		return reject(chain.CodeNotOnRoll, "audit of ballot %s: the credential is not on the credential roll of %q", code, e.id)
	}
	if _, ok := e.cast[h]; ok {
		return reject(chain.CodeDuplicate, "audit: ballot %s was cast; a cast ballot cannot be audited", code)
	}
	if _, ok := e.audited[h]; ok {
		return reject(chain.CodeDuplicate, "audit: ballot %s is already audited", code)
	}
	if n := e.auditCount[cred]; n >= chain.MaxAuditsPerCredential {
		c.add("rejected: over the audit limit", 1)
		return reject(chain.CodeAuditLimit, "audit of ballot %s: the credential has already audited %d ballots in %q, the most an election allows", code, n, e.id)
	}
	e.auditCount[cred]++
	ai := &auditInfo{hash: h, code: code, height: en.Height, index: i}
	e.audited[h] = ai
	e.auditOrder = append(e.auditOrder, ai)
	c.add("audited ballots verified", 1)
	return nil
}

// settle adds the accepted ballots not yet summed into the totals, in
// parallel.
func (e *engine) settle() {
	if len(e.unsummed) == 0 || e.manifest == nil {
		return
	}
	start := time.Now()
	n := 0
	for _, c := range e.manifest.TotalsLayout() {
		n += c
	}
	if e.totals == nil {
		e.totals = zeroTotals(n)
	}
	workers := min(e.v.opts.Workers, len(e.unsummed))
	parts := make([][]crypto.Ciphertext, workers)
	var wg sync.WaitGroup
	per := (len(e.unsummed) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(e.unsummed))
		wg.Add(1)
		go func(w int, bs []*pureBallot) {
			defer wg.Done()
			sum := zeroTotals(n)
			for _, p := range bs {
				addBallot(sum, p.ballot, p.positions, false)
			}
			parts[w] = sum
		}(w, e.unsummed[lo:max(lo, hi)])
	}
	wg.Wait()
	for _, s := range parts {
		for i := range e.totals {
			e.totals[i] = e.totals[i].Add(s[i])
		}
	}
	e.unsummed = nil
	e.v.checks[CheckTotals].Duration += time.Since(start)
}

func zeroTotals(n int) []crypto.Ciphertext {
	t := make([]crypto.Ciphertext, n)
	for i := range t {
		t[i] = crypto.ZeroCiphertext()
	}
	return t
}

func addBallot(t []crypto.Ciphertext, b *ballot.Ballot, pos []int, subtract bool) {
	k := 0
	for _, c := range b.Contests {
		for _, s := range c.Selections {
			if k < len(pos) && pos[k] < len(t) {
				if subtract {
					t[pos[k]] = t[pos[k]].Sub(s.Ciphertext)
				} else {
					t[pos[k]] = t[pos[k]].Add(s.Ciphertext)
				}
			}
			k++
		}
	}
}

// recomputeTotals returns the totals of the counted ballots: the sum of
// the accepted ballots minus the replaced ones, which it reads again from
// the record (only their blocks).
func (e *engine) recomputeTotals() ([]crypto.Ciphertext, error) {
	e.settle()
	n := 0
	for _, c := range e.manifest.TotalsLayout() {
		n += c
	}
	t := zeroTotals(n)
	if e.totals != nil {
		copy(t, e.totals)
	}
	if len(e.replaced) == 0 {
		return t, nil
	}
	at := map[int64]map[int]bool{}
	var lo, hi int64 = 1 << 62, 0
	for _, ci := range e.replaced {
		if at[ci.height] == nil {
			at[ci.height] = map[int]bool{}
		}
		at[ci.height][ci.index] = true
		lo, hi = min(lo, ci.height), max(hi, ci.height)
	}
	found := 0
	err := e.v.rec.Blocks(lo, hi, func(h int64) bool { return at[h] != nil }, func(en *record.Entry) error {
		for i := range at[en.Height] {
			if i >= len(en.Block.Txs) {
				continue
			}
			tx, err := chain.DecodeTx(en.Block.Txs[i])
			if err != nil || tx.Type != chain.TxBallot {
				continue
			}
			c, err := e.election.DecodeCast(tx.Fields[0])
			if err != nil {
				continue
			}
			pos, err := e.manifest.TotalsPositions(c.Ballot.StyleID)
			if err != nil {
				continue
			}
			addBallot(t, c.Ballot, pos, true)
			found++
		}
		return nil
	}, func(string, int, error) error { return nil })
	if err != nil {
		return nil, err
	}
	if found != len(e.replaced) {
		return nil, fmt.Errorf("found %d of the %d replaced ballots when reading the record again", found, len(e.replaced))
	}
	return t, nil
}

// publishTotals: spec-chain.md §5, totals.
func (e *engine) publishTotals(en *record.Entry, tx *chain.Tx) *rejection {
	if e.phase != chain.PhaseClosed || e.heights["totals"] != 0 {
		if e.heights["totals"] != 0 {
			return reject(chain.CodeDuplicate, "totals: the totals of %q are already published", tx.ElectionID)
		}
		return reject(chain.CodeWrongPhase, "totals: election %q is %s; totals are published after it closes", tx.ElectionID, e.phase)
	}
	c := e.v.check(CheckTotals)
	mine, err := e.recomputeTotals()
	if err != nil {
		c.fail(&Failure{Height: en.Height, Message: err.Error()})
		return reject(chain.CodeInternal, "totals: %v", err)
	}
	want := crypto.EncodeCiphertexts(mine)
	got := tx.Fields[0]
	c.add("selections", int64(len(mine)))
	c.add("counted ballots", int64(len(e.current)))
	// The published totals are what the trustees decrypt: later checks use
	// them, so that a wrong total is reported here once.
	if pub, err := crypto.DecodeCiphertexts(got, len(mine)); err == nil {
		e.published, e.publishedRaw = pub, got
		e.heights["totals"] = max(en.Height, 1)
	}
	if !bytes.Equal(want, got) {
		r := reject(chain.CodeWrongTotals, "totals: the published totals of %q differ from the recomputed ones (%d bytes, want %d)", tx.ElectionID, len(got), len(want))
		for i := range mine {
			if len(got) < (i+1)*crypto.CiphertextSize || !bytes.Equal(got[i*64:(i+1)*64], want[i*64:(i+1)*64]) {
				r.contest, r.selection = e.position(i)
				c.fail(&Failure{Height: en.Height, Contest: r.contest, Selection: r.selection,
					Message: "the published encrypted total differs from the sum of the counted ballots"})
			}
		}
		return r
	}
	return nil
}

// position names the contest and selection of totals position i.
func (e *engine) position(i int) (string, string) {
	for _, c := range e.manifest.Contests {
		if i < len(c.Selections) {
			return c.ID, c.Selections[i].ID
		}
		i -= len(c.Selections)
	}
	return "", ""
}

// share: spec-chain.md §5, decryption-share.
func (e *engine) share(tx *chain.Tx) *rejection {
	if e.heights["totals"] == 0 || e.phase == chain.PhaseTallied {
		return reject(chain.CodeWrongPhase, "decryption-share: election %q has no published totals to decrypt, or is already tallied", tx.ElectionID)
	}
	if len(tx.Fields[0]) != 8 {
		return reject(chain.CodeMalformed, "decryption-share: trustee index is not 8 bytes")
	}
	l := binary.BigEndian.Uint64(tx.Fields[0])
	if l < 1 || l > uint64(len(e.vks)) {
		return reject(chain.CodeMalformed, "decryption-share: no trustee %d", l)
	}
	name := e.cer.Name(int(l))
	withTrustee := func(r *rejection) *rejection { r.trustee = int(l); return r }
	s, err := crypto.DecodeDecryptionShare(tx.Fields[1])
	if err != nil {
		return withTrustee(reject(chain.CodeMalformed, "decryption-share: %s: the share does not decode: %v", name, err))
	}
	if s.Trustee != int(l) {
		return withTrustee(reject(chain.CodeMalformed, "decryption-share: the transaction is %s's, but the share it carries is %s's", name, e.cer.Name(s.Trustee)))
	}
	sig, err := crypto.DecodeSchnorrProof(tx.Fields[2])
	if err != nil {
		return withTrustee(reject(chain.CodeMalformed, "decryption-share: %s: signature: %v", name, err))
	}
	identity, err := e.cer.IdentityKey(int(l))
	if err != nil {
		return withTrustee(reject(chain.CodeMalformed, "decryption-share: %v", err))
	}
	if err := trustee.VerifyShareSignature(identity, e.election.BaseHash, int(l), tx.Fields[1], sig); err != nil {
		return withTrustee(reject(chain.CodeBadSignature, "decryption-share: %s: %v", name, err))
	}
	if _, dup := e.shares[int(l)]; dup {
		return withTrustee(reject(chain.CodeDuplicate, "decryption-share: %s already published a share", name))
	}
	if err := crypto.VerifyShare(e.election.BaseHash, e.vks, e.published, s); err != nil {
		r := withTrustee(reject(chain.CodeInvalidProof, "decryption-share: %s: %v", name, err))
		var te *crypto.TrusteeError
		if errors.As(err, &te) {
			var ci int
			if _, perr := fmt.Sscanf(te.Detail, "decryption share for ciphertext %d", &ci); perr == nil {
				r.contest, r.selection = e.position(ci)
			}
		}
		return r
	}
	e.shares[int(l)] = s
	e.shareRaw[int(l)] = tx.Fields[1]
	c := e.v.check(CheckShares)
	c.add("shares", 1)
	c.add("proofs verified", int64(len(s.Parts)))
	return nil
}

// result: spec-chain.md §5, result; checks 12 and 13.
func (e *engine) result(en *record.Entry, tx *chain.Tx) *rejection {
	k := e.manifest.Trustees.Threshold
	switch {
	case e.phase == chain.PhaseTallied:
		return reject(chain.CodeDuplicate, "result: election %q is already tallied", tx.ElectionID)
	case e.heights["totals"] == 0:
		return reject(chain.CodeWrongPhase, "result: election %q has no published totals", tx.ElectionID)
	case len(e.shares) < k:
		return reject(chain.CodeWrongPhase, "result: waiting for decryption shares: %d of the %d needed", len(e.shares), k)
	}
	if len(tx.Fields[0]) != 8*len(e.published) {
		return reject(chain.CodeMalformed, "result: %d bytes of counts, want %d (8 per selection)", len(tx.Fields[0]), 8*len(e.published))
	}
	var shares []crypto.DecryptionShare
	var ls []int
	for l := range e.shares {
		ls = append(ls, l)
	}
	sort.Ints(ls)
	for _, l := range ls {
		shares = append(shares, e.shares[l])
	}
	comb := e.v.check(CheckCombination)
	var points []crypto.Point
	var err error
	e.v.timed(CheckCombination, func() {
		points, err = crypto.Combine(e.election.BaseHash, k, e.vks, e.published, shares)
		if err != nil || len(shares) <= k {
			return
		}
		// Any k shares give the same points: combine the k highest too.
		other, oerr := crypto.Combine(e.election.BaseHash, k, e.vks, e.published, shares[len(shares)-k:])
		if oerr != nil {
			err = oerr
			return
		}
		for i := range points {
			if !points[i].IsEqual(other[i]) {
				c, s := e.position(i)
				comb.fail(&Failure{Height: en.Height, Contest: c, Selection: s, Message: "the shares of trustees " + fmt.Sprint(ls[:k]) + " and " + fmt.Sprint(ls[len(ls)-k:]) + " combine to different points"})
			}
		}
		comb.add("second combination (other trustees)", 1)
	})
	if err != nil {
		comb.fail(&Failure{Height: en.Height, Message: err.Error()})
		return reject(chain.CodeInternal, "internal error: combining shares: %v", err)
	}
	comb.add("selections combined", int64(len(points)))
	comb.note("trustees %v", ls[:k])
	counts := make([]uint64, len(points))
	var bad *rejection
	cc := e.v.check(CheckCounts)
	for i := range points {
		counts[i] = binary.BigEndian.Uint64(tx.Fields[0][8*i:])
		if !crypto.BaseMul(crypto.ScalarFromUint64(counts[i])).IsEqual(points[i]) {
			c, s := e.position(i)
			if bad == nil {
				bad = reject(chain.CodeWrongResult, "result: contest %q, selection %q: %d is not the decrypted total", c, s, counts[i])
				bad.contest, bad.selection = c, s
			}
			cc.fail(&Failure{Height: en.Height, Contest: c, Selection: s, Message: fmt.Sprintf("count %d: %d·G is not the combined point", counts[i], counts[i])})
		}
	}
	cc.add("counts checked", int64(len(counts)))
	e.counts = counts
	if bad != nil {
		return bad
	}
	e.phase, e.heights["result"] = chain.PhaseTallied, max(en.Height, 1)
	return nil
}
