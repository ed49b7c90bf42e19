package rules_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
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

// katAppHashes are the app hashes after each block of katFile
// (docs/spec-chain.md §6 has the worked example), and katCodes the result
// codes of the transactions of the block that has rejections.
var katAppHashes = map[int64]string{
	1:  "89bbab1e8857c06a3c955212ab55b5bcbfbe764327071b317182008170740ec5",
	2:  "3380d0fc7ce00964bc33f3422d145f742cf6f1acd28e58d114469898600d387d",
	3:  "3ff2c24c52aca5a19d35f6668f4273a970818fa7477ab1b357b8043ab5e74b9e",
	4:  "a4437515e72539b9b426823ff1ab54fe1f92c5d057e5deb4f4fca11f9cf23bec",
	5:  "6f9344a6744bb8b0aee040a097881fa2685207fc32bf81088d3994824c05c9c5",
	6:  "534480372442fc75ce2c0b7fe490d056b568dee920bb7fb1aa623af36c6200a4",
	7:  "f074ebf0596363fdd4679e4a5fb9bf783de829d6c16925ff1f3ba5b1e1d0ebb9",
	8:  "fe6167d14d94b73ffe0d8b346a0b13102d9d4106e0d564a6d40d5e39cb9b92a9",
	9:  "85bae60857c7531f2498ef2ee082d39c8f689d3a1be9ec6f2eb5864a756f131e",
	10: "a8bcfc0c4c995b25c5b7885783a9e1ab0b869de891bddc9b027906951d71432e",
	11: "57c78f369483933cb5e00e4447b60069815d2696d7afb2e7c1f157bf2f9b3a61",
	12: "abe803dad635629ca8c6183edef0db2fe656ed83c0ad5533832fdd64db12f8e9",
	13: "37a4088413115203e51fabc687c1744526ab4ade97da4bc51344a4656cb986e4",
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
	t.Helper()
	_, officials, err := chain.ParseGenesisState(k.AppState)
	if err != nil {
		t.Fatal(err)
	}
	r := rules.New(k.ChainID, officials)
	st := rules.NewMemState()
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
}

// katCodes are the expected codes: every transaction accepted except the
// replayed ballot of height 9.
var katCodes = map[int64][]wire.Code{9: {wire.OK, wire.CodeDuplicate}}

// writeKAT makes a new katFile.
func writeKAT(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	e := chaintest.New(t, "kat-chain", "kat-2026", 4, t0, t0.Add(24*time.Hour))
	id := e.Manifest.ElectionID
	// The genesis file's app_state is indented; the state holds it compacted.
	var appState bytes.Buffer
	if err := json.Indent(&appState, e.GenesisAppState(), "  ", "  "); err != nil {
		t.Fatal(err)
	}
	k := &KATBlocks{ChainID: e.ChainID, AppState: appState.Bytes()}
	add := func(txs ...[]byte) {
		b := KATBlock{Height: int64(len(k.Blocks) + 1)}
		b.Time = t0.Add(time.Duration(b.Height) * time.Minute)
		for _, tx := range txs {
			b.Txs = append(b.Txs, base64.StdEncoding.EncodeToString(tx))
		}
		k.Blocks = append(k.Blocks, b)
	}
	for _, b := range e.SetupBlocks(t) {
		add(b...)
	}
	be := e.BallotElection(t)
	m := e.Manifest
	first := ballottest.FirstChoices(m, ballot.DefaultStyleID)
	c0, _ := e.Cast(t, be, 0, first)
	c1, _ := e.Cast(t, be, 1, first)
	c2, _ := e.Cast(t, be, 2, ballottest.FirstChoices(m, ballot.DefaultStyleID))
	b3, sec, err := be.Encrypt(rand.Reader, e.Credentials[3].PublicKey(), first)
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
	revote, _ := e.Cast(t, be, 0, first)
	add(revote, c1) // voter 0 votes again; voter 1's ballot is replayed (rejected)
	add(wire.Encode(chain.CloseTx(e.ChainID, id, e.Official)))
	st := replayState(t, k)
	totals, err := rules.Totals(st, m)
	if err != nil {
		t.Fatal(err)
	}
	add(wire.Encode(&wire.Totals{ElectionID: id, Ciphertexts: crypto.EncodeCiphertexts(totals)}))
	var shares []crypto.DecryptionShare
	var shareTxs [][]byte
	for _, tk := range e.Trustees[:2] {
		sh, sig, err := tk.Decrypt(be.BaseHash, totals)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, sh)
		shareTxs = append(shareTxs, wire.Encode(&wire.Share{ElectionID: id, Trustee: uint64(sh.Trustee), Share: sh.Encode(), Signature: sig.Encode()}))
	}
	add(shareTxs...)
	rec, err := rules.Record(st, id)
	if err != nil {
		t.Fatal(err)
	}
	vks, err := rules.VerificationKeys(rec)
	if err != nil {
		t.Fatal(err)
	}
	points, err := crypto.Combine(be.BaseHash, m.Trustees.Threshold, vks, totals, shares)
	if err != nil {
		t.Fatal(err)
	}
	table, err := crypto.NewDlogTable(4)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := table.SolveMany(points, 1)
	if err != nil {
		t.Fatal(err)
	}
	add(wire.Encode(&wire.Result{ElectionID: id, Counts: counts}))
	b, _ := json.MarshalIndent(k, "", " ")
	if err := os.WriteFile(katFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
