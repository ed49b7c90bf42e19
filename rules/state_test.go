package rules

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/evote/evote/wire"
)

func sampleRecord() *ElectionRecord {
	return &ElectionRecord{ManifestHash: bytes.Repeat([]byte{1}, 32), Phase: wire.PhaseTallied, DefinedHeight: 1,
		JointKey: bytes.Repeat([]byte{2}, 32), BaseHash: bytes.Repeat([]byte{3}, 32),
		VerificationKeys: [][]byte{bytes.Repeat([]byte{4}, 32), bytes.Repeat([]byte{5}, 32)},
		Qualified:        []int{1, 2, 3}, Faults: []string{"trustee 3 & <Ω> \"complained\""}, KeyHeight: 5,
		RollHeader: []byte("header"), RollChunks: 2, RollComplete: true, RollHash: bytes.Repeat([]byte{6}, 32), RollCount: 300,
		OpenedHeight: 7, ClosedHeight: 9, TotalsHeight: 10, Shares: []int{1, 3}, ResultHeight: 11,
		Result:      []ContestResult{{Contest: "mayor", Counts: []uint64{3, 0, 1 << 40}}, {Contest: "選挙", Counts: []uint64{}}},
		BallotsCast: 12, BallotsReplaced: 2, Audited: 1}
}

func TestRecordEncoding(t *testing.T) {
	for _, r := range []*ElectionRecord{sampleRecord(), {ManifestHash: []byte{9}, Phase: wire.PhaseCeremony}} {
		b := r.Encode()
		got, err := DecodeElectionRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		// Empty lists decode as nil.
		want := r.Clone()
		for i := range want.Result {
			if len(want.Result[i].Counts) == 0 {
				want.Result[i].Counts = nil
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decoded %+v, want %+v", got, want)
		}
		if !bytes.Equal(got.Encode(), b) {
			t.Error("re-encoding differs")
		}
		for i := range b {
			if _, err := DecodeElectionRecord(b[:i]); err == nil {
				t.Errorf("prefix of %d bytes decodes", i)
			}
		}
		if _, err := DecodeElectionRecord(append(bytes.Clone(b), 0)); err == nil {
			t.Error("trailing byte accepted")
		}
	}
	bad := sampleRecord()
	bad.Phase = 9
	if _, err := DecodeElectionRecord(bad.Encode()); err == nil {
		t.Error("phase 9 accepted")
	}
	br := &BallotRecord{Hash: bytes.Repeat([]byte{1}, 32), TrackingCode: "ABCD-EFGH", Credential: bytes.Repeat([]byte{2}, 32), Height: 4, Index: 7, ReplacedBy: bytes.Repeat([]byte{3}, 32)}
	if got, err := DecodeBallotRecord(br.Encode()); err != nil || !reflect.DeepEqual(got, br) {
		t.Errorf("ballot record: %+v %v", got, err)
	}
	ar := &AuditRecord{Hash: bytes.Repeat([]byte{1}, 32), TrackingCode: "ABCD", Height: 4, Index: 7}
	if got, err := DecodeAuditRecord(ar.Encode()); err != nil || !reflect.DeepEqual(got, ar) {
		t.Errorf("audit record: %+v %v", got, err)
	}
}

// TestChangesHash: the hash depends on the set of writes, not their order,
// and on every byte of each.
func TestChangesHash(t *testing.T) {
	ws := []Write{{Bucket: "b", Key: []byte("k1"), Value: []byte("v")}, {Bucket: "a", Key: []byte("k2"), Value: []byte("w")}, {Bucket: "a", Key: []byte("k1"), Delete: true}}
	h := ChangesHash(ws)
	if ChangesHash([]Write{ws[2], ws[0], ws[1]}) != h {
		t.Error("order changes the hash")
	}
	for i := range ws[:2] { // the third is a deletion: it has no value
		m := append([]Write(nil), ws...)
		m[i].Value = append(bytes.Clone(m[i].Value), 'x')
		if ChangesHash(m) == h {
			t.Errorf("write %d's value does not change the hash", i)
		}
	}
	m := append([]Write(nil), ws...)
	m[2].Delete = false
	if ChangesHash(m) == h {
		t.Error("a deletion hashes like an empty value")
	}
	if bytes.Equal(NextAppHash(nil, 1, h), NextAppHash(nil, 2, h)) {
		t.Error("the height does not change the app hash")
	}
}

func FuzzDecodeElectionRecord(f *testing.F) {
	f.Add(sampleRecord().Encode())
	f.Add((&ElectionRecord{Phase: wire.PhaseOpen}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeElectionRecord(b)
		if err != nil {
			return
		}
		if r2, err := DecodeElectionRecord(r.Encode()); err != nil || !reflect.DeepEqual(r2, r) {
			t.Fatalf("re-decoding differs: %v", err)
		}
	})
}

// TestNormalAppState: the genesis app_state the state holds does not depend
// on how the genesis file was written (indentation, HTML escaping, member
// order), so a node that read a hand-written genesis and a verifier that
// reads the record's re-encoded one compute the same app hash.
func TestNormalAppState(t *testing.T) {
	forms := []string{
		`{"officials":["ed25519:AAAA"],"note":"Smith & Jones <x>","n":1.50}`,
		"{\n  \"note\": \"Smith \\u0026 Jones \\u003cx\\u003e\",\n  \"n\": 1.50,\n  \"officials\": [\n    \"ed25519:AAAA\"\n  ]\n}\n",
	}
	first := string(NormalAppState([]byte(forms[0])))
	if first != `{"n":1.50,"note":"Smith & Jones <x>","officials":["ed25519:AAAA"]}` {
		t.Errorf("normal form %s", first)
	}
	for _, f := range forms[1:] {
		if got := string(NormalAppState([]byte(f))); got != first {
			t.Errorf("%q normalises to %s, want %s", f, got, first)
		}
	}
	if got := string(NormalAppState([]byte(`{"officials":["ed25519:AAAA"]}`))); got != `{"officials":["ed25519:AAAA"]}` {
		t.Errorf("evote's own app_state changes: %s", got)
	}
	if got := string(NormalAppState([]byte("not json"))); got != "not json" {
		t.Errorf("non-JSON: %s", got)
	}
}
