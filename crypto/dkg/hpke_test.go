package dkg

import (
	"bytes"
	"crypto/rand"
	"errors"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/cryptotest"
	"testing"
)

// hpkeExport is RFC 9180 §5.3 Export(exporter_context, L) over our key
// schedule, to compare the exporter secret with circl's.
func hpkeExport(c hpkeContext, exporterContext []byte, length int) []byte {
	return hpkeLabeledExpand(c.exporterSecret, "sec", exporterContext, length)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustHPKEKey(t testing.TB) *HPKEPrivateKey {
	t.Helper()
	k, err := GenerateHPKEKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestHPKEKeyScheduleMatchesCircl: our base-mode key schedule opens what
// circl's Sender seals, circl's Receiver opens what we seal, and the exporter
// secrets agree, on random keys, info, aad and plaintexts.
func TestHPKEKeyScheduleMatchesCircl(t *testing.T) {
	for it := 0; it < 50; it++ {
		sk := mustHPKEKey(t)
		pk, err := sk.pub.kem()
		if err != nil {
			t.Fatal(err)
		}
		info := randomBytes(t, it)
		aad := randomBytes(t, it%7)
		pt := randomBytes(t, 1+it)

		// circl seals, we open from the decapsulated shared secret.
		sender, err := hpkeSuite.NewSender(pk, info)
		if err != nil {
			t.Fatal(err)
		}
		enc, sealer, err := sender.Setup(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := sealer.Seal(pt, aad)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := sk.decapsulate(enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := hpkeOpenWithSecret(ss, info, aad, ct)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("iteration %d: our key schedule does not open circl's ciphertext: %v", it, err)
		}
		ours := hpkeKeySchedule(ss, info)
		expCtx := randomBytes(t, it%5)
		if a, b := sealer.Export(expCtx, 32), hpkeExport(ours, expCtx, 32); !bytes.Equal(a, b) {
			t.Fatalf("iteration %d: exporter differs: circl %x, ours %x", it, a, b)
		}
		if _, err := hpkeOpenWithSecret(ss, append(info, 0), aad, ct); err == nil {
			t.Fatalf("iteration %d: opened with a different info", it)
		}

		// We seal from a shared secret, circl's Receiver opens.
		enc2, ss2, err := hpkeScheme.EncapsulateDeterministically(pk, randomBytes(t, hpkeScheme.EncapsulationSeedSize()))
		if err != nil {
			t.Fatal(err)
		}
		ct2 := hpkeKeySchedule(ss2, info).seal(pt, aad)
		recv, err := hpkeSuite.NewReceiver(sk.sk, info)
		if err != nil {
			t.Fatal(err)
		}
		opener, err := recv.Setup(enc2)
		if err != nil {
			t.Fatal(err)
		}
		got2, err := opener.Open(ct2, aad)
		if err != nil || !bytes.Equal(got2, pt) {
			t.Fatalf("iteration %d: circl does not open our ciphertext: %v", it, err)
		}
	}
}

// TestHPKESealDeterministic: hpkeSeal honours its reader (known answers).
func TestHPKESealDeterministic(t *testing.T) {
	sk := mustHPKEKey(t)
	a, err := hpkeSeal(cryptotest.NewDRBG("seal"), sk.Public(), []byte("info"), nil, []byte("pt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := hpkeSeal(cryptotest.NewDRBG("seal"), sk.Public(), []byte("info"), nil, []byte("pt"))
	if !bytes.Equal(a, b) {
		t.Fatal("same reader, different ciphertexts")
	}
}

func TestHPKEKeyEncoding(t *testing.T) {
	sk := mustHPKEKey(t)
	pub, err := DecodeHPKEPublicKey(sk.Public().Encode())
	if err != nil || pub != sk.Public() {
		t.Fatalf("public key round trip: %v", err)
	}
	sk2, err := DecodeHPKEPrivateKey(sk.Encode())
	if err != nil || sk2.Public() != sk.Public() {
		t.Fatalf("private key round trip: %v", err)
	}
	k1, _ := GenerateHPKEKey(cryptotest.NewDRBG("k"))
	k2, _ := GenerateHPKEKey(cryptotest.NewDRBG("k"))
	if k1.Public() != k2.Public() {
		t.Fatal("GenerateHPKEKey ignores its reader")
	}

	p := [32]byte{0xed}
	for i := 1; i < 31; i++ {
		p[i] = 0xff
	}
	p[31] = 0x7f // p = 2^255 − 19 itself
	bad := map[string][]byte{
		"zero":      make([]byte, 32),
		"one":       append([]byte{1}, make([]byte, 31)...),
		"p":         p[:],
		"p-1+top":   func() []byte { q := p; q[0] = 0xec; q[31] |= 0x80; return q[:] }(),
		"top bit":   func() []byte { q := sk.Public(); q[31] |= 0x80; return q[:] }(),
		"short":     make([]byte, 31),
		"long":      make([]byte, 33),
		"order 8 a": {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	}
	for name, b := range bad {
		if _, err := DecodeHPKEPublicKey(b); !errors.Is(err, crypto.ErrDecode) {
			t.Errorf("%s: got %v, want a decoding error", name, err)
		}
	}
	// p − 1 (u = −1) is canonical and of order 4 on the curve: rejected as
	// small order, not as non-canonical.
	q := p
	q[0] = 0xec
	if _, err := DecodeHPKEPublicKey(q[:]); !errors.Is(err, ErrHPKEKey) {
		t.Errorf("p−1: got %v, want ErrHPKEKey", err)
	}
	if _, err := DecodeHPKEPrivateKey(make([]byte, 31)); !errors.Is(err, crypto.ErrLength) {
		t.Errorf("short private key: %v", err)
	}
}

func FuzzDecodeHPKEPublicKey(f *testing.F) {
	k, _ := GenerateHPKEKey(cryptotest.NewDRBG("fuzz"))
	f.Add(k.Public().Encode())
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeHPKEPublicKey(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Encode(), b) {
			t.Fatalf("decode→encode changed %x", b)
		}
	})
}
