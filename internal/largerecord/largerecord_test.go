package largerecord_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evote/evote/internal/largerecord"
	"github.com/evote/evote/verify"
)

// TestGenerate builds a small record with the generator of make bench-large
// and verifies it fully: every check must pass, with every ballot counted.
func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "record")
	st, err := largerecord.Generate(context.Background(), largerecord.Config{
		Dir: dir, Manifest: "../../election-configs/benchmark-10-selections.yaml", Ballots: 200, PerBlock: 64})
	if err != nil {
		t.Fatal(err)
	}
	if st.Selections != 10 {
		t.Errorf("%d selections per ballot, want 10", st.Selections)
	}
	r, err := verify.Record(context.Background(), dir, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		var b strings.Builder
		r.WriteText(&b)
		t.Fatalf("verification failed:\n%s", b.String())
	}
	if r.Result == nil || r.Result.Ballots != 200 {
		t.Fatalf("result %+v, want 200 ballots counted", r.Result)
	}
}
