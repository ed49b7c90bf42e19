package receiptcheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/web/protocol"

	"github.com/evote/evote/web"
	"github.com/evote/evote/web/client"
	"github.com/evote/evote/web/ui/receiptcheck"
	"github.com/evote/evote/web/webtest"
)

// TestAgreesWithWeb casts three ballots at once (so that proofs have
// aunts), then checks every receipt with both verifiers, and checks that
// they agree — pass or fail, and on the failing step — on every mutation
// of every leaf of the receipt's JSON and of the validator set.
func TestAgreesWithWeb(t *testing.T) {
	env := webtest.Start(t, 4, 300*time.Millisecond)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := web.New(web.Config{Logger: quiet}, env.App, env.Client, env.ChainID)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		ts.Close()
	})
	ctx := context.Background()
	c, err := client.Dial(ctx, []string{"ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"}, client.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var acks []*client.Ack
	for i := range 3 {
		cast, _ := env.Cast(t, i)
		ack, err := c.Cast(ctx, webtest.ElectionID, cast)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack)
	}
	audit, _ := env.Audit(t, 3)
	ack, err := c.Audit(ctx, webtest.ElectionID, audit)
	if err != nil {
		t.Fatal(err)
	}
	acks = append(acks, ack)
	get := func(path string) []byte {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	var receipts [][]byte
	for _, a := range acks {
		r, err := c.WaitCommitted(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, b)
	}
	valsJSON := get("/api/validators")
	if os.Getenv("EVOTE_WRITE_TESTDATA") != "" {
		_ = os.WriteFile(filepath.Join("testdata", "receipt.json"), receipts[0], 0o644)
		_ = os.WriteFile(filepath.Join("testdata", "validators.json"), valsJSON, 0o644)
	}
	vals, chainID, err := receiptcheck.DecodeValidators(valsJSON)
	if err != nil || chainID != env.ChainID {
		t.Fatalf("validators: %v, chain %q", err, chainID)
	}
	cmtVals, _, err := web.DecodeValidators(valsJSON)
	if err != nil {
		t.Fatal(err)
	}
	if string(vals.Hash()) != string(cmtVals.Hash()) {
		t.Fatalf("validator set hash %X, CometBFT's %X", vals.Hash(), cmtVals.Hash())
	}

	// check runs both verifiers and returns their outcomes as "ok",
	// "decode" or the failing step.
	check := func(raw []byte, chainID string) (string, string) {
		webOut := "ok"
		var wr protocol.Receipt
		if err := json.Unmarshal(raw, &wr); err != nil {
			webOut = "decode"
		} else if err := protocol.VerifyReceipt(&wr, chainID, cmtVals); err != nil {
			var re *protocol.ReceiptError
			if !errors.As(err, &re) {
				t.Fatalf("web: %v", err)
			}
			webOut = re.Step
		}
		ours := "ok"
		r, err := receiptcheck.Decode(raw)
		if err != nil {
			ours = "decode"
		} else if err := receiptcheck.Verify(r, chainID, vals); err != nil {
			var re *receiptcheck.Error
			if !errors.As(err, &re) {
				t.Fatalf("receiptcheck: %v", err)
			}
			ours = re.Step
		}
		return webOut, ours
	}
	withAunts := false
	mutations := 0
	for i, raw := range receipts {
		if w, o := check(raw, env.ChainID); w != "ok" || o != "ok" {
			t.Fatalf("receipt %d: web %s, receiptcheck %s", i, w, o)
		}
		if w, o := check(raw, "other-chain"); w != o || w != receiptcheck.StepHeader {
			t.Fatalf("receipt %d, other chain: web %s, receiptcheck %s", i, w, o)
		}
		r, _ := receiptcheck.Decode(raw)
		withAunts = withAunts || len(r.Proof.Aunts) > 0
		var tree any
		if err := json.Unmarshal(raw, &tree); err != nil {
			t.Fatal(err)
		}
		for _, m := range mutate(tree, "") {
			b, err := json.Marshal(m.tree)
			if err != nil {
				t.Fatal(err)
			}
			mutations++
			w, o := check(b, env.ChainID)
			// A value that only one decoder refuses must still be refused
			// by the other, at some step.
			if w != o && !(w == "decode" && o != "ok") && !(o == "decode" && w != "ok") {
				t.Errorf("receipt %d, %s: web %s, receiptcheck %s", i, m.name, w, o)
			}
			if w == "ok" && o == "ok" && !harmless(m.name) && !sameProofShape(m.name, r) {
				t.Errorf("receipt %d, %s: both verifiers accept the mutated receipt", i, m.name)
			}
		}
	}
	if !withAunts {
		t.Log("no receipt had aunts (every ballot in its own block)")
	}
	t.Logf("%d receipts, %d mutations: both verifiers agree", len(receipts), mutations)
}

// harmless names the fields a verifier does not check: their mutation may
// pass (e.g. the signature of a validator beyond the 2/3 already counted).
func harmless(name string) bool {
	if name == "/tracking_code" { // checked by VerifyTrackingCode, with the manifest
		return true
	}
	for _, s := range []string{"proposer_priority", "/commit/signatures/"} {
		if strings.Contains(name, s) && !strings.HasSuffix(name, "/0/signature") && !strings.HasSuffix(name, "/0/timestamp") {
			return true
		}
	}
	return false
}

// sameProofShape reports whether the mutation is the proof's total raised
// by one to a total whose Merkle tree gives the transaction's leaf the same
// path to the root: then the proof stays a valid proof of the same
// transaction in the same block (CometBFT's verifier accepts it too), and
// nothing the receipt claims has changed. With three transactions in a
// block, the proofs of the first two are the same for a total of 3 and 4.
func sameProofShape(name string, r *receiptcheck.Receipt) bool {
	if name != "/proof/proof/total" {
		return false
	}
	return slices.Equal(merklePath(r.Proof.Index, r.Proof.Total), merklePath(r.Proof.Index, r.Proof.Total+1))
}

// merklePath is the sequence of turns (true: right) from the root of
// CometBFT's Merkle tree of total leaves (split at the largest power of two
// below the size) down to leaf index.
func merklePath(index, total int64) []bool {
	var path []bool
	for total > 1 {
		k := int64(1)
		for k*2 < total {
			k *= 2
		}
		if index < k {
			path, total = append(path, false), k
		} else {
			path, index, total = append(path, true), index-k, total-k
		}
	}
	return path
}

type mutation struct {
	name string
	tree any
}

// mutate returns one copy of tree per leaf, with that leaf changed: a
// string gets one character changed within its alphabet, a number +1, a
// bool negated.
func mutate(tree any, path string) []mutation {
	var out []mutation
	switch v := tree.(type) {
	case map[string]any:
		for k, x := range v {
			for _, m := range mutate(x, path+"/"+k) {
				c := copyMap(v)
				c[k] = m.tree
				out = append(out, mutation{m.name, c})
			}
		}
	case []any:
		for i, x := range v {
			for _, m := range mutate(x, path+"/"+strconv.Itoa(i)) {
				c := append([]any(nil), v...)
				c[i] = m.tree
				out = append(out, mutation{m.name, c})
			}
		}
	case string:
		if v == "" {
			return []mutation{{path + " (set)", "AA"}}
		}
		b := []byte(v)
		i := len(b) / 2
		switch {
		case b[i] == '9':
			b[i] = '8'
		case b[i] >= '0' && b[i] <= '8', b[i] >= 'A' && b[i] < 'F', b[i] >= 'a' && b[i] < 'f':
			b[i]++
		case b[i] == 'F' || b[i] == 'f':
			b[i] -= 1
		default:
			b[i] = 'A'
		}
		out = append(out, mutation{path, string(b)})
	case float64:
		out = append(out, mutation{path, v + 1})
	case bool:
		out = append(out, mutation{path, !v})
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestMerklePath pins the tree shapes sameProofShape relies on.
func TestMerklePath(t *testing.T) {
	for _, c := range []struct {
		index, total int64
		same         bool // the same path for total+1
	}{
		{0, 3, true}, {1, 3, true}, {2, 3, false}, {0, 1, false}, {0, 2, false}, {4, 5, false}, {0, 5, true},
	} {
		if got := slices.Equal(merklePath(c.index, c.total), merklePath(c.index, c.total+1)); got != c.same {
			t.Errorf("leaf %d of %d: same path with %d leaves: %v, want %v", c.index, c.total, c.total+1, got, c.same)
		}
	}
}
