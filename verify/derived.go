package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/record"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/trustee"
)

// finish applies the last queued blocks, then compares the record's
// convenience files with what the re-execution derived from the blocks.
func (e *engine) finish() {
	e.flush()
	v := e.v
	if !e.load() {
		v.check(CheckDefinition).fail(&Failure{Message: fmt.Sprintf("election %q is not defined in the record's blocks", e.id)})
		for n := CheckCeremony; n <= CheckCounts; n++ {
			v.check(n).skipped = "no election definition"
		}
		return
	}
	e.notes()
	v.timed(CheckDefinition, e.compareManifest)
	v.timed(CheckCeremony, e.compareCeremony)
	v.timed(CheckRoll, e.compareRoll)
	v.timed(CheckRevote, e.compareBallots)
	v.timed(CheckAudits, e.compareAudits)
	v.timed(CheckTotals, e.compareTotals)
	v.timed(CheckShares, e.compareShares)
	v.timed(CheckCombination, e.checkCombination)
	v.timed(CheckCounts, e.compareResult)
	e.compareState()
	if len(e.cast) == 0 {
		v.check(CheckBallots).skipped = "no ballot was cast"
		v.check(CheckRevote).skipped = "no ballot was cast"
	}
	if len(e.auditOrder) == 0 && v.check(CheckAudits).FailureCount == 0 {
		v.check(CheckAudits).skipped = "no audited ballot"
	}
	if e.rec.TotalsHeight == 0 {
		v.check(CheckTotals).skipped = "no encrypted totals published yet"
	}
	if len(e.shares) == 0 {
		v.check(CheckShares).skipped = "no decryption share published yet"
	}
	if e.counts == nil {
		v.check(CheckCombination).skipped = "no result published yet"
		v.check(CheckCounts).skipped = "no result published yet"
	}
	var replaced int64
	for _, ci := range e.order {
		if ci.replacedBy != nil {
			replaced++
		}
	}
	c := v.check(CheckRevote)
	c.add("credentials that voted", int64(len(e.current)))
	c.add("ballots replaced by a re-vote", replaced)
	if e.counts != nil && v.check(CheckCombination).FailureCount == 0 && v.check(CheckCounts).FailureCount == 0 {
		v.report.Result = e.verifiedResult()
	}
	b := v.check(CheckBallots)
	b.add("proofs verified", e.stats.proofs)
	b.add("selections", e.stats.selections)
	a := v.check(CheckAppHash)
	a.note("app hash after height %d: %X", e.v.rec.Index.LastHeight, e.st.AppHash())
	if v.lastResults {
		a.note("the app hash after the last block (%d) is signed by no header in the record yet; it is compared with the record's app_hash only", e.v.rec.Index.LastHeight)
	}
}

// verifiedResult is the checked counts with the manifest's titles, and
// every contest's blank count as the rules define it (rules.Blanks),
// recomputed from the re-executed state.
func (e *engine) verifiedResult() *VerifiedResult {
	r := &VerifiedResult{Title: e.manifest.Title, Height: e.rec.ResultHeight, Ballots: e.rec.Counted(), Weight: e.rec.WeightCounted}
	blanks, err := rules.Blanks(e.manifest, e.rec)
	if err != nil {
		return nil
	}
	for i, c := range e.manifest.Contests {
		vc := VerifiedContest{Contest: c.ID, Title: c.Title, Blank: blanks[i].Count, BlankKind: blanks[i].Kind}
		for k, s := range c.Selections {
			vc.Selections = append(vc.Selections, VerifiedSelection{Selection: s.ID, Title: s.Title, Count: e.rec.Result[i].Counts[k]})
		}
		r.Contests = append(r.Contests, vc)
	}
	return r
}

// notes adds what the re-executed state says of the election to the report.
func (e *engine) notes() {
	rec := e.rec
	d := e.v.check(CheckDefinition)
	d.note("manifest hash %x, defined at height %d", rec.ManifestHash, rec.DefinedHeight)
	c := e.v.check(CheckCeremony)
	c.add("messages", int64(len(e.msgs)))
	if rec.JointKey != nil {
		c.note("joint key %s, base hash %x, qualified trustees %v (height %d)", base64.StdEncoding.EncodeToString(rec.JointKey), rec.BaseHash, rec.Qualified, rec.KeyHeight)
	}
	for _, f := range rec.Faults {
		c.note("fault: %s", f)
	}
	r := e.v.check(CheckRoll)
	r.add("chunks", int64(rec.RollChunks))
	r.add("credentials", int64(len(e.creds)))
	if rec.RollComplete {
		r.note("roll hash %x (%d credentials)", rec.RollHash, rec.RollCount)
	}
	e.v.check(CheckAudits).add("audited ballots verified", int64(len(e.auditOrder)))
	if e.totals != nil && rec.TotalsHeight != 0 {
		t := e.v.check(CheckTotals)
		t.add("selections", int64(len(e.totals)))
		t.add("counted ballots", int64(len(e.current)))
	}
	s := e.v.check(CheckShares)
	s.add("shares", int64(len(e.shares)))
	for _, sh := range e.shares {
		s.add("proofs verified", int64(len(sh.Parts)))
	}
}

func (e *engine) fileFailure(n int, file string, f *Failure) {
	f.File = file
	e.v.check(n).fail(f)
}

// readJSON reads an optional convenience file; ok is false if absent. The
// file may be no larger than record.JSONLimit of compact, the size of its
// content as the blocks give it (why says what that is), so that a hostile
// file costs memory only in proportion to the valid content
// (docs/record.md §5).
func (e *engine) readJSON(n int, file string, compact int64, why string, v any) bool {
	if !e.v.rec.Has(file) {
		return false
	}
	raw, err := e.v.rec.ReadFileMax(file, record.JSONLimit(compact), why)
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		e.fileFailure(n, file, &Failure{Message: err.Error()})
		return false
	}
	return true
}

func (e *engine) compareManifest() {
	if !e.v.rec.Has(record.ManifestFile) {
		e.fileFailure(CheckDefinition, record.ManifestFile, &Failure{Message: "missing"})
		return
	}
	raw, err := e.v.rec.ReadFileMax(record.ManifestFile, int64(len(e.manifestRaw)), "the manifest on the chain")
	if err != nil || !bytes.Equal(raw, e.manifestRaw) {
		e.fileFailure(CheckDefinition, record.ManifestFile, &Failure{Message: "differs from the manifest of the election definition on the chain"})
	}
}

func (e *engine) compareCeremony() {
	var files []json.RawMessage
	compact := int64(2)
	for _, m := range e.msgs {
		f, _ := trustee.EncodeMessage(m) // indented: longer than the compact form
		compact += int64(len(f)) + 1
	}
	if !e.readJSON(CheckCeremony, record.CeremonyFile, compact, fmt.Sprintf("the %d ceremony messages on the chain", len(e.msgs)), &files) {
		if e.v.rec.Has(record.CeremonyFile) || len(e.msgs) == 0 {
			return
		}
		e.fileFailure(CheckCeremony, record.CeremonyFile, &Failure{Message: "missing"})
		return
	}
	got := map[string]*trustee.Message{}
	for i, f := range files {
		m, err := trustee.DecodeMessage(f)
		if err != nil {
			e.fileFailure(CheckCeremony, record.CeremonyFile, &Failure{Message: fmt.Sprintf("message %d: %v", i, err)})
			continue
		}
		got[ceremonyKey(m.Kind, m.From)] = m
	}
	for k, m := range e.msgs {
		g, ok := got[k]
		if !ok {
			e.fileFailure(CheckCeremony, record.CeremonyFile, &Failure{Trustee: m.From, Message: fmt.Sprintf("the %s message on the chain is missing", m.Kind)})
			continue
		}
		if !bytes.Equal(g.Payload, m.Payload) || !bytes.Equal(g.Signature.Encode(), m.Signature.Encode()) || g.ElectionID != m.ElectionID {
			e.fileFailure(CheckCeremony, record.CeremonyFile, &Failure{Trustee: m.From, Message: fmt.Sprintf("the %s message differs from the one on the chain", m.Kind)})
		}
		delete(got, k)
	}
	for _, g := range got {
		e.fileFailure(CheckCeremony, record.CeremonyFile, &Failure{Trustee: g.From, Message: fmt.Sprintf("a %s message that is not on the chain", g.Kind)})
	}
}

func (e *engine) compareRoll() {
	c := e.v.check(CheckRoll)
	if !e.rec.RollComplete {
		if e.rec.RollChunks == 0 {
			c.skipped = "no credential roll on the chain"
		} else {
			c.note("the roll is incomplete: %d chunks", e.rec.RollChunks)
		}
		return
	}
	if !e.v.rec.Has(record.RollFile) {
		e.fileFailure(CheckRoll, record.RollFile, &Failure{Message: "missing"})
		return
	}
	// The roll is read as a stream; its size is that of its entries (a
	// line each: the key's 64 hex digits, a style id of at most 64 bytes,
	// a weight of at most 13 digits) and a header that lists the styles.
	compact := int64(1024 + 6*len(e.id) + 72*len(e.manifest.BallotStyles()) + 180*len(e.creds))
	f, err := e.v.rec.OpenFileMax(record.RollFile, record.JSONLimit(compact), fmt.Sprintf("a roll of the %d credentials on the chain", len(e.creds)))
	if err != nil {
		e.fileFailure(CheckRoll, record.RollFile, &Failure{Message: err.Error()})
		return
	}
	roll, err := credential.ReadJSON(f)
	f.Close()
	if err != nil {
		e.fileFailure(CheckRoll, record.RollFile, &Failure{Message: err.Error()})
		return
	}
	if h := roll.Hash(); !bytes.Equal(h[:], e.rec.RollHash) {
		e.fileFailure(CheckRoll, record.RollFile, &Failure{Message: fmt.Sprintf("roll hash %x, the chain's roll hashes to %x", h, e.rec.RollHash)})
	}
	if roll.Len() != len(e.creds) {
		e.fileFailure(CheckRoll, record.RollFile, &Failure{Message: fmt.Sprintf("%d credentials, the chain's roll has %d", roll.Len(), len(e.creds))})
	}
	styles := e.manifest.BallotStyles()
	for i := range roll.Len() {
		re := roll.Entry(i)
		c, ok := e.creds[[32]byte(re.Key)]
		switch {
		case !ok || c.Position != uint64(i):
			e.fileFailure(CheckRoll, record.RollFile, &Failure{Message: fmt.Sprintf("credential %d (%x) is not the chain's credential %d", i, re.Key, i)})
		case c.Style >= len(styles) || styles[c.Style].ID != re.Style || c.Weight != re.Weight:
			e.fileFailure(CheckRoll, record.RollFile, &Failure{Message: fmt.Sprintf("credential %d (%x) has ballot style %q and weight %d; on the chain it has style %d and weight %d", i, re.Key, re.Style, re.Weight, c.Style, c.Weight)})
		}
	}
}

func (e *engine) compareBallots() {
	const file = record.BallotsFile
	if !e.v.rec.Has(file) {
		if len(e.order) > 0 {
			e.fileFailure(CheckRevote, file, &Failure{Message: "missing"})
		}
		return
	}
	// A merge of the file and the accepted ballots by height (both are in
	// chain order), matched by ballot hash within a height, so that one
	// missing or extra ballot is named alone.
	i := 0
	var group []record.BallotEntry
	var groupHeight int64
	compare := func() {
		chainAt := map[string]*castInfo{}
		for ; i < len(e.order) && e.order[i].height <= groupHeight; i++ {
			ci := e.order[i]
			if ci.height < groupHeight {
				e.fileFailure(CheckRevote, file, &Failure{TrackingCode: ci.code, Height: ci.height, TxIndex: intp(ci.index), Message: "an accepted ballot is missing from the index"})
				continue
			}
			chainAt[hex.EncodeToString(ci.hash[:])] = ci
		}
		for _, b := range group {
			ci, ok := chainAt[b.Hash]
			if !ok {
				e.fileFailure(CheckRevote, file, &Failure{TrackingCode: b.TrackingCode, Height: b.Height, TxIndex: intp(b.Index), Message: "listed as accepted, but the chain holds no such accepted ballot"})
				continue
			}
			delete(chainAt, b.Hash)
			want := record.BallotEntry{TrackingCode: ci.code, Hash: hex.EncodeToString(ci.hash[:]), Credential: hex.EncodeToString(ci.cred[:]), Height: ci.height, Index: ci.index}
			if ci.replacedBy != nil {
				want.ReplacedBy = ci.replacedBy.code
			}
			if b != want {
				msg := fmt.Sprintf("the index says %+v, the chain gives %+v", b, want)
				if b.ReplacedBy != want.ReplacedBy {
					msg = fmt.Sprintf("replaced by %q, but by the re-vote rule it is replaced by %q", b.ReplacedBy, want.ReplacedBy)
				}
				e.fileFailure(CheckRevote, file, &Failure{TrackingCode: ci.code, Height: ci.height, TxIndex: intp(ci.index), Message: msg})
			}
		}
		for _, ci := range chainAt {
			e.fileFailure(CheckRevote, file, &Failure{TrackingCode: ci.code, Height: ci.height, TxIndex: intp(ci.index), Message: "an accepted ballot is missing from the index"})
		}
		group = group[:0]
	}
	if err := e.v.rec.CheckSize(file, record.JSONLimit(record.MaxIndexLine*int64(len(e.order))), fmt.Sprintf("an index of the %d accepted ballots on the chain", len(e.order))); err != nil {
		e.fileFailure(CheckRevote, file, &Failure{Message: err.Error()})
		return
	}
	err := e.v.rec.LinesMax(file, record.MaxIndexLine, func(n int, line []byte) error {
		var b record.BallotEntry
		if err := json.Unmarshal(line, &b); err != nil {
			e.fileFailure(CheckRevote, fmt.Sprintf("%s line %d", file, n), &Failure{Message: err.Error()})
			return nil
		}
		if b.Height != groupHeight && len(group) > 0 {
			compare()
		}
		groupHeight = b.Height
		group = append(group, b)
		return nil
	})
	if err != nil {
		e.fileFailure(CheckRevote, file, &Failure{Message: err.Error()})
	}
	compare()
	groupHeight = 1 << 62
	compare()
}

func (e *engine) compareAudits() {
	const file = record.AuditsFile
	if !e.v.rec.Has(file) {
		if len(e.auditOrder) > 0 {
			e.fileFailure(CheckAudits, file, &Failure{Message: "missing"})
		}
		return
	}
	i := 0
	if err := e.v.rec.CheckSize(file, record.JSONLimit(record.MaxIndexLine*int64(len(e.auditOrder))), fmt.Sprintf("an index of the %d accepted audits on the chain", len(e.auditOrder))); err != nil {
		e.fileFailure(CheckAudits, file, &Failure{Message: err.Error()})
		return
	}
	err := e.v.rec.LinesMax(file, record.MaxIndexLine, func(n int, line []byte) error {
		var a record.AuditEntry
		if err := json.Unmarshal(line, &a); err != nil || i >= len(e.auditOrder) {
			e.fileFailure(CheckAudits, fmt.Sprintf("%s line %d", file, n), &Failure{TrackingCode: a.TrackingCode, Message: "not an audited ballot of the chain"})
			i++
			return nil
		}
		ai := e.auditOrder[i]
		want := record.AuditEntry{TrackingCode: ai.code, Hash: hex.EncodeToString(ai.hash[:]), Height: ai.height, Index: ai.index}
		if a != want {
			e.fileFailure(CheckAudits, file, &Failure{TrackingCode: ai.code, Height: ai.height, TxIndex: intp(ai.index), Message: fmt.Sprintf("line %d says %+v, the chain gives %+v", n, a, want)})
		}
		i++
		return nil
	})
	if err != nil {
		e.fileFailure(CheckAudits, file, &Failure{Message: err.Error()})
	}
	for ; i < len(e.auditOrder); i++ {
		ai := e.auditOrder[i]
		e.fileFailure(CheckAudits, file, &Failure{TrackingCode: ai.code, Height: ai.height, TxIndex: intp(ai.index), Message: "an audited ballot is missing from the index"})
	}
}

func (e *engine) compareTotals() {
	var t struct {
		Totals []byte `json:"totals"`
	}
	nsel := 0
	for _, c := range e.manifest.Contests {
		nsel += len(c.Selections)
	}
	if !e.readJSON(CheckTotals, record.TotalsFile, int64(16+base64Len(64*nsel)), fmt.Sprintf("the encrypted totals of %d selections", nsel), &t) {
		if e.rec.TotalsHeight != 0 && !e.v.rec.Has(record.TotalsFile) {
			e.fileFailure(CheckTotals, record.TotalsFile, &Failure{Message: "missing"})
		}
		return
	}
	if e.manifest == nil || e.election == nil {
		return
	}
	mine := e.totals
	want := crypto.EncodeCiphertexts(mine)
	if len(t.Totals) != len(want) {
		e.fileFailure(CheckTotals, record.TotalsFile, &Failure{Message: fmt.Sprintf("%d bytes, want %d", len(t.Totals), len(want))})
		return
	}
	for i := range mine {
		if !bytes.Equal(t.Totals[i*64:(i+1)*64], want[i*64:(i+1)*64]) {
			c, s := e.position(i)
			e.fileFailure(CheckTotals, record.TotalsFile, &Failure{Contest: c, Selection: s, Message: "differs from the sum of the counted ballots"})
		}
	}
}

func (e *engine) compareShares() {
	var s struct {
		Shares [][]byte `json:"shares"`
	}
	compact := int64(16)
	for _, raw := range e.shareRaw {
		compact += int64(base64Len(len(raw)) + 3)
	}
	if !e.readJSON(CheckShares, record.SharesFile, compact, fmt.Sprintf("the %d decryption shares on the chain", len(e.shareRaw)), &s) {
		if len(e.shares) > 0 && !e.v.rec.Has(record.SharesFile) {
			e.fileFailure(CheckShares, record.SharesFile, &Failure{Message: "missing"})
		}
		return
	}
	seen := map[int]bool{}
	for i, raw := range s.Shares {
		sh, err := crypto.DecodeDecryptionShare(raw)
		if err != nil {
			e.fileFailure(CheckShares, record.SharesFile, &Failure{Message: fmt.Sprintf("share %d: %v", i, err)})
			continue
		}
		seen[sh.Trustee] = true
		if !bytes.Equal(raw, e.shareRaw[sh.Trustee]) {
			e.fileFailure(CheckShares, record.SharesFile, &Failure{Trustee: sh.Trustee, Message: "differs from the trustee's share on the chain"})
		}
	}
	for l := range e.shares {
		if !seen[l] {
			e.fileFailure(CheckShares, record.SharesFile, &Failure{Trustee: l, Message: "the trustee's share on the chain is missing"})
		}
	}
}

func (e *engine) compareResult() {
	var r record.Result
	if e.counts == nil {
		if e.v.rec.Has(record.ResultFile) {
			e.fileFailure(CheckCounts, record.ResultFile, &Failure{Message: "a result, but none is on the chain"})
		}
		return
	}
	want, _ := record.MakeResult(e.manifest, e.rec.ResultHeight, e.counts)
	if want == nil {
		return
	}
	wantJSON, _ := json.MarshalIndent(want, "", "  ")
	if !e.readJSON(CheckCounts, record.ResultFile, int64(len(wantJSON)), "the result on the chain", &r) {
		if !e.v.rec.Has(record.ResultFile) {
			e.fileFailure(CheckCounts, record.ResultFile, &Failure{Message: "missing"})
		}
		return
	}
	if r.ElectionID != want.ElectionID || r.Height != want.Height || len(r.Contests) != len(want.Contests) {
		e.fileFailure(CheckCounts, record.ResultFile, &Failure{Message: "election, height or contests differ from the result on the chain"})
		return
	}
	for i, c := range want.Contests {
		g := r.Contests[i]
		if g.Contest != c.Contest || len(g.Selections) != len(c.Selections) {
			e.fileFailure(CheckCounts, record.ResultFile, &Failure{Contest: c.Contest, Message: "contest differs from the manifest"})
			continue
		}
		for k, s := range c.Selections {
			if g.Selections[k] != s {
				e.fileFailure(CheckCounts, record.ResultFile, &Failure{Contest: c.Contest, Selection: s.Selection,
					Message: fmt.Sprintf("count %d, the result on the chain says %d", g.Selections[k].Count, s.Count)})
			}
		}
		if show := func(b *uint64) string {
			if b == nil {
				return "none"
			}
			return strconv.FormatUint(*b, 10)
		}; show(g.Blank) != show(c.Blank) {
			e.fileFailure(CheckCounts, record.ResultFile, &Failure{Contest: c.Contest, Selection: ballot.BlankSelection,
				Message: fmt.Sprintf("blank count %s, the result on the chain says %s", show(g.Blank), show(c.Blank))})
		}
	}
}

// compareState compares the node's own account of the election
// (election.json) with the re-executed state, field by field.
func (e *engine) compareState() {
	var st rules.ElectionRecord
	// The node's record embeds the manifest (JSON-escaped, each byte at
	// most 6) and the faults, and holds a few values per trustee, selection
	// and contest.
	compact := int64(4096 + 6*len(e.manifestRaw) + 256*len(e.manifest.Trustees.Members))
	for _, f := range e.rec.Faults {
		compact += int64(6*len(f) + 3)
	}
	for _, c := range e.manifest.Contests {
		compact += int64(6*len(c.ID) + 32 + 24*len(c.Selections))
	}
	if !e.readJSON(CheckDefinition, record.ElectionFile, compact, "the state of this election", &st) {
		return
	}
	if !bytes.Equal(st.Manifest, e.manifestRaw) {
		e.fileFailure(CheckDefinition, record.ElectionFile, &Failure{Message: "manifest is other bytes than the manifest on the chain"})
	}
	got, want := reflect.ValueOf(st), reflect.ValueOf(*e.rec)
	for i := range got.NumField() {
		f := got.Type().Field(i)
		if f.Name == "Manifest" {
			continue
		}
		g, w := got.Field(i), want.Field(i)
		if g.Kind() == reflect.Slice && g.Len() == 0 && w.Len() == 0 || reflect.DeepEqual(g.Interface(), w.Interface()) {
			continue
		}
		e.fileFailure(stateCheck(f.Name), record.ElectionFile, &Failure{Message: fmt.Sprintf("%s is %v, re-execution gives %v", strings.Split(f.Tag.Get("json"), ",")[0], g.Interface(), w.Interface())})
	}
}

// stateCheck is the check a field of the election's record belongs to.
func stateCheck(field string) int {
	switch {
	case strings.HasPrefix(field, "Roll"):
		return CheckRoll
	case field == "JointKey" || field == "BaseHash" || field == "VerificationKeys" || field == "Qualified" || field == "Faults" || field == "KeyHeight":
		return CheckCeremony
	case field == "BallotsCast" || field == "BallotsReplaced":
		return CheckRevote
	case field == "Audited":
		return CheckAudits
	case field == "TotalsHeight":
		return CheckTotals
	case field == "Shares":
		return CheckShares
	case field == "Result" || field == "ResultHeight":
		return CheckCounts
	}
	return CheckDefinition
}

// base64Len is the length of n bytes in standard base64.
func base64Len(n int) int { return (n + 2) / 3 * 4 }
