package verify

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/record"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// engine re-executes every transaction of the chain with the election's
// rules (package rules, the code the nodes run) over its own in-memory
// state, block by block. Each transaction gets a code (0 accepted, else the
// rejection code of spec-chain.md §7), which is compared with the chain's
// result, and after each block the state's app hash is recomputed and
// compared with the one the next header signs (check 15).
type engine struct {
	v  *verifier
	id string

	r     *rules.Rules
	st    *rules.MemState
	pre   *rules.Prechecked
	stats *proofStats
	first bool // the genesis writes are not applied yet

	// The file of the state's spilled values (rules.MemState.Spill), and
	// its name if it could not be removed while open.
	spill     *os.File
	spillName string

	// Window of blocks whose ballots are verified together.
	pending        []*pendingBlock
	pendingBallots int

	// The election's accepted ballots and audits in chain order, as the
	// re-executed state records them (what the record's index files are
	// compared with; load).
	cast       map[[32]byte]*castInfo
	order      []*castInfo
	current    map[[32]byte]*castInfo
	auditOrder []*auditInfo

	// Loaded from the state at the end (load).
	rec         *rules.ElectionRecord
	ec          *rules.Election
	manifest    *ballot.Manifest
	manifestRaw []byte
	election    *ballot.Election
	msgs        map[string]*trustee.Message // kind/from
	creds       map[[32]byte]rules.CredentialRecord
	totals      []crypto.Ciphertext
	shareRaw    map[int][]byte
	shares      map[int]crypto.DecryptionShare
	counts      []uint64
}

type castInfo struct {
	hash       [32]byte
	code       string
	cred       [32]byte
	height     int64
	index      int
	replacedBy *castInfo
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
	tx   wire.Tx
	derr error
}

func newEngine(v *verifier) *engine {
	e := &engine{v: v, id: v.rec.Index.ElectionID, st: rules.NewMemState(), stats: &proofStats{contests: map[string]int{}}, first: true,
		cast: map[[32]byte]*castInfo{}, current: map[[32]byte]*castInfo{}}
	// Memory grows with the state only by what the rules read back at
	// once: the tracking-code index counts in the app hash only, and the
	// ballots' ciphertexts and records and the ballot that counts for each
	// credential (read again only for a re-vote, and the records once at
	// the end) wait in a temporary file.
	e.st.HashOnly(rules.BucketTracking)
	if f, err := os.CreateTemp("", "evote-verify-*"); err == nil {
		e.spill = f
		if os.Remove(f.Name()) != nil {
			e.spillName = f.Name() // removed by close
		}
		e.st.Spill(f, rules.BucketBallotCT, rules.BucketBallot, rules.BucketCurrent)
	}
	e.pre = &rules.Prechecked{Checked: e.stats.count}
	e.r = rules.New(v.chainID, v.officials)
	e.r.Checks = e.pre
	return e
}

// proofStats counts the proofs the verification checked, for the report.
type proofStats struct {
	mu                 sync.Mutex
	contests           map[string]int // contests per style
	proofs, selections int64
}

// count adds a verified ballot's proofs: one per selection and one per
// contest of its style.
func (p *proofStats) count(e *ballot.Election, v *rules.Verified) {
	if v.Err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	contests, ok := p.contests[v.Style]
	if !ok {
		cs, _ := e.Manifest.StyleContests(v.Style)
		contests = len(cs)
		p.contests[v.Style] = contests
	}
	n := int64(len(v.Ciphertexts) / crypto.CiphertextSize)
	p.selections += n
	p.proofs += n + int64(contests)
}

// close removes the state's spill file.
func (e *engine) close() {
	if e.spill != nil {
		e.spill.Close()
		if e.spillName != "" {
			os.Remove(e.spillName)
		}
	}
}

// addBlock queues a block; its ballots are verified with those of the
// following blocks, in one round of batches, before the queue is applied.
func (e *engine) addBlock(en *record.Entry) {
	pb := &pendingBlock{e: en, txs: make([]*ptx, len(en.Block.Txs))}
	settles := false
	for i, raw := range en.Block.Txs {
		tx, err := wire.Decode(raw)
		pb.txs[i] = &ptx{tx: tx, derr: err}
		switch tx.(type) {
		case *wire.Ballot:
			e.pendingBallots++
		case *wire.Audit, nil:
		default:
			// A transaction that may change what the next ballots are
			// checked against (a definition, the ceremony that gives the
			// key, the roll, open, close): the queue is applied at once, so
			// that the ballots after it are verified in batches against
			// the state it makes.
			settles = true
		}
	}
	e.pending = append(e.pending, pb)
	if settles || e.pendingBallots >= e.v.opts.Workers*e.v.opts.BallotsPerBatch || len(e.pending) >= record.ChunkHeights {
		e.flush()
	}
}

// flush verifies the queued ballots of elections that have their key in
// parallel batches, then applies the queued blocks in order.
func (e *engine) flush() {
	e.v.timed(CheckBallots, e.preverify)
	for _, pb := range e.pending {
		e.applyBlock(pb)
	}
	// Ballots the rules refused before their pure checks leave results.
	e.pre.Clear()
	e.pending, e.pendingBallots = nil, 0
}

// preverify runs the pure checks of the queued ballots: each worker checks
// its share with one batch verification (one multi-scalar multiplication,
// bisected on failure to name the ballot, contest and selection).
func (e *engine) preverify() {
	type job struct {
		e     *ballot.Election
		raws  [][]byte
		casts [][]byte
	}
	elections := map[string]*ballot.Election{}
	var jobs []*job
	cur := map[*ballot.Election]*job{}
	for _, pb := range e.pending {
		for i, t := range pb.txs {
			b, ok := t.tx.(*wire.Ballot)
			if !ok {
				continue
			}
			be, seen := elections[b.ElectionID]
			if !seen {
				if _, ec, err := e.r.Election(e.st, b.ElectionID); err == nil {
					be = ec.Ballot
				}
				elections[b.ElectionID] = be
			}
			if be == nil {
				continue
			}
			j := cur[be]
			if j == nil || len(j.casts) >= e.v.opts.BallotsPerBatch {
				j = &job{e: be}
				cur[be] = j
				jobs = append(jobs, j)
			}
			j.raws, j.casts = append(j.raws, pb.e.Block.Txs[i]), append(j.casts, b.Cast)
		}
	}
	work := make(chan *job)
	var wg sync.WaitGroup
	for range min(e.v.opts.Workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				e.pre.Verify(j.e, j.raws, j.casts, 1)
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
}

// applyBlock re-executes one block and checks the app hash its header
// signs (the state after the block before) and the one after it.
func (e *engine) applyBlock(pb *pendingBlock) {
	en := pb.e
	out := e.v.check(CheckOutcomes)
	ah := e.v.check(CheckAppHash)
	if hdr := en.Block.Header.AppHash; !bytes.Equal(hdr, e.st.AppHash()) {
		ah.fail(&Failure{Height: en.Height, Message: fmt.Sprintf("the header signs app hash %X for the state after height %d; re-execution gives %X", []byte(hdr), en.Height-1, e.st.AppHash())})
	}
	if e.first {
		// InitChain's writes are committed with the first block.
		for _, w := range rules.GenesisWrites(e.v.chainID, e.v.appState) {
			e.st.Put(w.Bucket, w.Key, w.Value)
		}
		e.first = false
	}
	blk := e.r.Block(en.Height, en.Block.Header.Time)
	for i, t := range pb.txs {
		chainCode, known := wire.OK, en.Results != nil && i < len(en.Results)
		var chainLog string
		if known {
			chainCode, chainLog = wire.Code(en.Results[i].Code), en.Results[i].Log
		}
		if t.derr != nil {
			out.add("transactions that do not decode", 1)
			if known && chainCode != wire.CodeMalformed {
				out.fail(&Failure{Height: en.Height, TxIndex: intp(i), Message: fmt.Sprintf("the transaction does not decode (%v), but the chain's result is code %d", t.derr, chainCode)})
			}
			continue
		}
		raw := en.Block.Txs[i]
		layer := e.st.Layer()
		var err error
		e.v.timed(checkOf(t.tx.Kind()), func() { _, err = blk.Apply(layer, rules.Tx{Raw: raw, Tx: t.tx, Index: i}) })
		rej := rules.AsRejection(err)
		if err != nil && rej == nil {
			// Not a fault of the transaction: the verifier's own state.
			rej = &rules.Rejection{Code: wire.CodeInternal, Msg: "internal error: " + err.Error()}
			out.fail(&Failure{Height: en.Height, TxIndex: intp(i), Message: "re-execution failed: " + err.Error()})
		}
		mine := wire.OK
		if rej == nil {
			layer.Merge()
		} else {
			mine = rej.Code
		}
		c := e.v.check(checkOf(t.tx.Kind()))
		if t.tx.Election() == e.id {
			c.add(t.tx.Kind().String()+" transactions", 1)
			if mine != wire.OK {
				c.add("rejected: "+mine.String(), 1)
			}
		}
		out.add("transactions re-executed", 1)
		if mine != wire.OK {
			out.add("rejected", 1)
		}
		if !known || mine == chainCode {
			continue
		}
		f := &Failure{Height: en.Height, TxIndex: intp(i)}
		if b, ok := t.tx.(*wire.Ballot); ok {
			if h, _, ok := record.CastInfo(b.Cast); ok {
				f.TrackingCode = ballot.TrackingCode(h)
			}
		}
		if rej != nil {
			f.Contest, f.Selection, f.Trustee = rej.Contest, rej.Selection, rej.Trustee
		}
		what := t.tx.Kind().String()
		switch {
		case chainCode == wire.OK:
			f.Message = fmt.Sprintf("%s accepted by the chain, but invalid: %s (code %d)", what, rej.Msg, mine)
			cp := *f
			c.fail(&cp)
		case mine == wire.OK:
			f.Message = fmt.Sprintf("%s rejected by the chain (code %d: %s), but valid", what, chainCode, chainLog)
			cp := *f
			c.fail(&cp)
		default:
			f.Message = fmt.Sprintf("%s rejected by the chain with code %d (%s), re-execution rejects it with code %d (%s)", what, chainCode, chainLog, mine, rej.Msg)
		}
		out.fail(f)
	}
	blk.End(e.st)
	after := e.st.Commit(en.Height)
	ah.add("heights", 1)
	if len(en.AppHash) > 0 && !bytes.Equal(en.AppHash, after) {
		ah.fail(&Failure{Height: en.Height, Message: fmt.Sprintf("the record says the state after this block has app hash %X; re-execution gives %X", []byte(en.AppHash), after)})
	}
}

// checkOf is the check a transaction kind belongs to.
func checkOf(k wire.Kind) int {
	switch k {
	case wire.KindDefineElection, wire.KindOpen, wire.KindClose:
		return CheckDefinition
	case wire.KindCredentialRoll:
		return CheckRoll
	case wire.KindCeremony:
		return CheckCeremony
	case wire.KindBallot:
		return CheckBallots
	case wire.KindAudit:
		return CheckAudits
	case wire.KindTotals:
		return CheckTotals
	case wire.KindShare:
		return CheckShares
	case wire.KindResult:
		return CheckCounts
	}
	return CheckOutcomes
}

// load reads the election's final state: what the record's convenience
// files and the report are compared with. It reports whether the election
// is defined.
func (e *engine) load() bool {
	rec, ec, err := e.r.Election(e.st, e.id)
	if err != nil {
		if rules.AsRejection(err) == nil {
			e.v.check(CheckDefinition).fail(&Failure{Message: "reading the re-executed state: " + err.Error()})
		}
		return false
	}
	e.rec, e.ec, e.manifest, e.election = rec, ec, ec.Manifest, ec.Ballot
	e.manifestRaw, _ = rules.Manifest(e.st, e.id)
	msgs, err := rules.CeremonyMessages(e.st, ec)
	if err != nil {
		e.v.check(CheckCeremony).fail(&Failure{Message: err.Error()})
	}
	e.msgs = map[string]*trustee.Message{}
	for _, m := range msgs {
		e.msgs[ceremonyKey(m.Kind, m.From)] = m
	}
	e.loadBallots()
	e.creds = map[[32]byte]rules.CredentialRecord{}
	e.st.Scan(rules.BucketCred, rules.Key(e.id), func(k, v []byte) {
		if c, err := rules.DecodeCredentialRecord(v); len(k) == 32 && err == nil {
			e.creds[[32]byte(k)] = c
		}
	})
	if e.totals, err = rules.Totals(e.st, ec.Manifest); err != nil {
		e.v.check(CheckTotals).fail(&Failure{Message: err.Error()})
	}
	e.shares, e.shareRaw = map[int]crypto.DecryptionShare{}, map[int][]byte{}
	for _, l := range rec.Shares {
		raw, _, _ := e.st.Get(rules.BucketShare, rules.Key(e.id, wire.U64(uint64(l))))
		s, err := crypto.DecodeDecryptionShare(raw)
		if err != nil {
			e.v.check(CheckShares).fail(&Failure{Trustee: l, Message: err.Error()})
			continue
		}
		e.shares[l], e.shareRaw[l] = s, raw
	}
	if rec.Phase == wire.PhaseTallied {
		for _, cr := range rec.Result {
			e.counts = append(e.counts, cr.Values()...)
		}
	}
	return true
}

// loadBallots reads the election's ballot and audit records from the state,
// in chain order, with the ballot each re-vote replaced as the rules
// recorded it.
func (e *engine) loadBallots() {
	fail := func(err error) {
		e.v.check(CheckRevote).fail(&Failure{Message: "reading the re-executed state: " + err.Error()})
	}
	replacedBy := map[*castInfo][32]byte{}
	e.st.Scan(rules.BucketBallot, rules.Key(e.id), func(_, v []byte) {
		br, err := rules.DecodeBallotRecord(v)
		if err != nil || len(br.Hash) != 32 || len(br.Credential) != 32 {
			fail(fmt.Errorf("a ballot record: %v", err))
			return
		}
		ci := &castInfo{hash: [32]byte(br.Hash), code: br.TrackingCode, cred: [32]byte(br.Credential), height: br.Height, index: br.Index}
		if len(br.ReplacedBy) == 32 {
			replacedBy[ci] = [32]byte(br.ReplacedBy)
		} else {
			e.current[ci.cred] = ci
		}
		e.cast[ci.hash] = ci
		e.order = append(e.order, ci)
	})
	for ci, h := range replacedBy {
		ci.replacedBy = e.cast[h]
	}
	slices.SortFunc(e.order, func(a, b *castInfo) int {
		return cmp.Or(cmp.Compare(a.height, b.height), cmp.Compare(a.index, b.index))
	})
	e.st.Scan(rules.BucketAudited, rules.Key(e.id), func(_, v []byte) {
		ar, err := rules.DecodeAuditRecord(v)
		if err != nil || len(ar.Hash) != 32 {
			fail(fmt.Errorf("an audit record: %v", err))
			return
		}
		e.auditOrder = append(e.auditOrder, &auditInfo{hash: [32]byte(ar.Hash), code: ar.TrackingCode, height: ar.Height, index: ar.Index})
	})
	slices.SortFunc(e.auditOrder, func(a, b *auditInfo) int {
		return cmp.Or(cmp.Compare(a.height, b.height), cmp.Compare(a.index, b.index))
	})
}

func ceremonyKey(kind string, from int) string { return fmt.Sprintf("%s/%d", kind, from) }

// position names the contest and selection of totals position i.
func (e *engine) position(i int) (string, string) { return rules.Position(e.manifest, i) }

// checkCombination combines the published shares a second time, with the
// k highest trustees instead of the k lowest the chain used: any k shares
// must give the same points (spec-verify.md, check 12).
func (e *engine) checkCombination() {
	comb := e.v.check(CheckCombination)
	k := e.manifest.Trustees.Threshold
	var ls []int
	var shares []crypto.DecryptionShare
	for l := 1; l <= len(e.rec.VerificationKeys); l++ {
		if s, ok := e.shares[l]; ok {
			ls, shares = append(ls, l), append(shares, s)
		}
	}
	vks, err := rules.VerificationKeys(e.rec)
	if err != nil || len(shares) < k || e.election == nil {
		return
	}
	points, err := crypto.Combine(e.election.BaseHash, k, vks, e.totals, shares[:k])
	if err != nil {
		comb.fail(&Failure{Message: err.Error()})
		return
	}
	comb.add("selections combined", int64(len(points)))
	comb.note("trustees %v", ls[:k])
	if len(shares) > k {
		other, err := crypto.Combine(e.election.BaseHash, k, vks, e.totals, shares[len(shares)-k:])
		if err != nil {
			comb.fail(&Failure{Message: err.Error()})
			return
		}
		for i := range points {
			if !points[i].IsEqual(other[i]) {
				c, s := e.position(i)
				comb.fail(&Failure{Contest: c, Selection: s, Message: "the shares of trustees " + fmt.Sprint(ls[:k]) + " and " + fmt.Sprint(ls[len(ls)-k:]) + " combine to different points"})
			}
		}
		comb.add("second combination (other trustees)", 1)
	}
	if e.counts != nil {
		cc := e.v.check(CheckCounts)
		for i := range points {
			if i < len(e.counts) && !crypto.BaseMul(crypto.ScalarFromUint64(e.counts[i])).IsEqual(points[i]) {
				c, s := e.position(i)
				cc.fail(&Failure{Contest: c, Selection: s, Message: fmt.Sprintf("count %d: %d·G is not the combined point", e.counts[i], e.counts[i])})
			}
		}
		cc.add("counts checked", int64(len(e.counts)))
	}
}
