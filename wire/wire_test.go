package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

func samples() []Tx {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	d := &DefineElection{ElectionID: "e-&<>\"'\\-選挙", Manifest: []byte(`{"a":1}`)}
	roll := &CredentialRoll{ElectionID: "e", Header: []byte("hdr"), Chunk: 3, Entries: bytes.Repeat([]byte{1}, 84)}
	open, cl := &Open{ElectionID: "e"}, &Close{ElectionID: "e"}
	for _, t := range []OfficialTx{d, roll, open, cl} {
		Sign("chain-1", t, key)
	}
	return []Tx{d, roll, open, cl,
		&Ceremony{ElectionID: "e", Message: "dealing", From: 2, Payload: []byte("p"), Signature: []byte("s")},
		&Ballot{ElectionID: "e", Cast: []byte("cast")},
		&Audit{ElectionID: "e", File: []byte("{}")},
		&Totals{ElectionID: "e", Ciphertexts: make([]byte, 128)},
		&Share{ElectionID: "e", Trustee: 1, Share: []byte("share"), Signature: []byte("sig")},
		&Result{ElectionID: "e", Counts: []uint64{0, 1, 1 << 40}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tx := range samples() {
		b := Encode(tx)
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", tx.Kind(), err)
		}
		if !reflect.DeepEqual(got, tx) {
			t.Errorf("%s: decoded %#v, want %#v", tx.Kind(), got, tx)
		}
		if k, ok := PeekKind(b); !ok || k != tx.Kind() {
			t.Errorf("%s: PeekKind = %v %v", tx.Kind(), k, ok)
		}
		if o, ok := tx.(OfficialTx); ok && !VerifyOfficial("chain-1", o) {
			t.Errorf("%s: signature does not verify", tx.Kind())
		}
		if o, ok := tx.(OfficialTx); ok && VerifyOfficial("chain-2", o) {
			t.Errorf("%s: signature verifies for another chain", tx.Kind())
		}
	}
}

// TestKnownAnswer pins the bytes of a ballot and a share transaction
// (docs/spec-chain.md §2).
func TestKnownAnswer(t *testing.T) {
	b := Encode(&Ballot{ElectionID: "e", Cast: []byte{0xaa}})
	if got, want := hex.EncodeToString(b), "0106"+"0000000000000001"+"65"+"0000000000000001"+"aa"; got != want {
		t.Errorf("ballot = %s, want %s", got, want)
	}
	s := Encode(&Share{ElectionID: "e", Trustee: 2, Share: []byte{1}, Signature: []byte{2}})
	if got, want := hex.EncodeToString(s), "0109"+"000000000000000165"+"0000000000000008"+"0000000000000002"+"000000000000000101"+"000000000000000102"; got != want {
		t.Errorf("share = %s, want %s", got, want)
	}
}

// TestMalformed mutates every byte and truncates every prefix of valid
// transactions: the decoder returns ErrMalformed or a transaction that
// encodes to the same bytes, never anything else.
func TestMalformed(t *testing.T) {
	for _, tx := range samples() {
		b := Encode(tx)
		for i := range b {
			if _, err := Decode(b[:i]); err == nil {
				t.Errorf("%s: prefix of %d bytes decoded", tx.Kind(), i)
			} else if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: %v does not wrap ErrMalformed", tx.Kind(), err)
			}
			m := bytes.Clone(b)
			m[i] ^= 0x80
			if got, err := Decode(m); err == nil && !bytes.Equal(Encode(got), m) {
				t.Errorf("%s: byte %d flipped decodes to a transaction of other bytes", tx.Kind(), i)
			}
		}
		if _, err := Decode(append(bytes.Clone(b), 0)); err == nil {
			t.Errorf("%s: trailing byte accepted", tx.Kind())
		}
	}
	for name, b := range map[string][]byte{
		"empty": nil, "version": {2, 6}, "kind": {1, 0}, "kind 11": {1, 11},
		"empty id":   append([]byte{1, 6}, make([]byte, 8)...),
		"huge field": append(append([]byte{1, 6}, 0, 0, 0, 0, 0, 0, 0, 1, 'e'), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"oversize":   make([]byte, MaxTxSize+1),
		"odd counts": Encode(&Totals{ElectionID: "e", Ciphertexts: []byte{1, 2, 3}})[:0],
	} {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	odd := Encode(&Totals{ElectionID: "e", Ciphertexts: []byte{1, 2, 3}})
	odd[1] = byte(KindResult)
	if _, err := Decode(odd); !errors.Is(err, ErrMalformed) {
		t.Errorf("result with 3 bytes of counts: %v", err)
	}
}

func TestNames(t *testing.T) {
	if KindShare.String() != "decryption-share" || Kind(42).String() != "type-42" {
		t.Error("kind names")
	}
	if CodeAuditLimit.String() != "audit-limit" || Code(77).String() != "code-77" {
		t.Error("code names")
	}
	var p Phase
	if err := p.UnmarshalText([]byte("open")); err != nil || p != PhaseOpen {
		t.Errorf("phase: %v %v", p, err)
	}
	if _, err := Phase(9).MarshalText(); err == nil {
		t.Error("phase 9 marshals")
	}
}

func FuzzDecode(f *testing.F) {
	for _, tx := range samples() {
		f.Add(Encode(tx))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(Encode(tx), b) {
			t.Fatalf("decoded %x re-encodes to other bytes", b)
		}
	})
}
