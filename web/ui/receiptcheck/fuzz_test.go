package receiptcheck_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/evote/evote/web/ui/receiptcheck"
)

// FuzzDecodeVerify decodes and verifies arbitrary receipts and validator
// sets (seeded with a real pair from TestAgreesWithWeb,
// EVOTE_WRITE_TESTDATA=1): bad input gives an error, never a panic, and
// the real pair verifies.
func FuzzDecodeVerify(f *testing.F) {
	receipt, err := os.ReadFile(filepath.Join("testdata", "receipt.json"))
	if err != nil {
		f.Fatal(err)
	}
	vals, err := os.ReadFile(filepath.Join("testdata", "validators.json"))
	if err != nil {
		f.Fatal(err)
	}
	vs, chainID, err := receiptcheck.DecodeValidators(vals)
	if err != nil {
		f.Fatal(err)
	}
	r, err := receiptcheck.Decode(receipt)
	if err != nil {
		f.Fatal(err)
	}
	if err := receiptcheck.Verify(r, chainID, vs); err != nil {
		f.Fatalf("the seed receipt does not verify: %v", err)
	}
	f.Add(receipt, vals)
	f.Add([]byte(`{"format":"evote/v1/receipt"}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, receipt, vals []byte) {
		vs, chainID, err := receiptcheck.DecodeValidators(vals)
		if err != nil {
			return
		}
		r, err := receiptcheck.Decode(receipt)
		if err != nil {
			return
		}
		_ = receiptcheck.Verify(r, chainID, vs)
		_, _ = r.BallotField()
	})
}
