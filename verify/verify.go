// Package verify is evote's independent verifier: it re-checks an election
// from its public record — an exported record folder (package record) or
// the authority nodes themselves — and reports numbered checks
// (docs/spec-verify.md), each naming the exact item that failed.
//
// The verifier trusts only the chain's genesis (which an observer should
// compare with the one the authorities published: the report gives its
// SHA-256). From it, it checks that every block is linked to its parent and
// signed by more than 2/3 of the authorities' voting power, then re-executes
// every transaction of the chain with the rules the nodes run (package
// rules) on its own in-memory state, without the nodes' state: the election
// definition, the key ceremony, the credential roll, every ballot's
// signature and proofs (in batches across all cores), the re-vote rule,
// audits, the encrypted totals, the decryption shares, their combination and
// the counts. It compares its own accept/reject decision for every
// transaction with the one the chain recorded, the app hash of its state
// after every block with the one the next header signs, and every
// convenience file of the record with what it derived.
//
// Threat model: the record and the nodes are untrusted input. A reader never
// panics on it; memory grows with the state (under a kilobyte per ballot:
// its record and its credential's; the ciphertexts wait in a temporary
// file), not with the size of the blocks.
package verify

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/record"
)

// Options tune a verification.
type Options struct {
	// Workers is the number of goroutines verifying proofs; GOMAXPROCS if 0.
	Workers int
	// Progress, if set, receives a progress bar (for a terminal).
	Progress io.Writer
	// MaxFailures is the number of failures listed per check (20 if 0);
	// all are counted.
	MaxFailures int
	// GenesisSHA256, if set, is the genesis fingerprint the observer
	// expects, as the authorities published it and `evote node genesis` and
	// `evote node show` print it: 64 hex digits (either case), the SHA-256
	// of the genesis' canonical JSON (record.GenesisFingerprint,
	// spec-verify.md). Check 2 fails on any other genesis.
	GenesisSHA256 string
	// BallotsPerBatch is the number of ballots verified in one batch by one
	// worker (512 if 0).
	BallotsPerBatch int
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 20
	}
	if o.BallotsPerBatch <= 0 {
		o.BallotsPerBatch = 512
	}
}

// Record verifies the record in folder dir. It returns an error only if the
// folder is not a record at all (no readable record.json of this format);
// every other problem is a failed check in the report.
func Record(ctx context.Context, dir string, opts Options) (*Report, error) {
	opts.defaults()
	start := time.Now()
	rec, err := record.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := newVerifier(rec, opts)
	v.report.Source = dir
	v.run(ctx)
	v.report.Duration = time.Since(start)
	if err := ctx.Err(); err != nil {
		return v.report, fmt.Errorf("verify: %w", err)
	}
	return v.report, nil
}

// verifier holds one verification's state.
type verifier struct {
	rec    *record.Record
	opts   Options
	report *Report
	checks [numChecks + 1]*CheckResult
	prog   *progress

	// Genesis.
	chainID   string
	vals      *types.ValidatorSet
	consensus []byte // hash of the genesis consensus parameters
	officials []ed25519.PublicKey
	appState  []byte // the genesis app_state, as InitChain receives it
	genesisOK bool

	// Chain walk (check 3).
	chainState
	// Re-execution (checks 4–15).
	e *engine
}

func newVerifier(rec *record.Record, opts Options) *verifier {
	v := &verifier{rec: rec, opts: opts, report: &Report{ChainID: rec.Index.ChainID, ElectionID: rec.Index.ElectionID,
		Heights: [2]int64{rec.Index.FirstHeight, rec.Index.LastHeight}}}
	if opts.Progress != nil {
		v.prog = &progress{w: opts.Progress}
	}
	for n := 1; n <= numChecks; n++ {
		c := &CheckResult{Number: n, Title: titles[n], Status: Pass, max: opts.MaxFailures}
		v.checks[n] = c
		if n != CheckFork {
			v.report.Checks = append(v.report.Checks, c)
		}
	}
	return v
}

func (v *verifier) check(n int) *CheckResult { return v.checks[n] }

// timed adds the time f takes to check n.
func (v *verifier) timed(n int, f func()) {
	t := time.Now()
	f()
	v.checks[n].Duration += time.Since(t)
}

func (v *verifier) run(ctx context.Context) {
	v.timed(CheckIntegrity, v.checkIntegrity)
	v.timed(CheckGenesis, v.checkGenesis)
	v.e = newEngine(v)
	defer v.e.close()
	v.walk(ctx)
	v.e.finish()
	v.prog.done()
	for _, c := range v.report.Checks {
		switch {
		case c.FailureCount > 0:
			c.Status = Fail
		case c.skipped != "":
			c.Status = Skip
			c.Notes = append(c.Notes, c.skipped)
		}
	}
}

// checkIntegrity is check 1.
func (v *verifier) checkIntegrity() {
	c := v.check(CheckIntegrity)
	var total int64
	for _, f := range v.rec.Index.Files {
		total += f.Size
	}
	var done int64
	bad, n := v.rec.Check(func(k int64) {
		done += k
		v.prog.set("hashing files", done, total)
	})
	for _, fe := range bad {
		c.fail(&Failure{File: fe.Path, Message: fe.Reason})
	}
	c.add("files", int64(len(v.rec.Index.Files)))
	c.add("bytes", n)
}

// checkGenesis is check 2.
func (v *verifier) checkGenesis() {
	c := v.check(CheckGenesis)
	raw, err := v.rec.ReadFile(record.GenesisFile)
	if err != nil {
		c.fail(&Failure{File: record.GenesisFile, Message: err.Error()})
		return
	}
	info, err := record.FileFingerprint(raw)
	if err != nil {
		c.fail(&Failure{File: record.GenesisFile, Message: err.Error()})
		if v.opts.GenesisSHA256 != "" {
			c.fail(&Failure{File: record.GenesisFile, Message: fmt.Sprintf("no genesis fingerprint to compare with the expected %s: the genesis does not decode", v.opts.GenesisSHA256)})
		}
		return
	}
	doc := info.Doc
	v.report.GenesisSHA = info.Fingerprint
	if want := v.opts.GenesisSHA256; want != "" {
		switch norm := strings.ToLower(strings.TrimSpace(want)); {
		case !isHex64(norm):
			c.fail(&Failure{File: record.GenesisFile, Message: fmt.Sprintf("expected genesis fingerprint %q is not 64 hex digits (copy the value `evote node genesis` or `evote node show` prints)", want)})
		case norm != info.Fingerprint:
			c.fail(&Failure{File: record.GenesisFile, Message: fmt.Sprintf("genesis fingerprint %s, expected %s: this record is of another chain than the one the authorities published, or the expected value is wrong", info.Fingerprint, norm)})
		}
	}
	if !info.Canonical {
		c.note("genesis.json is not in canonical form: `sha256sum genesis.json` differs from the fingerprint %s; compare the fingerprint", info.Fingerprint)
	}
	if doc.ChainID != v.rec.Index.ChainID {
		c.fail(&Failure{File: record.GenesisFile, Message: fmt.Sprintf("chain id %q, record.json says %q", doc.ChainID, v.rec.Index.ChainID)})
	}
	if doc.InitialHeight != 1 {
		c.fail(&Failure{File: record.GenesisFile, Message: fmt.Sprintf("initial height %d, evote chains start at 1", doc.InitialHeight)})
	}
	v.chainID = doc.ChainID
	var vals []*types.Validator
	var power int64
	for _, gv := range doc.Validators {
		vals = append(vals, types.NewValidator(gv.PubKey, gv.Power))
		power += gv.Power
	}
	v.vals, err = validatorSet(vals)
	if err != nil {
		c.fail(&Failure{File: record.GenesisFile, Message: err.Error()})
		return
	}
	v.consensus = doc.ConsensusParams.Hash()
	_, officials, err := chain.ParseGenesisState(doc.AppState)
	if err != nil {
		c.fail(&Failure{File: record.GenesisFile, Message: err.Error()})
		return
	}
	v.officials, v.appState = officials, doc.AppState
	v.genesisOK = true
	c.add("validators", int64(len(vals)))
	c.add("voting power", power)
	c.add("officials", int64(len(officials)))
	for _, gv := range doc.Validators {
		c.note("validator %s %q, power %d", gv.PubKey.Address(), gv.Name, gv.Power)
	}
}

func validatorSet(vals []*types.Validator) (vs *types.ValidatorSet, err error) {
	defer func() {
		if r := recover(); r != nil {
			vs, err = nil, fmt.Errorf("genesis: validator set: %v", r)
		}
	}()
	vs = types.NewValidatorSet(vals)
	if err := vs.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("genesis: validator set: %v", err)
	}
	return vs, nil
}

func intp(i int) *int { return &i }

// isHex64 tells whether s is 64 lower-case hex digits.
func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}
