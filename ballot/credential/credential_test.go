package credential

import (
	"bytes"
	"crypto/ed25519"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
)

var (
	cryptoRand = cryptorand.Reader
	errorsIs   = errors.Is
	// testKDF is the cheap profile of the tests.
	testKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
)

type katVector struct {
	ID         string `json:"id"`
	Comment    string `json:"comment"`
	Code       string `json:"code"`
	ElectionID string `json:"election_id"`
	Time       uint32 `json:"time"`
	MemoryKiB  uint32 `json:"memory_kib"`
	Threads    uint8  `json:"threads"`
	Salt       string `json:"salt"`
	PublicKey  string `json:"public_key"`
	Message    string `json:"message"`
	Signature  string `json:"signature"`
}

func katBaseHashes() (base, ballot [32]byte) {
	for i := range 32 {
		base[i] = byte(i)
		ballot[i] = byte(32 + i)
	}
	return base, ballot
}

// TestKnownAnswers checks derivation, the ballot message and the signature
// against vectors computed independently (testdata/kat.py), in the cheap
// profile and in the default profile.
func TestKnownAnswers(t *testing.T) {
	b, err := os.ReadFile("testdata/kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var suite struct{ Cases []katVector }
	if err := json.Unmarshal(b, &suite); err != nil {
		t.Fatal(err)
	}
	sawDefault := false
	for _, v := range suite.Cases {
		t.Run(v.ID, func(t *testing.T) {
			p := KDFParams{Time: v.Time, MemoryKiB: v.MemoryKiB, Threads: v.Threads}
			sawDefault = sawDefault || p == DefaultKDF
			if got := hex.EncodeToString(kdfSalt(v.ElectionID)); got != v.Salt {
				t.Errorf("salt %s, want %s", got, v.Salt)
			}
			cred, err := Derive(mustCode(t, v.Code), v.ElectionID, p)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(cred.PublicKey()); got != v.PublicKey {
				t.Errorf("public key %s, want %s", got, v.PublicKey)
			}
			base, bh := katBaseHashes()
			msg := BallotMessage(base, bh)
			if got := hex.EncodeToString(msg); got != v.Message {
				t.Errorf("message %s, want %s", got, v.Message)
			}
			sig := cred.SignBallot(base, bh)
			if got := hex.EncodeToString(sig); got != v.Signature {
				t.Errorf("signature %s, want %s", got, v.Signature)
			}
			if !bytes.Equal(cred.Sign(msg), sig) {
				t.Error("Sign(BallotMessage) differs from SignBallot")
			}
			pub, _ := hex.DecodeString(v.PublicKey)
			want, _ := hex.DecodeString(v.Signature)
			if err := VerifyBallot(pub, base, bh, want); err != nil {
				t.Errorf("VerifyBallot: %v", err)
			}
		})
	}
	if !sawDefault {
		t.Error("no vector uses the default KDF profile")
	}
}

func TestDeriveSeparation(t *testing.T) {
	c := mustCode(t, "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5")
	c2 := mustCode(t, "10AB-CDEF-GHJK-MNPQ-RSTV-WH38")
	keys := map[string]string{}
	for name, args := range map[string]struct {
		c  Code
		id string
		p  KDFParams
	}{
		"base":        {c, "lakeside-2026", testKDF},
		"other code":  {c2, "lakeside-2026", testKDF},
		"other id":    {c, "lakeside-2027", testKDF},
		"other time":  {c, "lakeside-2026", KDFParams{Time: 2, MemoryKiB: 64, Threads: 1}},
		"other mem":   {c, "lakeside-2026", KDFParams{Time: 1, MemoryKiB: 72, Threads: 1}},
		"other lanes": {c, "lakeside-2026", KDFParams{Time: 1, MemoryKiB: 64, Threads: 2}},
	} {
		cred, err := Derive(args.c, args.id, args.p)
		if err != nil {
			t.Fatal(err)
		}
		k := string(cred.PublicKey())
		if prev, ok := keys[k]; ok {
			t.Errorf("%s and %s give the same key", name, prev)
		}
		keys[k] = name
	}
	// Same inputs in another spelling: the same key.
	a, _ := Derive(c, "lakeside-2026", testKDF)
	b, _ := Derive(mustCode(t, "7kq2 m9xh 3rtb wzoc 4nva exg5"), "lakeside-2026", testKDF)
	if !bytes.Equal(a.PublicKey(), b.PublicKey()) {
		t.Error("normalised spellings give different keys")
	}
}

func TestDeriveRejects(t *testing.T) {
	c := mustCode(t, "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5")
	for _, tc := range []struct {
		c    Code
		id   string
		p    KDFParams
		want string
	}{
		{c, "", testKDF, `credential: election id "" is not valid`},
		{c, "Lakeside", testKDF, `credential: election id "Lakeside" is not valid`},
		{c, strings.Repeat("a", 65), testKDF, `is not valid: use 1 to 64`},
		{c, "x", KDFParams{Time: 0, MemoryKiB: 64, Threads: 1}, "credential: KDF time 0 is out of range: want 1 to 16 passes"},
		{c, "x", KDFParams{Time: 17, MemoryKiB: 64, Threads: 1}, "credential: KDF time 17 is out of range"},
		{c, "x", KDFParams{Time: 1, MemoryKiB: 64, Threads: 0}, "credential: KDF threads 0 is out of range: want 1 to 16"},
		{c, "x", KDFParams{Time: 1, MemoryKiB: 64, Threads: 17}, "credential: KDF threads 17 is out of range"},
		{c, "x", KDFParams{Time: 1, MemoryKiB: 31, Threads: 4}, "credential: KDF memory 31 KiB is out of range: want 32 to 1048576 KiB with 4 threads"},
		{c, "x", KDFParams{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1}, "credential: KDF memory 1048577 KiB is out of range"},
		{Code{}, "x", testKDF, "credential: derive: the zero Code is not a code"},
	} {
		_, err := Derive(tc.c, tc.id, tc.p)
		if err == nil || !strings.HasPrefix(err.Error(), "credential: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Derive(%q, %+v) = %v, want %q", tc.id, tc.p, err, tc.want)
		}
	}
	if !testKDF.Weaker() || DefaultKDF.Weaker() || (KDFParams{Time: 4, MemoryKiB: 65536, Threads: 1}).Weaker() {
		t.Error("Weaker is wrong")
	}
}

// TestVerifyBallotMutations: a valid signature verifies; changing any byte of
// the signature, either hash or the key is rejected with ErrBadSignature.
func TestVerifyBallotMutations(t *testing.T) {
	cred, err := Derive(mustCode(t, "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5"), "lakeside-2026", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	pub := cred.PublicKey()
	base, bh := katBaseHashes()
	sig := cred.SignBallot(base, bh)
	if err := VerifyBallot(pub, base, bh, sig); err != nil {
		t.Fatal(err)
	}
	for i := range sig {
		for _, bit := range []byte{0x01, 0x80} {
			s := bytes.Clone(sig)
			s[i] ^= bit
			if err := VerifyBallot(pub, base, bh, s); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("signature byte %d ^%#x: %v", i, bit, err)
			}
		}
	}
	for i := range 32 {
		b2, h2 := base, bh
		b2[i] ^= 1
		h2[i] ^= 1
		if err := VerifyBallot(pub, b2, bh, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("base hash byte %d: %v", i, err)
		}
		if err := VerifyBallot(pub, base, h2, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("ballot hash byte %d: %v", i, err)
		}
		p := bytes.Clone(pub)
		p[i] ^= 1
		if err := VerifyBallot(p, base, bh, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("public key byte %d: %v", i, err)
		}
	}
	// Every byte of the signed message itself.
	msg := BallotMessage(base, bh)
	for i := range msg {
		m := bytes.Clone(msg)
		m[i] ^= 1
		if ed25519.Verify(pub, m, sig) {
			t.Fatalf("message byte %d mutated still verifies", i)
		}
	}
	// Swapped hashes are a different message.
	if err := VerifyBallot(pub, bh, base, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("swapped hashes: %v", err)
	}
	for _, tc := range []struct {
		pub, sig []byte
		want     error
		msg      string
	}{
		{pub[:31], sig, ErrPublicKeySize, "credential: public key has the wrong length: 31 bytes, want 32"},
		{append(bytes.Clone(pub), 0), sig, ErrPublicKeySize, "credential: public key has the wrong length: 33 bytes, want 32"},
		{nil, sig, ErrPublicKeySize, "credential: public key has the wrong length: 0 bytes, want 32"},
		{pub, sig[:63], ErrSignatureSize, "credential: signature has the wrong length: 63 bytes, want 64"},
		{pub, append(bytes.Clone(sig), 0), ErrSignatureSize, "credential: signature has the wrong length: 65 bytes, want 64"},
		{pub, nil, ErrSignatureSize, "credential: signature has the wrong length: 0 bytes, want 64"},
	} {
		err := VerifyBallot(tc.pub, base, bh, tc.sig)
		if !errors.Is(err, tc.want) || errors.Is(err, ErrBadSignature) || err.Error() != tc.msg {
			t.Errorf("VerifyBallot(%d-byte key, %d-byte sig) = %v, want %q", len(tc.pub), len(tc.sig), err, tc.msg)
		}
	}
}

// TestNotOnRoll: a credential outside the roll signs validly, and the roll
// lookup is what rejects it.
func TestNotOnRoll(t *testing.T) {
	codes, roll, err := Generate("lakeside-2026", 5, testKDF, seeded(7), 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range codes {
		cred, err := Derive(c, "lakeside-2026", testKDF)
		if err != nil {
			t.Fatal(err)
		}
		if j, ok := roll.Index(cred.PublicKey()); !ok || !bytes.Equal(roll.Key(j), cred.PublicKey()) {
			t.Fatalf("credential %d: Index = %d, %v", i, j, ok)
		}
	}
	outsider, err := Derive(mustCode(t, "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5"), "lakeside-2026", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	base, bh := katBaseHashes()
	if err := VerifyBallot(outsider.PublicKey(), base, bh, outsider.SignBallot(base, bh)); err != nil {
		t.Fatal(err)
	}
	if roll.Contains(outsider.PublicKey()) {
		t.Fatal("outsider on the roll")
	}
	// The same code in another election is not on this roll either.
	other, _ := Derive(codes[0], "lakeside-2027", testKDF)
	if roll.Contains(other.PublicKey()) {
		t.Fatal("credential of another election on the roll")
	}
}

func TestCredentialRedacted(t *testing.T) {
	cred, err := Derive(mustCode(t, "7KQ2-M9XH-3RTB-WZ0C-4NVA-EXG5"), "lakeside-2026", testKDF)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cred", "cred", cred)
	out := fmt.Sprintf("%v %+v %#v %s %x %v %+v", cred, cred, cred, cred, cred, *cred, *cred) + logged.String()
	seed := hex.EncodeToString(cred.priv.Seed())
	if strings.Contains(out, seed) || strings.Contains(out, seed[:16]) {
		t.Fatalf("private key leaked: %s", out)
	}
	if !strings.Contains(out, hex.EncodeToString(cred.PublicKey())) {
		t.Fatalf("public key not shown: %s", out)
	}
}

// BenchmarkDeriveDefault measures one derivation with the default (OWASP)
// parameters. Run it with -benchtime=5x: each iteration costs tens of
// milliseconds.
func BenchmarkDeriveDefault(b *testing.B) {
	c, err := NewCode(cryptoRand)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Derive(c, "lakeside-2026", DefaultKDF); err != nil {
			b.Fatal(err)
		}
	}
}
