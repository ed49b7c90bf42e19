package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/web/protocol"

	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

// TestReceiptAndAPI casts two ballots into one block (so their proofs have
// aunts), then breaks each part of a receipt, and reads the HTTP API.
func TestReceiptAndAPI(t *testing.T) {
	env := webtest.Start(t, 4, 300*time.Millisecond)
	_, ts := startServer(t, env, web.Config{})
	e := webtest.ElectionID
	c := dial(t, ts, nil)
	castA, codeA := env.Cast(t, 0)
	castB, codeB := env.Cast(t, 1)
	c.send(castMsg("a", e, castA))
	c.send(castMsg("b", e, castB))
	var receipts []*protocol.Receipt
	for len(receipts) < 2 {
		m, err := c.read(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == protocol.TypeCommitted {
			receipts = append(receipts, m.Receipt)
		}
	}
	r := receipts[0]
	for _, x := range receipts {
		checkReceipt(t, env, x, map[bool]string{true: codeA, false: codeB}[x.TrackingCode == codeA])
		if len(x.Proof.Proof.Aunts) > 0 {
			r = x
		}
	}

	clone := func() *protocol.Receipt {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var out protocol.Receipt
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return &out
	}
	if err := protocol.VerifyReceipt(clone(), env.ChainID, env.Validators); err != nil {
		t.Fatalf("after a JSON round trip: %v", err)
	}
	otherKey := cmted.GenPrivKey().PubKey()
	otherVals := types.NewValidatorSet([]*types.Validator{types.NewValidator(otherKey, 10)})
	flip := func(b []byte) { b[len(b)/2] ^= 1 }
	cases := []struct {
		name   string
		mutate func(r *protocol.Receipt) *types.ValidatorSet
		step   string
	}{
		{"proof leaf hash", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.Proof.Proof.LeafHash); return nil }, protocol.StepProof},
		{"proof aunt", func(r *protocol.Receipt) *types.ValidatorSet {
			// Whether the two ballots shared a block is up to timing: a proof
			// with no aunt gets one it cannot have, a proof with aunts a
			// changed one; both must be refused.
			if len(r.Proof.Proof.Aunts) == 0 {
				r.Proof.Proof.Aunts = [][]byte{make([]byte, 32)}
			} else {
				flip(r.Proof.Proof.Aunts[0])
			}
			return nil
		}, protocol.StepProof},
		{"proof index", func(r *protocol.Receipt) *types.ValidatorSet { r.Proof.Proof.Index++; return nil }, protocol.StepProof},
		{"proof root", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.Proof.RootHash); return nil }, protocol.StepProof},
		{"header data hash", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.Header.DataHash); return nil }, protocol.StepDataHash},
		{"header app hash", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.Header.AppHash); return nil }, protocol.StepBlockID},
		{"header time", func(r *protocol.Receipt) *types.ValidatorSet {
			r.Header.Time = r.Header.Time.Add(time.Second)
			return nil
		}, protocol.StepBlockID},
		{"header chain id", func(r *protocol.Receipt) *types.ValidatorSet { r.Header.ChainID = "other"; return nil }, protocol.StepHeader},
		{"height", func(r *protocol.Receipt) *types.ValidatorSet { r.Height++; return nil }, protocol.StepHeader},
		{"block id", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.BlockID.Hash); return nil }, protocol.StepBlockID},
		{"commit height", func(r *protocol.Receipt) *types.ValidatorSet { r.Commit.Height++; return nil }, protocol.StepCommit},
		{"commit block id", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.Commit.BlockID.Hash); return nil }, protocol.StepCommit},
		{"commit signature", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.Commit.Signatures[0].Signature); return nil }, protocol.StepSignatures},
		{"other validators", func(*protocol.Receipt) *types.ValidatorSet { return otherVals }, protocol.StepValidators},
		{"tx byte", func(r *protocol.Receipt) *types.ValidatorSet { flip(r.Proof.Data); return nil }, protocol.StepTxHash},
		{"tx and its hash", func(r *protocol.Receipt) *types.ValidatorSet {
			r.Proof.Data[len(r.Proof.Data)-1] ^= 1
			h := r.Proof.Data.Hash()
			r.TxHash = h
			return nil
		}, protocol.StepProof},
		{"election", func(r *protocol.Receipt) *types.ValidatorSet { r.Election = "other"; return nil }, protocol.StepTx},
		{"kind", func(r *protocol.Receipt) *types.ValidatorSet { r.Kind = protocol.KindAudit; return nil }, protocol.StepTx},
		{"tracking code", func(r *protocol.Receipt) *types.ValidatorSet {
			r.TrackingCode = map[bool]string{true: codeB, false: codeA}[r.TrackingCode == codeA]
			return nil
		}, protocol.StepTrackingCode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := clone()
			vals := tc.mutate(m)
			if vals == nil {
				vals = env.Validators
			}
			err := protocol.VerifyReceipt(m, env.ChainID, vals)
			if err == nil {
				err = protocol.VerifyTrackingCode(m, env.Ballot)
			}
			var re *protocol.ReceiptError
			if !errors.As(err, &re) || re.Step != tc.step {
				t.Fatalf("got %v, want a failure at step %q", err, tc.step)
			}
			t.Log(err)
		})
	}
	// Receipts decoded from the same JSON share memoised decodings and
	// commit checks (receiptmemo.go): the mutations above, made after the
	// receipt had verified once, were each caught, and they did not leak
	// into the memo.
	if err := protocol.VerifyReceipt(clone(), env.ChainID, env.Validators); err != nil {
		t.Fatalf("after the mutations: %v", err)
	}

	get := func(path string, status int, v any) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d %s, want %d", path, resp.StatusCode, b, status)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("GET %s: %v: %s", path, err, b)
			}
		}
	}
	t.Run("api", func(t *testing.T) {
		var st web.StatusInfo
		get("/api/status", 200, &st)
		if st.ChainID != env.ChainID || st.LatestHeight < r.Height || st.Moniker != "webtest" {
			t.Fatalf("status %+v", st)
		}
		get("/healthz", 200, nil)
		resp, err := http.Get(ts.URL + "/api/validators")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		vals, chainID, err := web.DecodeValidators(b)
		if err != nil || chainID != env.ChainID || !bytes.Equal(vals.Hash(), env.Validators.Hash()) {
			t.Fatalf("validators %s: %v", b, err)
		}
		// Read as strictly as the browser does: a duplicate member is refused.
		dupVals := bytes.Replace(b, []byte(`{"chain_id":`), []byte(`{"chain_id":"other","chain_id":`), 1)
		if bytes.Equal(dupVals, b) {
			t.Fatalf("validators answer does not start with chain_id: %s", b)
		}
		if _, _, err := web.DecodeValidators(dupVals); err == nil || !strings.Contains(err.Error(), `duplicate member name "chain_id"`) {
			t.Fatalf("validators with a duplicate chain_id: %v", err)
		}
		rb, _ := json.Marshal(r)
		dup := bytes.Replace(rb, []byte(`"height":`), []byte(`"height":1,"height":`), 1)
		if err := json.Unmarshal(dup, new(protocol.Receipt)); err == nil || !strings.Contains(err.Error(), `duplicate member name "height"`) {
			t.Fatalf("receipt with a duplicate height: %v", err)
		}
		if err := json.Unmarshal(append(bytes.TrimSuffix(rb, []byte("}")), []byte(",\"x\":\"\xff\"}")...), new(protocol.Receipt)); err == nil {
			t.Fatal("receipt with invalid UTF-8 accepted")
		}
		var ei web.ElectionInfo
		get("/api/elections/"+e, 200, &ei)
		if ei.Counted != 2 || ei.Record.Phase != wire.PhaseOpen || len(ei.Record.Manifest) == 0 {
			t.Fatalf("election %+v", ei)
		}
		var bi web.BallotInfo
		get("/api/elections/"+e+"/ballots/"+codeA, 200, &bi)
		checkReceipt(t, env, bi.Receipt, codeA)
		if bi.Record == nil || bi.Audited {
			t.Fatalf("ballot %+v", bi)
		}
		var ae struct {
			Code   uint32 `json:"code"`
			Status int    `json:"status"`
			Error  string `json:"error"`
		}
		get("/api/elections/nope", 404, &ae)
		if ae.Code != uint32(wire.CodeUnknownElection) {
			t.Fatalf("unknown election: %+v", ae)
		}
		get("/api/elections/"+e+"/ballots/not-a-code", 400, &ae)
		_, never := env.Cast(t, 3)
		get("/api/elections/"+e+"/ballots/"+never, 404, &ae)
		get("/api/blocks/0", 400, nil)
		get("/api/blocks/99999999", 404, nil)
		var blk struct {
			Height int64    `json:"height"`
			Txs    []string `json:"txs"`
		}
		get("/api/blocks/"+itoa(r.Height), 200, &blk)
		if blk.Height != r.Height || len(blk.Txs) == 0 {
			t.Fatalf("block %+v", blk)
		}
		get("/api/nothing", 404, nil)

		req, _ := http.NewRequestWithContext(context.Background(), "GET", ts.URL+"/api/status", nil)
		req.Header.Set("Origin", "https://evil.example")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("CORS header for a foreign origin")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
