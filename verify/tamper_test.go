package verify_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/record"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/verify"
	"github.com/evote/evote/wire"
)

func copyRecord(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "record")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

const blocksFile = "blocks/00000001.jsonl"

func loadEntries(t *testing.T, dir string) []*record.Entry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, blocksFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*record.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		e, err := record.DecodeEntry(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func saveEntries(t *testing.T, dir string, es []*record.Entry) {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range es {
		b, err := record.EncodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, blocksFile), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// find returns the position of the n-th accepted transaction of type typ
// (from 0) for which ok holds.
func find(t *testing.T, es []*record.Entry, typ wire.Kind, n int, ok func(wire.Tx) bool) (int, int, wire.Tx) {
	t.Helper()
	for k, e := range es {
		for i, raw := range e.Block.Txs {
			tx, err := wire.Decode(raw)
			if err != nil || tx.Kind() != typ || e.Results[i].Code != 0 || (ok != nil && !ok(tx)) {
				continue
			}
			if n == 0 {
				return k, i, tx
			}
			n--
		}
	}
	t.Fatalf("no %s transaction", typ)
	return 0, 0, nil
}

// setTx replaces transaction i of entry k.
func setTx(es []*record.Entry, k, i int, tx wire.Tx) {
	es[k].Block.Txs[i] = wire.Encode(tx)
}

// payload returns the field of a transaction that the tampering cases
// change: a ballot's cast, an audit's file, a roll chunk's entries, a ceremony
// message's payload, the published totals, a decryption share.
func payload(tx wire.Tx) *[]byte {
	switch tx := tx.(type) {
	case *wire.Ballot:
		return &tx.Cast
	case *wire.Audit:
		return &tx.File
	case *wire.CredentialRoll:
		return &tx.Entries
	case *wire.Ceremony:
		return &tx.Payload
	case *wire.Totals:
		return &tx.Ciphertexts
	case *wire.Share:
		return &tx.Share
	}
	panic(fmt.Sprintf("no payload in a %s transaction", tx.Kind()))
}

// ballotParts splits a ballot transaction's field into the ballot encoding
// and the signature.
func ballotParts(field []byte) ([]byte, []byte) {
	l := binary.BigEndian.Uint64(field)
	b := append([]byte(nil), field[8:8+l]...)
	sig := append([]byte(nil), field[16+l:]...)
	return b, sig
}

func castField(b, sig []byte) []byte {
	out := binary.BigEndian.AppendUint64(nil, uint64(len(b)))
	out = append(out, b...)
	out = binary.BigEndian.AppendUint64(out, uint64(len(sig)))
	return append(out, sig...)
}

// ctOffset is the offset of the first selection ciphertext in a ballot
// encoding.
func ctOffset(b []byte) int {
	off := 0
	for range 3 {
		off += 8 + int(binary.BigEndian.Uint64(b[off:]))
	}
	return off
}

func TestTamper(t *testing.T) {
	f := getFixture(t)
	m := f.election.Manifest
	first := fmt.Sprintf("contest %q, selection %q", m.Contests[0].ID, m.Contests[0].Selections[0].ID)
	counted := func(tx wire.Tx) bool { // a ballot of voter 2 (never replaced)
		_, cred, _ := record.CastInfo((*payload(tx)))
		return bytes.Equal(cred, f.election.Credentials[2].PublicKey())
	}
	type tcase struct {
		name   string
		edit   func(t *testing.T, dir string) []string // returns the strings the failure must name
		check  int
		rehash bool
		also   []int // other checks that must fail
	}
	where := func(es []*record.Entry, k, i int) string {
		return fmt.Sprintf("height %d, tx %d", es[k].Height, i)
	}
	cases := []tcase{
		{name: "file", check: verify.CheckIntegrity, edit: func(t *testing.T, dir string) []string {
			appendFile(t, filepath.Join(dir, record.BallotsFile), "\n")
			return []string{record.BallotsFile}
		}},
		{name: "ballot ciphertext", check: verify.CheckBallots, rehash: true, also: []int{verify.CheckBlocks, verify.CheckTotals}, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindBallot, 0, counted)
			b, sig := ballotParts((*payload(tx)))
			off := ctOffset(b)
			a := append([]byte(nil), b[off:off+32]...)
			copy(b[off:off+32], b[off+32:off+64])
			copy(b[off+32:off+64], a)
			*payload(tx) = castField(b, sig)
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), "signature"}
		}},
		{name: "proof", check: verify.CheckBallots, rehash: true, also: []int{verify.CheckBlocks}, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindBallot, 0, counted)
			b, _ := ballotParts((*payload(tx)))
			off := ctOffset(b) + 64 + 96 // the response of the first branch of the first 0/1 proof
			b[off] ^= 1
			sig := f.election.Credentials[2].SignBallot(f.be.BaseHash, ballot.HashEncoding(b))
			*payload(tx) = castField(b, sig)
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), first, ballot.TrackingCode(ballot.HashEncoding(b))}
		}},
		{name: "credential signature", check: verify.CheckBallots, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindBallot, 0, counted)
			b, sig := ballotParts((*payload(tx)))
			sig[10] ^= 1
			*payload(tx) = castField(b, sig)
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), "signature", ballot.TrackingCode(ballot.HashEncoding(b))}
		}},
		{name: "swapped contests", check: verify.CheckBallots, rehash: true, also: []int{verify.CheckBlocks}, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindBallot, 0, counted)
			c, err := f.be.DecodeCast((*payload(tx)))
			if err != nil {
				t.Fatal(err)
			}
			b := c.Ballot
			b.Contests[0], b.Contests[1] = b.Contests[1], b.Contests[0]
			signed, err := f.be.Sign(f.election.Credentials[2], b)
			if err != nil {
				t.Fatal(err)
			}
			*payload(tx) = signed.Encode()
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			// The swapped data is read in the manifest's layout: the first
			// contest whose bytes do not decode as its own (a point that is
			// not canonical, a proof of the wrong size), which depends on
			// the random bytes, is the one named, as the nodes name it.
			return []string{where(es, k, i), `contest "contest-`, "(code 7)", b.TrackingCode()}
		}},
		{name: "unsigned audit", check: verify.CheckAudits, rehash: true, also: []int{verify.CheckBlocks}, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindAudit, 0, nil)
			a, err := f.be.DecodeAudit((*payload(tx)))
			if err != nil {
				t.Fatal(err)
			}
			a.Signature = nil
			*payload(tx), _ = a.MarshalJSON()
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), a.Ballot.TrackingCode(), "is unsigned", "code 5"}
		}},
		{name: "audit signature", check: verify.CheckAudits, rehash: true, also: []int{verify.CheckBlocks}, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindAudit, 0, nil)
			a, err := f.be.DecodeAudit((*payload(tx)))
			if err != nil {
				t.Fatal(err)
			}
			a.Signature[3] ^= 1
			*payload(tx), _ = a.MarshalJSON()
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), a.Ballot.TrackingCode(), "not signed by the ballot's credential", "code 5"}
		}},
		{name: "header field", check: verify.CheckBlocks, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			es[4].Block.Header.Time = es[4].Block.Header.Time.Add(time.Millisecond)
			saveEntries(t, dir, es)
			return []string{"height 5: block id"}
		}},
		{name: "commit signature", check: verify.CheckBlocks, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			es[5].Commit.Signatures[0].Signature[3] ^= 1
			saveEntries(t, dir, es)
			return []string{"height 6: commit"}
		}},
		{name: "roll credential", check: verify.CheckRoll, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindCredentialRoll, 0, nil)
			(*payload(tx))[5] ^= 1
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), "signature"}
		}},
		{name: "another style", check: verify.CheckBallots, rehash: true, also: []int{verify.CheckBlocks}, edit: func(t *testing.T, dir string) []string {
			// Voter 2 (style north) with a valid credential signature and
			// valid proofs, but a south ballot, recorded as accepted.
			es := loadEntries(t, dir)
			k, i, _ := find(t, es, wire.KindBallot, 0, counted)
			other := ballottest.FirstChoices(m, "south")
			tx, b := f.election.Cast(t, f.be, 2, other)
			es[k].Block.Txs[i] = tx
			saveEntries(t, dir, es)
			return []string{where(es, k, i), b.TrackingCode(), `the credential's ballot style is "north" (code 19)`}
		}},
		{name: "roll weight", check: verify.CheckRoll, rehash: true, edit: func(t *testing.T, dir string) []string {
			// roll.json gives voter 3 (weight 5 on the chain) weight 1.
			p := filepath.Join(dir, record.RollFile)
			data, _ := os.ReadFile(p)
			key := fmt.Sprintf("%x", []byte(f.election.Credentials[3].PublicKey()))
			line := fmt.Sprintf(`{"key": "%s", "style": "south", "weight": 5}`, key)
			if !bytes.Contains(data, []byte(line)) {
				t.Fatalf("roll.json has no line %s", line)
			}
			data = bytes.Replace(data, []byte(line), []byte(strings.Replace(line, `"weight": 5`, `"weight": 1`, 1)), 1)
			data = bytes.Replace(data, []byte(`"total_weight": 11,`), []byte(`"total_weight": 7,`), 1)
			data = regexp.MustCompile(`  "roll_hash": "[0-9a-f]{64}",\n`).ReplaceAll(data, nil)
			os.WriteFile(p, data, 0o644)
			return []string{"roll hash"}
		}},
		{name: "ceremony commitment", check: verify.CheckCeremony, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindCeremony, 0, func(tx wire.Tx) bool {
				c := tx.(*wire.Ceremony)
				return c.Message == trustee.KindDealing && c.From == 2
			})
			(*payload(tx))[3+40] ^= 1 // inside the first coefficient's proof
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), "trustee 2"}
		}},
		{name: "total", check: verify.CheckTotals, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindTotals, 0, nil)
			tot := (*payload(tx))
			a := append([]byte(nil), tot[:64]...)
			copy(tot[:64], tot[64:128])
			copy(tot[64:128], a)
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{first}
		}},
		{name: "share", check: verify.CheckShares, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindShare, 1, nil)
			(*payload(tx))[5+40] ^= 1
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), "trustee 2"}
		}},
		{name: "count", check: verify.CheckCounts, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindResult, 0, nil)
			tx.(*wire.Result).Counts[0]++
			setTx(es, k, i, tx)
			saveEntries(t, dir, es)
			return []string{where(es, k, i), first}
		}},
		{name: "drop ballot", check: verify.CheckRevote, rehash: true, also: []int{verify.CheckBlocks, verify.CheckTotals}, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			k, i, tx := find(t, es, wire.KindBallot, 0, counted)
			h, _, _ := record.CastInfo((*payload(tx)))
			b := es[k].Block
			b.Txs = append(b.Txs[:i:i], b.Txs[i+1:]...)
			es[k].Results = append(es[k].Results[:i:i], es[k].Results[i+1:]...)
			saveEntries(t, dir, es)
			return []string{ballot.TrackingCode(h), "no such accepted ballot"}
		}},
		{name: "add ballot", check: verify.CheckBallots, rehash: true, also: []int{verify.CheckBlocks}, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			_, _, tx := find(t, es, wire.KindBallot, 0, counted)
			kc, _, _ := find(t, es, wire.KindClose, 0, nil)
			h, _, _ := record.CastInfo((*payload(tx)))
			k := kc - 1 // the block before the close: the election is open
			es[k].Block.Txs = append(es[k].Block.Txs, wire.Encode(tx))
			es[k].Results = append(es[k].Results, record.TxResult{})
			saveEntries(t, dir, es)
			return []string{fmt.Sprintf("height %d, tx %d", es[k].Height, len(es[k].Block.Txs)-1), ballot.TrackingCode(h), "already on the chain"}
		}},
		{name: "reorder blocks", check: verify.CheckBlocks, rehash: true, edit: func(t *testing.T, dir string) []string {
			es := loadEntries(t, dir)
			es[3], es[4] = es[4], es[3]
			saveEntries(t, dir, es)
			return []string{"height 4"}
		}},
		{name: "ballots index", check: verify.CheckRevote, rehash: true, edit: func(t *testing.T, dir string) []string {
			p := filepath.Join(dir, record.BallotsFile)
			raw, _ := os.ReadFile(p)
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			var be record.BallotEntry
			json.Unmarshal([]byte(lines[0]), &be)
			code := be.TrackingCode
			be.ReplacedBy = ""
			b, _ := json.Marshal(be)
			lines[0] = string(b)
			os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
			return []string{code, "re-vote rule"}
		}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			dir := copyRecord(t, f.dir)
			want := tc.edit(t, dir)
			if tc.rehash {
				if err := record.Rehash(dir); err != nil {
					t.Fatal(err)
				}
			}
			r := verifyDir(t, dir)
			var buf bytes.Buffer
			r.WriteText(&buf)
			if r.OK() {
				t.Fatalf("verification passed:\n%s", buf.String())
			}
			c := r.Check(tc.check)
			if c.Status != verify.Fail {
				t.Fatalf("check %d passed:\n%s", tc.check, buf.String())
			}
			named := false
			for _, fl := range c.Failures {
				s := fl.String()
				all := true
				for _, w := range want {
					all = all && strings.Contains(s, w)
				}
				named = named || all
			}
			if !named {
				t.Errorf("no failure of check %d names %q:\n%s", tc.check, want, buf.String())
			}
			if (tc.check == verify.CheckCounts || tc.check == verify.CheckCombination) && r.Result != nil {
				t.Errorf("a result that fails check %d is reported as verified: %+v", tc.check, r.Result)
			}
			for _, n := range tc.also {
				if r.Check(n).Status != verify.Fail {
					t.Errorf("check %d passed too:\n%s", n, buf.String())
				}
			}
			if testing.Verbose() {
				t.Log("\n" + buf.String())
			}
		})
	}
}

func appendFile(t *testing.T, p, s string) {
	t.Helper()
	fh, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(s)
	fh.Close()
}

// TestFork compares two records that differ at one height: the fork is
// reported with both block ids.
func TestFork(t *testing.T) {
	f := getFixture(t)
	dir := copyRecord(t, f.dir)
	es := loadEntries(t, dir)
	es[6].Block.Header.Time = es[6].Block.Header.Time.Add(time.Second)
	es[6].BlockID = types.BlockID{Hash: es[6].Block.Header.Hash(), PartSetHeader: es[6].BlockID.PartSetHeader}
	saveEntries(t, dir, es)
	if err := record.Rehash(dir); err != nil {
		t.Fatal(err)
	}
	fork, err := verify.CompareRecords(context.Background(), f.dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if fork == nil || fork.Height != 7 || fork.BlockA == fork.BlockB || fork.BlockA == "" || len(fork.HeaderA) == 0 || len(fork.HeaderB) == 0 {
		t.Fatalf("fork %+v", fork)
	}
	if same, err := verify.CompareRecords(context.Background(), f.dir, f.dir); err != nil || same != nil {
		t.Fatalf("a record against itself: %+v, %v", same, err)
	}
}

// TestHostileRecord: garbage in every file gives failed checks or an error,
// never a panic.
func TestHostileRecord(t *testing.T) {
	f := getFixture(t)
	for _, name := range []string{record.GenesisFile, blocksFile, record.ElectionFile, record.CeremonyFile, record.RollFile, record.BallotsFile, record.TotalsFile, record.SharesFile, record.ResultFile} {
		for _, junk := range []string{"", "{", "null\n", `{"height":"1","block":{"header":{"height":"-1"}}}` + "\n", "[1,2,3]\n"} {
			dir := copyRecord(t, f.dir)
			os.WriteFile(filepath.Join(dir, name), []byte(junk), 0o644)
			record.Rehash(dir)
			r, err := verify.Record(context.Background(), dir, verify.Options{})
			if err == nil && r.OK() {
				t.Errorf("%s = %q: verification passed", name, junk)
			}
		}
	}
}

// TestStateDiffers: a chain whose authorities signed app hashes of another
// state than the rules produce (from height 9 on, the first block of
// ballots: as if a ballot record's field were changed), with every block
// and commit correctly signed, fails check 15 at height 9, the first
// height where the states differ, and only there and after.
func TestStateDiffers(t *testing.T) {
	const bad = 9
	dir := buildRecordWith(t, t.TempDir(), 8, func(h int64, got []byte) []byte {
		if h < bad {
			return got
		}
		x := sha256.Sum256(append([]byte("another state"), got...))
		return x[:]
	})
	r := verifyDir(t, dir)
	var buf bytes.Buffer
	r.WriteText(&buf)
	c := r.Check(verify.CheckAppHash)
	if c.Status != verify.Fail || len(c.Failures) == 0 {
		t.Fatalf("check 15 passed:\n%s", buf.String())
	}
	if f := c.Failures[0]; f.Height != bad || !strings.Contains(f.Message, "re-execution gives") {
		t.Errorf("first failure at height %d (%s), want %d", f.Height, f.Message, bad)
	}
	for _, n := range []int{verify.CheckBlocks, verify.CheckBallots, verify.CheckOutcomes, verify.CheckCounts} {
		if st := r.Check(n).Status; st != verify.Pass {
			t.Errorf("check %d: %s, want pass (only the state differs):\n%s", n, st, buf.String())
		}
	}
	// The honest chain passes check 15 at every height, and the report
	// gives the verified result with the manifest's titles: 8 ballots, one
	// for each of the first 8 of 10 selections.
	honest := verifyDir(t, buildRecord(t, t.TempDir(), 8))
	buf.Reset()
	honest.WriteText(&buf)
	if c := honest.Check(verify.CheckAppHash); c.Status != verify.Pass {
		t.Fatalf("honest chain: check 15 %s:\n%s", c.Status, buf.String())
	}
	res := honest.Result
	if res == nil || res.Ballots != 8 || len(res.Contests) != 1 || len(res.Contests[0].Selections) != 10 {
		t.Fatalf("verified result %+v:\n%s", res, buf.String())
	}
	var sum uint64
	for _, s := range res.Contests[0].Selections {
		sum += s.Count
	}
	if sum != 8 || !strings.Contains(buf.String(), "Verified result of") || !strings.Contains(buf.String(), res.Contests[0].Title+"\n") {
		t.Errorf("verified result: %d ballots in the counts:\n%s", sum, buf.String())
	}
}
