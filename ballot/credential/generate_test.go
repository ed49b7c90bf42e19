package credential

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	var calls []int
	codes, roll, err := GenerateContext(context.Background(), "lakeside-2026", 7, testKDF, seeded(3), 3, func(d int) { calls = append(calls, d) })
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 7 || roll.Len() != 7 || roll.Header().KDF != testKDF || roll.Header().ElectionID != "lakeside-2026" {
		t.Fatalf("%d codes, roll %+v", len(codes), roll.Header())
	}
	for i, d := range calls {
		if d != i+1 {
			t.Fatalf("progress calls %v", calls)
		}
	}
	if len(calls) != 7 {
		t.Fatalf("progress calls %v", calls)
	}
	onRoll := map[int]bool{}
	for i, c := range codes {
		if st := CheckPartial(c.Text()); st.State != Valid {
			t.Fatalf("code %d: %+v", i, st)
		}
		cred, err := Derive(c, "lakeside-2026", testKDF)
		if err != nil {
			t.Fatal(err)
		}
		j, ok := roll.Index(cred.PublicKey())
		if !ok || onRoll[j] {
			t.Fatalf("the key of code %d is not on the roll, or shares a place (%d, %v)", i, j, ok)
		}
		onRoll[j] = true
	}
	// The same random stream gives the same roll with any number of workers.
	for _, w := range []int{0, 1, 16} {
		codes2, roll2, err := Generate("lakeside-2026", 7, testKDF, seeded(3), w)
		if err != nil {
			t.Fatal(err)
		}
		if roll2.Hash() != roll.Hash() || codes2[6] != codes[6] {
			t.Fatalf("workers=%d: a different roll", w)
		}
	}
}

func TestGenerateRejects(t *testing.T) {
	for _, tc := range []struct {
		id   string
		n    int
		p    KDFParams
		want string
	}{
		{"lakeside-2026", 0, testKDF, "credential: roll size 0 is out of range"},
		{"lakeside-2026", -1, testKDF, "credential: roll size -1 is out of range"},
		{"Lakeside", 1, testKDF, "credential: election id"},
		{"lakeside-2026", 1, KDFParams{}, "credential: KDF time 0"},
	} {
		if _, _, err := Generate(tc.id, tc.n, tc.p, cryptoRand, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Generate(%q, %d, %+v) = %v, want %q", tc.id, tc.n, tc.p, err, tc.want)
		}
	}
	// A broken random source: too short, or repeating itself.
	if _, _, err := Generate("x", 3, testKDF, bytes.NewReader(make([]byte, 2*DataSymbols)), 1); err == nil ||
		!strings.Contains(err.Error(), "credential: reading randomness") {
		t.Errorf("short randomness: %v", err)
	}
	if _, _, err := Generate("x", 3, testKDF, bytes.NewReader(make([]byte, 3*DataSymbols)), 1); err == nil ||
		err.Error() != "credential: generated credentials 0 and 1 have the same public key: is the random source broken?" {
		t.Errorf("repeating randomness: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := GenerateContext(ctx, "x", 50, testKDF, cryptoRand, 2, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestGenerateRollOrder: the roll is sorted by key, whatever order the codes
// were drawn in, so a code's place in the list of codes (the order of
// generation, which printing and mailing follow) is not its key's place on
// the public roll. A roll in generation order, as before, fails every check.
func TestGenerateRollOrder(t *testing.T) {
	const n = 12
	codes, roll, err := Generate("lakeside-2026", n, testKDF, seeded(5), 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckEntries(roll.Header(), roll.Encode()[len(roll.Encode())-n*EntrySize:]); err != nil {
		t.Fatalf("the generated roll is not sorted by key: %v", err)
	}
	for i := 1; i < n; i++ {
		if bytes.Compare(roll.Key(i-1), roll.Key(i)) >= 0 {
			t.Fatalf("roll keys %d and %d are not in ascending order", i-1, i)
		}
	}
	// The generation order is a different permutation of the roll.
	keys := make([]ed25519.PublicKey, n)
	same := 0
	for i, c := range codes {
		cred, err := Derive(c, "lakeside-2026", testKDF)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = cred.PublicKey()
		if j, _ := roll.Index(keys[i]); j == i {
			same++
		}
	}
	if same == n {
		t.Fatal("code i has the key at roll position i for every i: the roll is in generation order")
	}
	// The roll is a function of the set of keys: any order of the same keys
	// gives the same roll and roll hash.
	slices.Reverse(keys)
	again, err := NewRoll("lakeside-2026", testKDF, keys)
	if err != nil {
		t.Fatal(err)
	}
	if again.Hash() != roll.Hash() || !bytes.Equal(again.Encode(), roll.Encode()) {
		t.Fatal("the same keys in another order give another roll")
	}
}
