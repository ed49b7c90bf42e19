package rules_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

var update = flag.Bool("update", false, "write a new testdata/kat-blocks.json (and print the app hashes to pin)")

// katFile is a fixed sequence of blocks of a whole election: definition,
// key ceremony, roll, open, ballots (one replaced by a re-vote, one
// audited, one replayed and rejected), close, totals, two decryption shares
// and the result. It was made once with -update; the ceremony and the
// ballots are randomised, so the file, not a generator, is the vector.
const katFile = "testdata/kat-blocks.json"

// KATBlocks is the file's content: what CometBFT would hand the
// application.
type KATBlocks struct {
	ChainID  string          `json:"chain_id"`
	AppState json.RawMessage `json:"app_state"`
	Blocks   []KATBlock      `json:"blocks"`
}

// KATBlock is one block: its height, time and transactions.
type KATBlock struct {
	Height int64     `json:"height"`
	Time   time.Time `json:"time"`
	Txs    []string  `json:"txs"` // standard base64
}

// add appends a block of txs at the next height h, at time t0 + h minutes.
func (k *KATBlocks) add(t0 time.Time, txs ...[]byte) {
	b := KATBlock{Height: int64(len(k.Blocks) + 1)}
	b.Time = t0.Add(time.Duration(b.Height) * time.Minute)
	for _, tx := range txs {
		b.Txs = append(b.Txs, base64.StdEncoding.EncodeToString(tx))
	}
	k.Blocks = append(k.Blocks, b)
}

// katAppHashes are the app hashes after each block of katFile
// (docs/spec-chain.md §6 has the worked example), and katCodes the result
// codes of the transactions of the block that has rejections.
var katAppHashes = map[int64]string{
	1:  "6d2c968d363a626f2966c9c85587f5538e8f34592a709b822f6c80faa9151cca",
	2:  "3090aa7ed2cefba02b5ed84b502b58bfe86d07c6c405e08fa4db99a6750c413d",
	3:  "c72d015df73ffdd7648f12ecc18e5b3ad815f9def9313f1f2b5f94103a5c1dea",
	4:  "6f93bcf3eadfb5faede5a7f60ce52ca0860b26e1511caeba08eb8800b3dd0648",
	5:  "d8d85b892e4ae18c4f52b7fcf414fe9096decfb2d5affde120f67904a0a62f0a",
	6:  "a2f62eb5f9f5d2c41ada7a9ce8b1943c156127a751f6945089fd3e8429e72647",
	7:  "7d0bd54de0b1350f740dd3ca2b682d3e42c7302a078fad4016c92b4840e338e0",
	8:  "22bb8418d71bee2bbb31f621688cbd7cae1983cad14712078c4368822d38c3b5",
	9:  "8f437037212a3863f163375ab8e95b3d8f5188218ba784d0d08597092c5347e4",
	10: "5e905241e71500a5b0fe68a4a09ae6cc723053b714be25487a94852725b3d3da",
	11: "28f8c402616dcc3362f4ac516a303523db551564a187ffa77d412fa10aff45de",
	12: "1cf66632c5448c63a0e72ba2a008669ebced24e019163cf7a511fa02be63c532",
	13: "d030b6db343133c3b5666b20f2e5421703035f4a3e81c4d7f92c6035e9424859",
}

func loadKAT(t *testing.T) *KATBlocks {
	t.Helper()
	raw, err := os.ReadFile(katFile)
	if err != nil {
		t.Fatal(err)
	}
	var k KATBlocks
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	return &k
}

// replayState runs the blocks and returns the state after the last.
func replayState(t *testing.T, k *KATBlocks) *rules.MemState {
	st, _, _ := replayAll(t, k)
	return st
}

// replay runs the blocks with the rules on a MemState and returns the app
// hash after each height and every transaction's code.
func replay(t *testing.T, k *KATBlocks) (map[int64]string, map[int64][]wire.Code) {
	_, h, c := replayAll(t, k)
	return h, c
}

func replayAll(t *testing.T, k *KATBlocks) (*rules.MemState, map[int64]string, map[int64][]wire.Code) {
	return replayOn(t, k, rules.NewMemState())
}

// replayOn is replayAll on the empty state st.
func replayOn(t *testing.T, k *KATBlocks, st *rules.MemState) (*rules.MemState, map[int64]string, map[int64][]wire.Code) {
	t.Helper()
	_, officials, err := chain.ParseGenesisState(k.AppState)
	if err != nil {
		t.Fatal(err)
	}
	r := rules.New(k.ChainID, officials)
	for _, w := range rules.GenesisWrites(k.ChainID, k.AppState) {
		st.Put(w.Bucket, w.Key, w.Value)
	}
	hashes, codes := map[int64]string{}, map[int64][]wire.Code{}
	for _, b := range k.Blocks {
		blk := r.Block(b.Height, b.Time)
		for i, enc := range b.Txs {
			raw, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := wire.Decode(raw)
			if err == nil {
				layer := st.Layer()
				if _, err = blk.Apply(layer, rules.Tx{Raw: raw, Tx: tx, Index: i}); err == nil {
					layer.Merge()
				}
			}
			code, _ := rules.Outcome(err)
			codes[b.Height] = append(codes[b.Height], code)
		}
		blk.End(st)
		hashes[b.Height] = hex.EncodeToString(st.Commit(b.Height))
	}
	return st, hashes, codes
}

// TestAppHashKnownAnswer pins the app hash of every height of katFile: any
// change of a rule's writes, of a record's encoding, of the key layout or of
// the hash construction changes them (and forks the nodes).
func TestAppHashKnownAnswer(t *testing.T) {
	if *update {
		writeKAT(t)
	}
	k := loadKAT(t)
	hashes, codes := replay(t, k)
	if *update {
		b, _ := json.MarshalIndent(hashes, "", "\t")
		t.Logf("app hashes:\n%s\ncodes: %v", b, codes)
		return
	}
	if len(katAppHashes) != len(k.Blocks) {
		t.Fatalf("%d pinned app hashes for %d blocks", len(katAppHashes), len(k.Blocks))
	}
	for h, want := range katAppHashes {
		if got := hashes[h]; got != want {
			t.Errorf("height %d: app hash %s, want %s", h, got, want)
		}
	}
	for h, cs := range codes {
		for i, c := range cs {
			want := wire.OK
			if i < len(katCodes[h]) {
				want = katCodes[h][i]
			}
			if c != want {
				t.Errorf("height %d tx %d: code %s, want %s", h, i, c, want)
			}
		}
	}
	// The result is weighted: contest 1 (in both styles) has the first
	// choice of voters 0 (weight 1), 1 (3) and 2 (12).
	st := replayState(t, k)
	rec, err := rules.Record(st, "kat-2026")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Counted() != 3 || rec.WeightCounted != 16 || rec.RollWeight != 18 || rec.Result[0].Counts[0] != 16 {
		t.Errorf("counted %d of weight %d (roll weight %d), contest 1 first selection %d; want 3, 16, 18, 16", rec.Counted(), rec.WeightCounted, rec.RollWeight, rec.Result[0].Counts[0])
	}
}

// katCodes are the expected codes: every transaction accepted except the
// replayed ballot and the ballot of another style of height 9.
var katCodes = map[int64][]wire.Code{9: {wire.OK, wire.CodeDuplicate, wire.CodeWrongStyle}}

// writeKAT makes a new katFile.
func writeKAT(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	// Two ballot styles and weights: voter 2 weighs 12, voter 1 weighs 3.
	voters := []credential.Entry{{Style: "north", Weight: 1}, {Style: "south", Weight: 3}, {Style: "north", Weight: 12}, {Style: "south", Weight: 1}, {Style: "north", Weight: 1}}
	e := chaintest.NewWith(t, "kat-chain", "kat-2026", ballottest.Districts(), voters, t0, t0.Add(24*time.Hour))
	id := e.Manifest.ElectionID
	// The genesis file's app_state is indented; the state holds it compacted.
	var appState bytes.Buffer
	if err := json.Indent(&appState, e.GenesisAppState(), "  ", "  "); err != nil {
		t.Fatal(err)
	}
	k := &KATBlocks{ChainID: e.ChainID, AppState: appState.Bytes()}
	add := func(txs ...[]byte) { k.add(t0, txs...) }
	for _, b := range e.SetupBlocks(t) {
		add(b...)
	}
	be := e.BallotElection(t)
	m := e.Manifest
	north, south := ballottest.FirstChoices(m, "north"), ballottest.FirstChoices(m, "south")
	c0, _ := e.Cast(t, be, 0, north)
	c1, _ := e.Cast(t, be, 1, south)
	c2, _ := e.Cast(t, be, 2, north)
	b3, sec, err := be.Encrypt(rand.Reader, e.Credentials[3].PublicKey(), south)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := be.SignAudit(e.Credentials[3], b3, sec)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := signed.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	add(c0, c1, c2, wire.Encode(&wire.Audit{ElectionID: id, File: audit}))
	revote, _ := e.Cast(t, be, 0, north)
	wrongStyle, _ := e.Cast(t, be, 4, south)
	add(revote, c1, wrongStyle) // voter 0 votes again; voter 1's ballot is replayed and voter 4 (north) casts a south ballot: both rejected
	add(wire.Encode(chain.CloseTx(e.ChainID, id, e.Official)))
	st := replayState(t, k)
	totals, err := rules.Totals(st, m)
	if err != nil {
		t.Fatal(err)
	}
	add(wire.Encode(&wire.Totals{ElectionID: id, Ciphertexts: crypto.EncodeCiphertexts(totals)}))
	rec, err := rules.Record(st, id)
	if err != nil {
		t.Fatal(err)
	}
	shareTxs, counts := e.Decrypt(t, be, rec, totals)
	add(shareTxs...)
	add(wire.Encode(&wire.Result{ElectionID: id, Counts: counts}))
	b, _ := json.MarshalIndent(k, "", " ")
	if err := os.WriteFile(katFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBoard reads the ballot board of the known-answer election: every
// ballot cast or audited, in tracking-code order, with its status, paged
// and searched by the start of a code.
func TestBoard(t *testing.T) {
	st := replayState(t, loadKAT(t))
	const id = "kat-2026"
	all, err := rules.Board(st, st, id, "", "", rules.MaxBoardPage)
	if err != nil {
		t.Fatal(err)
	}
	// Heights 8 and 9: 3 ballots and an audit, then a re-vote.
	by := map[string]int{}
	for i, e := range all.Entries {
		by[e.Status]++
		if i > 0 && all.Entries[i-1].TrackingCode >= e.TrackingCode {
			t.Fatalf("board order: %s before %s", all.Entries[i-1].TrackingCode, e.TrackingCode)
		}
		if e.Status == rules.StatusReplaced && (e.ReplacedBy == "" || e.Height != 8) {
			t.Fatalf("replaced entry %+v", e)
		}
	}
	if len(all.Entries) != 5 || by[rules.StatusCounted] != 3 || by[rules.StatusReplaced] != 1 || by[rules.StatusAudited] != 1 || all.Next != "" {
		t.Fatalf("board %+v", all)
	}
	// Pages of two, each starting after the last of the one before.
	var paged []rules.BoardEntry
	after := ""
	for range 10 {
		p, err := rules.Board(st, st, id, "", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, p.Entries...)
		if after = p.Next; after == "" {
			break
		}
	}
	if len(paged) != 5 || paged[4] != all.Entries[4] {
		t.Fatalf("paged board %+v", paged)
	}
	// A search by the start of a code, typed loosely.
	code := all.Entries[2].TrackingCode
	loose := strings.ToLower(strings.ReplaceAll(code[:6], "-", " "))
	found, err := rules.Board(st, st, id, loose, "", 10)
	if err != nil || len(found.Entries) < 1 || found.Entries[0].TrackingCode != code && !strings.HasPrefix(found.Entries[0].TrackingCode, code[:6]) {
		t.Fatalf("search %q: %+v, %v", loose, found, err)
	}
	for _, e := range found.Entries {
		if !strings.HasPrefix(e.TrackingCode, code[:6]) {
			t.Fatalf("search %q found %s", loose, e.TrackingCode)
		}
	}
	for _, bad := range []struct{ q, after string }{{"<script>", ""}, {"ü", ""}, {strings.Repeat("A", 17), ""}, {"", "ABCD"}, {"", "&\"'"}} {
		if _, err := rules.Board(st, st, id, bad.q, bad.after, 10); err == nil {
			t.Errorf("query %q after %q accepted", bad.q, bad.after)
		} else if code, _ := rules.Outcome(err); code != wire.CodeMalformed {
			t.Errorf("query %q after %q: code %v", bad.q, bad.after, code)
		}
	}
	if _, err := rules.Board(st, st, id, "", "", rules.MaxBoardPage+1); err == nil {
		t.Error("an oversize page was accepted")
	}
	if p, err := rules.Board(st, st, "other", "", "", 10); err != nil || len(p.Entries) != 0 {
		t.Errorf("another election's board: %+v, %v", p, err)
	}
}
