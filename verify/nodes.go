package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/record"
)

// NodesOptions add to Options what verifying nodes needs.
type NodesOptions struct {
	Options
	// Names name the nodes in the report (their URLs); "node 1", … if empty.
	Names []string
	// TempDir is where the first node's record is exported while it is
	// verified (os.TempDir() if empty); it is removed afterwards.
	TempDir string
}

// Nodes verifies election electionID from the nodes themselves: it exports
// the first node's record into a temporary folder and verifies it like
// Record, then (with two or more nodes) compares every other node's blocks
// with it, height by height (check 16), and reports a fork with its
// evidence: the first height where two nodes hold different blocks, both
// block IDs and both headers.
func Nodes(ctx context.Context, clients []rpcclient.Client, electionID string, opts NodesOptions) (*Report, error) {
	if len(clients) == 0 {
		return nil, errors.New("verify: no node given")
	}
	opts.defaults()
	start := time.Now()
	name := func(i int) string {
		if i < len(opts.Names) && opts.Names[i] != "" {
			return opts.Names[i]
		}
		return fmt.Sprintf("node %d", i+1)
	}
	tmp, err := os.MkdirTemp(opts.TempDir, "evote-verify-")
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "record")
	var exportProg *progress
	if opts.Progress != nil {
		exportProg = &progress{w: opts.Progress}
	}
	err = record.ExportWithOptions(ctx, clients[0], electionID, dir, record.ExportOptions{Progress: func(h, last int64) {
		exportProg.set("fetching blocks", h, last)
	}})
	exportProg.done()
	if err != nil {
		return nil, fmt.Errorf("verify: %s: %w", name(0), err)
	}
	rec, err := record.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := newVerifier(rec, opts.Options)
	v.report.Source = name(0)
	v.run(ctx)
	if len(clients) > 1 {
		fc := v.check(CheckFork)
		v.report.Checks = append(v.report.Checks, fc)
		v.timed(CheckFork, func() {
			for i := 1; i < len(clients); i++ {
				fork, n, err := compareNode(ctx, rec, v.blockIDs, clients[i], name(0), name(i))
				if err != nil {
					fc.fail(&Failure{Message: fmt.Sprintf("%s: %v", name(i), err)})
					continue
				}
				fc.add("heights compared", n)
				if fork != nil {
					v.report.Forks = append(v.report.Forks, fork)
					fc.fail(&Failure{Height: fork.Height, Message: fmt.Sprintf("fork: %s holds block %s, %s holds block %s", fork.A, fork.BlockA, fork.B, fork.BlockB)})
				}
			}
		})
		if fc.FailureCount > 0 {
			fc.Status = Fail
		}
	}
	v.report.Duration = time.Since(start)
	return v.report, ctx.Err()
}

// compareNode compares a node's block IDs with the record's (ids[h−1] is
// the record's block at height h) and returns the first fork.
func compareNode(ctx context.Context, rec *record.Record, ids []types.BlockID, c rpcclient.Client, nameA, nameB string) (*Fork, int64, error) {
	last := int64(len(ids))
	var n int64
	for lo := int64(1); lo <= last; lo += 20 {
		hi := min(lo+19, last)
		res, err := c.BlockchainInfo(ctx, lo, hi)
		if err != nil {
			return nil, n, fmt.Errorf("block metas %d to %d: %w", lo, hi, err)
		}
		for _, m := range res.BlockMetas {
			if m == nil || m.Header.Height < lo || m.Header.Height > hi {
				continue
			}
			h := m.Header.Height
			n++
			if !m.BlockID.Equals(ids[h-1]) {
				f := &Fork{Height: h, A: nameA, B: nameB, BlockA: ids[h-1].String(), BlockB: m.BlockID.String(), HeaderB: headerJSON(&m.Header)}
				f.HeaderA = recordHeader(rec, h)
				return f, n, nil
			}
		}
		if res.LastHeight < hi {
			break // the node is behind
		}
	}
	return nil, n, nil
}

func recordHeader(rec *record.Record, h int64) []byte {
	var out []byte
	_ = rec.Blocks(h, h, func(x int64) bool { return x == h }, func(e *record.Entry) error {
		if e.Height == h {
			out = headerJSON(&e.Block.Header)
		}
		return nil
	}, func(string, int, error) error { return nil })
	return out
}

// CompareRecords compares two records' blocks height by height and returns
// the first height at which they differ, with both block IDs and headers,
// or nil if one is a prefix of the other. It does not verify either record
// (Record does).
func CompareRecords(ctx context.Context, dirA, dirB string) (*Fork, error) {
	a, err := record.Open(dirA)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	b, err := record.Open(dirB)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	ids := map[int64]types.BlockID{}
	headers := map[int64]*types.Header{}
	last := min(a.Index.LastHeight, b.Index.LastHeight)
	for lo := int64(1); lo <= last; lo += record.ChunkHeights {
		hi := min(lo+record.ChunkHeights-1, last)
		clear(ids)
		clear(headers)
		err := a.Blocks(lo, hi, nil, func(e *record.Entry) error {
			ids[e.Height], headers[e.Height] = e.BlockID, &e.Block.Header
			return ctx.Err()
		}, nil)
		if err != nil {
			return nil, fmt.Errorf("verify: %s: %w", dirA, err)
		}
		var fork *Fork
		err = b.Blocks(lo, hi, nil, func(e *record.Entry) error {
			if id, ok := ids[e.Height]; fork == nil && (!ok || !id.Equals(e.BlockID)) {
				fork = &Fork{Height: e.Height, A: dirA, B: dirB, BlockA: id.String(), BlockB: e.BlockID.String(),
					HeaderB: headerJSON(&e.Block.Header)}
				if hA := headers[e.Height]; hA != nil {
					fork.HeaderA = headerJSON(hA)
				}
			}
			return ctx.Err()
		}, nil)
		if err != nil {
			return nil, fmt.Errorf("verify: %s: %w", dirB, err)
		}
		if fork != nil {
			return fork, nil
		}
	}
	return nil, nil
}
