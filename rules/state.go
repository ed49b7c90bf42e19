package rules

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/wire"
)

// State is the key-value state the rules read and write: the committed
// state under a block's pending writes (chain), or the verifier's own.
type State interface {
	// Get returns the value of key in bucket; ok is false if there is none.
	// An error is a failure of the state itself, never "absent".
	Get(bucket string, key []byte) (value []byte, ok bool, err error)
	// Put sets the value of key in bucket.
	Put(bucket string, key, value []byte)
}

// Buckets of the state (docs/spec-chain.md §6). Keys of an election's
// values start with its id and a zero byte (Key).
const (
	BucketMeta       = "meta"       // "chain-id" → the chain id; "app-state" → the genesis app_state
	BucketElection   = "election"   // election id → ElectionRecord
	BucketManifest   = "manifest"   // election id → the manifest's canonical JSON
	BucketCeremony   = "ceremony"   // id ‖ 0 ‖ message kind ‖ 0 ‖ u64(from) → the ceremony transaction
	BucketRollChunk  = "rollchunk"  // id ‖ 0 ‖ u64(chunk) → the chunk hash
	BucketRollBounds = "rollbounds" // id ‖ 0 ‖ u64(chunk) → the chunk's first key ‖ last key
	BucketRollEntry  = "rollentry"  // id ‖ 0 ‖ u64(chunk) → the chunk's entries, as on the roll
	BucketCred       = "cred"       // id ‖ 0 ‖ credential key → CredentialRecord
	BucketCurrent    = "current"    // id ‖ 0 ‖ credential key → hash of the ballot that counts
	BucketBallot     = "ballot"     // id ‖ 0 ‖ ballot hash → BallotRecord
	BucketBallotCT   = "ballotct"   // id ‖ 0 ‖ ballot hash → LP(style) ‖ the ballot's ciphertexts
	BucketTracking   = "tracking"   // id ‖ 0 ‖ tracking code → ballot hash
	BucketAudited    = "audited"    // id ‖ 0 ‖ ballot hash → AuditRecord
	BucketAuditCount = "auditcount" // id ‖ 0 ‖ credential key → u64(accepted audits)
	BucketTotals     = "totals"     // election id → running encrypted totals (64 bytes per selection)
	BucketShare      = "share"      // id ‖ 0 ‖ u64(trustee) → the decryption share
)

// Key joins an election id and the parts of a key within it with zero
// bytes. Election ids never contain a zero byte, so keys of different
// elections never collide.
func Key(electionID string, parts ...[]byte) []byte {
	k := append([]byte(electionID), 0)
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// ElectionRecord is the state of one election (BucketElection). Its JSON
// form is for the nodes' API and the record's election.json; its state
// encoding is Encode.
type ElectionRecord struct {
	// Manifest is the canonical manifest JSON. It is stored under its own
	// key (BucketManifest), written once; the API and election.json include
	// it, the state encoding does not.
	Manifest      json.RawMessage `json:"manifest,omitempty"`
	ManifestHash  []byte          `json:"manifest_hash"`
	Phase         wire.Phase      `json:"phase"`
	DefinedHeight int64           `json:"defined_height"`
	// Key ceremony outcome.
	JointKey         []byte   `json:"joint_key,omitempty"`
	BaseHash         []byte   `json:"base_hash,omitempty"`
	VerificationKeys [][]byte `json:"verification_keys,omitempty"`
	Qualified        []int    `json:"qualified,omitempty"`
	Faults           []string `json:"faults,omitempty"`
	KeyHeight        int64    `json:"key_height,omitempty"`
	// Credential roll.
	RollHeader   []byte `json:"roll_header,omitempty"`
	RollChunks   int    `json:"roll_chunks"`   // chunks received
	RollComplete bool   `json:"roll_complete"` // all chunks received
	RollHash     []byte `json:"roll_hash,omitempty"`
	RollCount    int    `json:"roll_count"`  // credentials on the roll
	RollWeight   uint64 `json:"roll_weight"` // their total weight (RollCount when every weight is 1)
	OpenedHeight int64  `json:"opened_height,omitempty"`
	ClosedHeight int64  `json:"closed_height,omitempty"`
	// Tally.
	TotalsHeight int64           `json:"totals_height,omitempty"` // the encrypted totals were published
	Shares       []int           `json:"shares,omitempty"`        // trustees whose decryption shares are on the chain
	ResultHeight int64           `json:"result_height,omitempty"`
	Result       []ContestResult `json:"result,omitempty"`
	// Counters.
	BallotsCast     int `json:"ballots_cast"`     // accepted ballot transactions
	BallotsReplaced int `json:"ballots_replaced"` // of which later replaced by a re-vote
	Audited         int `json:"audited"`
	// WeightCounted is the total weight of the ballots that count: a
	// selection's count is at most this.
	WeightCounted uint64 `json:"weight_counted"`
}

// ContestResult is one contest's decrypted counts, in selection order, and
// for a contest that counts its blank ballots encrypted (count_blank) its
// decrypted blank count. The record's encoding lists a contest's values in
// its totals order, the selections then the blank count (docs/spec-chain.md
// §6.2): DecodeElectionRecord leaves them all in Counts, and Record, which
// has the manifest, splits the blank count off.
type ContestResult struct {
	Contest string   `json:"contest"`
	Counts  []uint64 `json:"counts"`
	// Blank is nil for a contest without count_blank: see Blanks for every
	// contest's blank count.
	Blank *uint64 `json:"blank,omitempty"`
}

// Values returns the contest's values in totals order: its counts, then its
// blank count if it has one.
func (c *ContestResult) Values() []uint64 {
	if c.Blank == nil {
		return c.Counts
	}
	return append(slices.Clone(c.Counts), *c.Blank)
}

// splitBlanks moves the blank count of every contest of the result that
// counts its blank ballots from the end of its Counts to Blank.
func (r *ElectionRecord) splitBlanks(m *ballot.Manifest) error {
	if len(r.Result) == 0 {
		return nil
	}
	if len(r.Result) != len(m.Contests) {
		return fmt.Errorf("rules: the stored result has %d contests, the manifest %d", len(r.Result), len(m.Contests))
	}
	for i := range r.Result {
		cr, c := &r.Result[i], &m.Contests[i]
		n := len(c.Selections)
		switch {
		case cr.Contest != c.ID:
			return fmt.Errorf("rules: the stored result's contest %d is %q, the manifest's %q", i+1, cr.Contest, c.ID)
		case cr.Blank != nil:
			continue // split already
		case len(cr.Counts) != n+c.BlankSlots():
			return fmt.Errorf("rules: the stored result of contest %q has %d values, want %d", c.ID, len(cr.Counts), n+c.BlankSlots())
		case c.CountBlank:
			b := cr.Counts[n]
			cr.Counts, cr.Blank = cr.Counts[:n:n], &b
		}
	}
	return nil
}

// Counted returns the number of ballots that count (one per credential).
func (r *ElectionRecord) Counted() int { return r.BallotsCast - r.BallotsReplaced }

// Clone returns a copy that shares nothing mutable with r.
func (r *ElectionRecord) Clone() *ElectionRecord {
	c := *r
	c.Qualified = slices.Clone(r.Qualified)
	c.Faults = slices.Clone(r.Faults)
	c.Shares = slices.Clone(r.Shares)
	c.Result = slices.Clone(r.Result)
	c.VerificationKeys = slices.Clone(r.VerificationKeys)
	return &c
}

// encoder builds a record: each field length-prefixed.
type encoder struct{ b []byte }

func (e *encoder) bytes(b []byte) { e.b = wire.LP(e.b, b) }
func (e *encoder) int(v int64)    { e.b = wire.LP(e.b, u64(uint64(v))) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = wire.LP(e.b, []byte{1})
	} else {
		e.b = wire.LP(e.b, []byte{0})
	}
}
func (e *encoder) list(n int, item func(e *encoder, i int)) {
	var inner encoder
	for i := range n {
		item(&inner, i)
	}
	e.bytes(inner.b)
}

// decoder reads a record; the first error sticks.
type decoder struct {
	r   *wire.Reader
	err error
}

func newDecoder(b []byte) *decoder { return &decoder{r: wire.NewReader(b)} }

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) bytes() []byte {
	if d.err != nil {
		return nil
	}
	b := d.r.Bytes()
	if err := d.r.Err(); err != nil {
		d.err = err
		return nil
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

func (d *decoder) uint() uint64 {
	b := d.bytes()
	if d.err == nil && len(b) != 8 {
		d.fail("an integer of %d bytes", len(b))
	}
	if d.err != nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (d *decoder) int() int64 {
	v := d.uint()
	if v > 1<<53 {
		d.fail("integer %d out of range", v)
		return 0
	}
	return int64(v)
}

func (d *decoder) bool() bool {
	b := d.bytes()
	if d.err == nil && (len(b) != 1 || b[0] > 1) {
		d.fail("a boolean of %d bytes", len(b))
	}
	return d.err == nil && b[0] == 1
}

func (d *decoder) list(item func(d *decoder)) {
	b := d.bytes()
	inner := newDecoder(b)
	for d.err == nil && inner.err == nil && !inner.atEnd() {
		item(inner)
	}
	if inner.err != nil {
		d.fail("list: %v", inner.err)
	}
}

// atEnd reports whether every byte was read.
func (d *decoder) atEnd() bool { return d.r.Remaining() == 0 }

// done returns the first error, or an error if bytes are left over.
func (d *decoder) done(what string) error {
	if d.err == nil && d.r.Remaining() != 0 {
		d.err = fmt.Errorf("%d trailing bytes", d.r.Remaining())
	}
	if d.err != nil {
		return fmt.Errorf("rules: stored %s: %w", what, d.err)
	}
	return nil
}

// Encode returns the record's state encoding: LP of each field in the order
// of docs/spec-chain.md §6.2 (the manifest is not part of it).
func (r *ElectionRecord) Encode() []byte {
	e := encoder{b: make([]byte, 0, 640+len(r.RollHeader)+40*len(r.VerificationKeys))}
	e.bytes(r.ManifestHash)
	e.bytes([]byte{byte(r.Phase)})
	e.int(r.DefinedHeight)
	e.bytes(r.JointKey)
	e.bytes(r.BaseHash)
	e.list(len(r.VerificationKeys), func(e *encoder, i int) { e.bytes(r.VerificationKeys[i]) })
	e.list(len(r.Qualified), func(e *encoder, i int) { e.int(int64(r.Qualified[i])) })
	e.list(len(r.Faults), func(e *encoder, i int) { e.bytes([]byte(r.Faults[i])) })
	e.int(r.KeyHeight)
	e.bytes(r.RollHeader)
	e.int(int64(r.RollChunks))
	e.bool(r.RollComplete)
	e.bytes(r.RollHash)
	e.int(int64(r.RollCount))
	e.int(int64(r.RollWeight))
	e.int(r.OpenedHeight)
	e.int(r.ClosedHeight)
	e.int(r.TotalsHeight)
	e.list(len(r.Shares), func(e *encoder, i int) { e.int(int64(r.Shares[i])) })
	e.int(r.ResultHeight)
	e.list(len(r.Result), func(e *encoder, i int) {
		c := r.Result[i]
		e.bytes([]byte(c.Contest))
		v := c.Values()
		e.list(len(v), func(e *encoder, j int) { e.int(int64(v[j])) })
	})
	e.int(int64(r.BallotsCast))
	e.int(int64(r.BallotsReplaced))
	e.int(int64(r.Audited))
	e.int(int64(r.WeightCounted))
	return e.b
}

// DecodeElectionRecord reads a record's state encoding. A contest result's
// values are all in its Counts, the blank count of a count_blank contest
// included (Record splits it off with the manifest).
func DecodeElectionRecord(b []byte) (*ElectionRecord, error) {
	d := newDecoder(b)
	r := &ElectionRecord{}
	r.ManifestHash = d.bytes()
	if p := d.bytes(); d.err == nil {
		if len(p) != 1 || !wire.Phase(p[0]).Valid() {
			d.fail("phase of %d bytes", len(p))
		} else {
			r.Phase = wire.Phase(p[0])
		}
	}
	r.DefinedHeight = d.int()
	r.JointKey = d.bytes()
	r.BaseHash = d.bytes()
	d.list(func(d *decoder) { r.VerificationKeys = append(r.VerificationKeys, d.bytes()) })
	d.list(func(d *decoder) { r.Qualified = append(r.Qualified, int(d.int())) })
	d.list(func(d *decoder) { r.Faults = append(r.Faults, string(d.bytes())) })
	r.KeyHeight = d.int()
	r.RollHeader = d.bytes()
	r.RollChunks = int(d.int())
	r.RollComplete = d.bool()
	r.RollHash = d.bytes()
	r.RollCount = int(d.int())
	r.RollWeight = d.uint()
	r.OpenedHeight = d.int()
	r.ClosedHeight = d.int()
	r.TotalsHeight = d.int()
	d.list(func(d *decoder) { r.Shares = append(r.Shares, int(d.int())) })
	r.ResultHeight = d.int()
	d.list(func(d *decoder) {
		c := ContestResult{Contest: string(d.bytes())}
		d.list(func(d *decoder) { c.Counts = append(c.Counts, d.uint()) })
		r.Result = append(r.Result, c)
	})
	r.BallotsCast = int(d.int())
	r.BallotsReplaced = int(d.int())
	r.Audited = int(d.int())
	r.WeightCounted = d.uint()
	if err := d.done("election record"); err != nil {
		return nil, err
	}
	return r, nil
}

// BallotRecord locates an accepted ballot on the chain (BucketBallot).
type BallotRecord struct {
	Hash         []byte `json:"hash"`
	TrackingCode string `json:"tracking_code"`
	Credential   []byte `json:"credential"`
	Height       int64  `json:"height"`
	Index        int    `json:"index"` // transaction index in the block
	// ReplacedBy is the hash of the same credential's later ballot, if any.
	ReplacedBy []byte `json:"replaced_by,omitempty"`
}

// Encode returns the state encoding: LP(hash) ‖ LP(tracking code) ‖
// LP(credential) ‖ LP(u64 height) ‖ LP(u64 index) ‖ LP(replaced by, empty
// if none).
func (b *BallotRecord) Encode() []byte {
	var e encoder
	e.bytes(b.Hash)
	e.bytes([]byte(b.TrackingCode))
	e.bytes(b.Credential)
	e.int(b.Height)
	e.int(int64(b.Index))
	e.bytes(b.ReplacedBy)
	return e.b
}

// DecodeBallotRecord reads a BallotRecord's state encoding.
func DecodeBallotRecord(raw []byte) (*BallotRecord, error) {
	d := newDecoder(raw)
	b := &BallotRecord{Hash: d.bytes(), TrackingCode: string(d.bytes()), Credential: d.bytes(), Height: d.int(), Index: int(d.int()), ReplacedBy: d.bytes()}
	if err := d.done("ballot record"); err != nil {
		return nil, err
	}
	return b, nil
}

// AuditRecord locates an audited ballot (BucketAudited).
type AuditRecord struct {
	Hash         []byte `json:"hash"`
	TrackingCode string `json:"tracking_code"`
	Height       int64  `json:"height"`
	Index        int    `json:"index"`
}

// Encode returns the state encoding: LP(hash) ‖ LP(tracking code) ‖
// LP(u64 height) ‖ LP(u64 index).
func (a *AuditRecord) Encode() []byte {
	var e encoder
	e.bytes(a.Hash)
	e.bytes([]byte(a.TrackingCode))
	e.int(a.Height)
	e.int(int64(a.Index))
	return e.b
}

// DecodeAuditRecord reads an AuditRecord's state encoding.
func DecodeAuditRecord(raw []byte) (*AuditRecord, error) {
	d := newDecoder(raw)
	a := &AuditRecord{Hash: d.bytes(), TrackingCode: string(d.bytes()), Height: d.int(), Index: int(d.int())}
	if err := d.done("audit record"); err != nil {
		return nil, err
	}
	return a, nil
}

// CredentialRecord is a credential of the roll (BucketCred): its position
// on the roll, the index of its ballot style in the manifest's
// BallotStyles, and its weight.
type CredentialRecord struct {
	Position uint64
	Style    int
	Weight   uint64
}

// Encode returns the state encoding: LP(u64 position) ‖ LP(u64 style) ‖
// LP(u64 weight).
func (c CredentialRecord) Encode() []byte {
	var e encoder
	e.int(int64(c.Position))
	e.int(int64(c.Style))
	e.int(int64(c.Weight))
	return e.b
}

// DecodeCredentialRecord reads a CredentialRecord's state encoding.
func DecodeCredentialRecord(raw []byte) (CredentialRecord, error) {
	d := newDecoder(raw)
	c := CredentialRecord{Position: d.uint(), Style: int(d.int()), Weight: d.uint()}
	if err := d.done("credential record"); err != nil {
		return CredentialRecord{}, err
	}
	return c, nil
}

// Credential reads the roll's record of a credential key; ok is false if
// the key is not on the election's roll.
func Credential(st State, electionID string, key []byte) (c CredentialRecord, ok bool, err error) {
	raw, ok, err := st.Get(BucketCred, Key(electionID, key))
	if err != nil || !ok {
		return CredentialRecord{}, false, err
	}
	c, err = DecodeCredentialRecord(raw)
	return c, err == nil, err
}

// RollChunk reads the entries of chunk i of an election's roll, as the
// credential-roll transaction carried them; ok is false if the chunk is not
// loaded.
func RollChunk(st State, electionID string, i uint64) ([]byte, bool, error) {
	return st.Get(BucketRollEntry, Key(electionID, u64(i)))
}
