package credential

import (
	"bytes"
	"context"
	"errors"
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
	for i, c := range codes {
		if st := CheckPartial(c.Text()); st.State != Valid {
			t.Fatalf("code %d: %+v", i, st)
		}
		cred, err := Derive(c, "lakeside-2026", testKDF)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cred.PublicKey(), roll.Key(i)) {
			t.Fatalf("key %d is not the key of code %d", i, i)
		}
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
