package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/jackc/pgx/v5"
	"github.com/urfave/cli/v2"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/voters"
	"github.com/evote/evote/record"
	"github.com/evote/evote/tally"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/verify"
)

func init() {
	register(&cli.Command{
		Name:  "demo",
		Usage: "run a whole election on a local 4-node cluster and check that the result is what the voters chose",
		Description: "Starts 4 authority nodes on 127.0.0.1 (separate processes, embedded storage), publishes the\n" +
			"election of --config, runs the key ceremony of 3 trustees (threshold 2) on the chain, generates\n" +
			"voter credentials, casts the ballots of simulated voters over websockets (with re-votes, audits and\n" +
			"invalid ballots), closes, lets the tally service publish the encrypted totals, has 2 of the 3\n" +
			"trustees decrypt, verifies everything as an observer against two nodes, exports the election record\n" +
			"and compares the published counts with the voters' choices. Exit status 0 only if they match and\n" +
			"verification passed. The data folder and the record are left for inspection.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "demo-data", Usage: "the data `FOLDER` (replaced if it holds an earlier demo)"},
			&cli.StringFlag{Name: "config", Value: "election-configs/municipal-2027.yaml", Usage: "the election configuration `FILE` (its time window, trustees, officials and roll size are replaced)"},
			&cli.IntFlag{Name: "voters", Value: 300, Usage: "number of simulated voters"},
			&cli.IntFlag{Name: "clients", Value: 32, Usage: "concurrent websocket clients"},
			&cli.StringFlag{Name: "bench-out", Usage: "append the casting figures to `FILE` in Go benchmark format (make bench reads them)"},
			&cli.Float64Flag{Name: "revote", Value: 0.1, Usage: "fraction of voters who re-vote"},
			&cli.Float64Flag{Name: "audit", Value: 0.05, Usage: "fraction of voters who audit a ballot first"},
			&cli.Float64Flag{Name: "invalid", Value: 0.05, Usage: "fraction of voters who also send an invalid ballot"},
			&cli.StringFlag{Name: "database-url", EnvVars: []string{envDatabaseURL}, Usage: "keep the nodes' state in PostgreSQL at `URL` (schemas evote_demo_node0…) instead of embedded Pebble"},
			&cli.BoolFlag{Name: "serve", Usage: "after the voting, keep the cluster up with the election open, print the URLs and a few voter codes, and wait for Ctrl-C"},
		},
		Action: demoAction,
	})
}

// demoMarker marks a folder as an evote demo's, so that a rerun may replace it.
const demoMarker = ".evote-demo"

// demo is one run of the demo.
type demo struct {
	mu       sync.Mutex
	seen     int64  // the highest block height a submitted transaction landed in
	exe      string // the evote binary the nodes run (os.Executable() if empty)
	dbURL    string // PostgreSQL URL of the nodes' state; embedded Pebble if empty
	dbSchema string // prefix of the nodes' schemas (node name appended)
	w        io.Writer
	dir      string
	step     int
	steps    int
	t0       time.Time
	nodes    []node.NodeInfo
	children []*child
	rpcs     []*rpchttp.HTTP
	chainID  string
	official ed25519.PrivateKey
	trustees []*trustee.Key
	manifest *ballot.Manifest
}

func (d *demo) stepf(format string, args ...any) {
	d.step++
	d.t0 = time.Now()
	fmt.Fprintf(d.w, "[%2d/%d] %s … ", d.step, d.steps, fmt.Sprintf(format, args...))
}

func (d *demo) donef(format string, args ...any) {
	fmt.Fprintf(d.w, "%s (%.1fs)\n", fmt.Sprintf(format, args...), time.Since(d.t0).Seconds())
}

// rpc returns node i's RPC client (round-robin over the nodes).
func (d *demo) rpc(i int) *rpchttp.HTTP { return d.rpcs[i%len(d.rpcs)] }

func demoAction(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{w: c.App.Writer, dir: c.String("dir"), steps: 11, dbURL: c.String("database-url"), dbSchema: "evote_demo_"}
	start := time.Now()
	fmt.Fprintf(d.w, "evote demo: a whole election on 4 authority nodes; data in %s/\n\n", d.dir)
	if err := d.prepareDir(); err != nil {
		return err
	}
	m, err := config.Load(c.String("config"))
	if err != nil {
		return fmt.Errorf("demo: %w (run the demo from the repository's root, or give --config)", err)
	}
	n := c.Int("voters")
	if n < 4 {
		return &exitError{2, "demo: --voters must be at least 4"}
	}
	if err := d.startCluster(ctx); err != nil {
		return err
	}
	defer d.stopCluster()
	if err := d.publish(ctx, m, n); err != nil {
		return err
	}
	if err := d.ceremony(ctx); err != nil {
		return err
	}
	e, creds, codes, err := d.credentialsAndOpen(ctx, n)
	if err != nil {
		return err
	}
	plan, err := d.vote(ctx, e, creds, c.Int("clients"), voters.Options{Revote: c.Float64("revote"), Audit: c.Float64("audit"), Invalid: c.Float64("invalid"), Seed: uint64(time.Now().UnixNano())}, c.String("bench-out"))
	if err != nil {
		return err
	}
	// The tally service starts once casting is over and catches up from the
	// first block: in a deployment it has its own machine, while here it
	// would take CPU from the four nodes that share this one during the
	// measured casting phase.
	tallyCtx, stopTally := context.WithCancel(ctx)
	defer stopTally()
	svc, tallyDone, err := d.startTally(tallyCtx)
	if err != nil {
		return err
	}
	if c.Bool("serve") {
		return d.serve(ctx, codes)
	}
	if err := d.close(ctx, svc); err != nil {
		return err
	}
	if err := d.decrypt(ctx, e, svc); err != nil {
		return err
	}
	rec, err := d.waitResult(ctx, svc)
	if err != nil {
		return err
	}
	stopTally()
	<-tallyDone
	verified, err := d.verifyAndExport(ctx)
	if err != nil {
		return err
	}
	return d.report(rec, plan, verified, time.Since(start))
}

func (d *demo) prepareDir() error {
	if entries, err := os.ReadDir(d.dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(d.dir, demoMarker)); err != nil {
			return &exitError{2, fmt.Sprintf("demo: %s exists and is not an earlier demo's folder; give another --dir", d.dir)}
		}
		if err := os.RemoveAll(d.dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.dir, demoMarker), []byte("evote demo data; `evote demo` replaces this folder\n"), 0o644)
}

func (d *demo) startCluster(ctx context.Context) error {
	d.stepf("starting 4 authority nodes on 127.0.0.1")
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	d.official = priv
	netDir := filepath.Join(d.dir, "net")
	if d.dbURL != "" {
		// A new chain: the nodes' schemas from an earlier run go.
		if err := d.dropSchemas(ctx); err != nil {
			return err
		}
	}
	nodes, err := node.GenerateTestnet(netDir, node.TestnetOptions{Nodes: 4, Officials: []string{ballot.FormatEd25519Key(pub)}, IdleBlockInterval: 2 * time.Second})
	if err != nil {
		return err
	}
	d.nodes = nodes
	clusterNodes = nodes
	exe := d.exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}
	// Every simulated voter comes from 127.0.0.1: raise the per-address
	// limits the nodes apply to the public.
	os.Setenv("EVOTE_CAST_RATE_PER_IP", "10000")
	os.Setenv("EVOTE_MAX_CONNS_PER_IP", "10000")
	for _, n := range nodes {
		if d.dbURL != "" {
			ec, err := node.LoadEvoteConfig(n.Home)
			if err != nil {
				return err
			}
			ec.DatabaseSchema = d.dbSchema + n.Name
			if err := node.WriteEvoteConfig(n.Home, ec); err != nil {
				return err
			}
		}
		ch, err := startChild(exe, n, "error", d.dbURL)
		if err != nil {
			return err
		}
		d.children = append(d.children, ch)
		cl, err := rpchttp.New("tcp://" + n.RPCAddr)
		if err != nil {
			return err
		}
		d.rpcs = append(d.rpcs, cl)
	}
	deadline := time.Now().Add(time.Minute)
	for _, n := range nodes {
		for {
			if h, err := rpcHeight(ctx, n.RPCAddr); err == nil && h > 0 {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("demo: node %s produced no block (see %s)", n.Name, filepath.Join(n.Home, nodeLog))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	st, err := d.rpcs[0].Status(ctx)
	if err != nil {
		return err
	}
	d.chainID = st.NodeInfo.Network
	d.donef("chain %s", d.chainID)
	return nil
}

// dropSchemas drops the PostgreSQL schemas of the demo's nodes.
func (d *demo) dropSchemas(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.dbURL)
	if err != nil {
		return fmt.Errorf("demo: PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	for i := range 4 {
		name := pgx.Identifier{fmt.Sprintf("%snode%d", d.dbSchema, i)}.Sanitize()
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			return fmt.Errorf("demo: PostgreSQL: %w", err)
		}
	}
	return nil
}

func (d *demo) stopCluster() {
	stopChildren(d.children)
}

// caughtUp waits until node i has the latest block a transaction of the
// demo landed in.
func (d *demo) caughtUp(ctx context.Context, i int) error {
	d.mu.Lock()
	seen := d.seen
	d.mu.Unlock()
	for {
		st, err := d.rpc(i).Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= seen {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// submit sends a transaction through node i and waits for its block. Node i
// first catches up with the latest block the demo has seen committed, so
// that its CheckTx sees what the previous steps did.
func (d *demo) submit(ctx context.Context, i int, tx *chain.Tx) (int64, error) {
	if err := d.caughtUp(ctx, i); err != nil {
		return 0, err
	}
	res, err := chain.Submit(ctx, d.rpc(i), tx.Encode(), true)
	if err != nil {
		return 0, fmt.Errorf("demo: %s transaction: %w", tx.Type, err)
	}
	d.mu.Lock()
	d.seen = max(d.seen, res.Height)
	d.mu.Unlock()
	return res.Height, nil
}

func (d *demo) publish(ctx context.Context, m *ballot.Manifest, voters int) error {
	d.stepf("publishing the election %q", m.ElectionID)
	now := time.Now().UTC().Truncate(time.Second)
	m.Start, m.End = now.Add(-time.Minute), now.Add(2*time.Hour)
	m.Officials = []ballot.Official{{Name: "Demo returning officer", PublicKey: d.official.Public().(ed25519.PublicKey)}}
	m.Voters = ballot.Voters{RollSize: voters}
	for i := range m.Trustees.Members {
		k, err := trustee.NewKey(rand.Reader, m.Trustees.Members[i].Name)
		if err != nil {
			return err
		}
		m.Trustees.Members[i].PublicKey = k.Identity
		d.trustees = append(d.trustees, k)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	d.manifest = m
	if err := os.WriteFile(filepath.Join(d.dir, "manifest.json"), m.CanonicalJSON(), 0o644); err != nil {
		return err
	}
	h, err := d.submit(ctx, 0, chain.DefineElectionTx(d.chainID, m, d.official))
	if err != nil {
		return err
	}
	mh := m.Hash()
	d.donef("height %d, %d contests, manifest hash %s…", h, len(m.Contests), hex.EncodeToString(mh[:6]))
	return nil
}

// ceremony runs the trustees' key ceremony on the chain, each round's
// messages sent in parallel through different nodes.
func (d *demo) ceremony(ctx context.Context) error {
	cer, err := trustee.NewCeremony(d.manifest)
	if err != nil {
		return err
	}
	d.stepf("key ceremony of %d trustees, threshold %d, on the chain", cer.Params.N, cer.Params.K)
	load := func() (*trustee.Transcript, error) {
		var files []json.RawMessage
		if err := d.caughtUp(ctx, 0); err != nil {
			return nil, err
		}
		if err := chain.QueryJSON(ctx, d.rpc(0), "ceremony/"+d.manifest.ElectionID, &files); err != nil {
			return nil, err
		}
		var msgs []*trustee.Message
		for _, f := range files {
			m, err := trustee.DecodeMessage(f)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		return cer.Collect(msgs), nil
	}
	rounds := []func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error){
		func(k *trustee.Key, _ *trustee.Transcript) (*trustee.Message, error) { return cer.Register(k) },
		cer.Deal,
		func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
			m, _, err := cer.Check(k, t)
			return m, err
		},
		func(k *trustee.Key, t *trustee.Transcript) (*trustee.Message, error) {
			m, _, err := cer.Justify(k, t)
			return m, err
		},
	}
	for _, round := range rounds {
		t, err := load()
		if err != nil {
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(d.trustees))
		for i, k := range d.trustees {
			m, err := round(k, t)
			if err != nil {
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = d.submit(ctx, i, chain.CeremonyTx(m))
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	t, err := load()
	if err != nil {
		return err
	}
	var joint crypto.Point
	for _, k := range d.trustees {
		res, err := cer.Finish(k, t, false)
		if err != nil {
			return err
		}
		joint = res.PublicKey
	}
	var rec chain.ElectionRecord
	if err := d.caughtUp(ctx, 1); err != nil {
		return err
	}
	if err := chain.QueryJSON(ctx, d.rpc(1), "election/"+d.manifest.ElectionID, &rec); err != nil {
		return err
	}
	jk := crypto.EncodePoint(joint)
	if string(rec.JointKey) != string(jk[:]) {
		return fmt.Errorf("demo: the chain's election key differs from the trustees'")
	}
	d.donef("election key %s…, trustees qualified %v", hex.EncodeToString(jk[:6]), rec.Qualified)
	return nil
}

func (d *demo) credentialsAndOpen(ctx context.Context, n int) (*ballot.Election, []*credential.Credential, []credential.Code, error) {
	id := d.manifest.ElectionID
	d.stepf("generating %d voter credentials (Argon2id) and loading the roll", n)
	// Derive each voter's key once: the roll needs the public keys, the
	// simulated voters the private ones.
	codes := make([]credential.Code, n)
	creds := make([]*credential.Credential, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range codes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if codes[i], errs[i] = credential.NewCode(rand.Reader); errs[i] == nil {
				creds[i], errs[i] = credential.Derive(codes[i], id, credential.DefaultKDF)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, err
	}
	pubs := make([]ed25519.PublicKey, n)
	for i, c := range creds {
		pubs[i] = c.PublicKey()
	}
	roll, err := credential.NewRoll(id, credential.DefaultKDF, pubs)
	if err != nil {
		return nil, nil, nil, err
	}
	txs, err := chain.RollTxs(d.chainID, roll, d.official)
	if err != nil {
		return nil, nil, nil, err
	}
	for i, tx := range txs {
		if _, err := d.submit(ctx, i, tx); err != nil {
			return nil, nil, nil, err
		}
	}
	rh := roll.Hash()
	d.donef("roll hash %s…", hex.EncodeToString(rh[:6]))

	d.stepf("opening the election")
	h, err := d.submit(ctx, 2, chain.OpenTx(d.chainID, id, d.official))
	if err != nil {
		return nil, nil, nil, err
	}
	k, err := crypto.DecodeNonIdentityPoint(d.trustees[0].Ceremonies[id].JointKey)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := ballot.NewElection(d.manifest, k)
	if err != nil {
		return nil, nil, nil, err
	}
	// Voters may reach any node: every node must know the election is open.
	for i := range d.nodes {
		if err := d.caughtUp(ctx, i); err != nil {
			return nil, nil, nil, err
		}
	}
	d.donef("open at height %d", h)
	return e, creds, codes, nil
}

func (d *demo) startTally(ctx context.Context) (*tally.Service, chan struct{}, error) {
	cl, err := rpchttp.New("tcp://" + d.nodes[3].RPCAddr)
	if err != nil {
		return nil, nil, err
	}
	if err := cl.Start(); err != nil {
		return nil, nil, err
	}
	st, err := pebblestore.New(ctx, pebblestore.Config{Dir: filepath.Join(d.dir, "tally")})
	if err != nil {
		return nil, nil, err
	}
	logf, err := os.Create(filepath.Join(d.dir, "tally.log"))
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(logf, nil))
	svc, err := tally.New(ctx, tally.Config{Client: cl, ElectionID: d.manifest.ElectionID, Store: st, Logger: log, PollInterval: 300 * time.Millisecond})
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(ctx)
		svc.Close()
		st.Close()
		cl.Stop()
		logf.Close()
	}()
	return svc, done, nil
}

func (d *demo) vote(ctx context.Context, e *ballot.Election, creds []*credential.Credential, clients int, o voters.Options, benchOut string) (*voters.Plan, error) {
	d.stepf("%d simulated voters encrypt and cast over websockets", len(creds))
	plan, err := voters.Prepare(e, creds, o)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, n := range d.nodes {
		urls = append(urls, "http://"+n.HTTPAddr)
	}
	opts, err := pinnedValidators(ctx, urls[0])
	if err != nil {
		return nil, err
	}
	st, err := voters.Run(ctx, wsURLs(urls), opts, plan, clients, 1, e.Manifest.ElectionID, nil)
	if err != nil {
		return nil, err
	}
	if st.Unexpected > 0 {
		for _, p := range st.Problems[:min(10, len(st.Problems))] {
			fmt.Fprintln(d.w, "  unexpected:", p)
		}
		return nil, fmt.Errorf("demo: %d requests had an unexpected outcome", st.Unexpected)
	}
	if benchOut != "" {
		selections := 0
		for _, n := range d.manifest.TotalsLayout() {
			selections += n
		}
		f, err := os.OpenFile(benchOut, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(f, "BenchmarkClusterCast/nodes=4/selections=%d/clients=%d \t 1 \t %d ns/op \t %.1f ballots/s \t %.1f sustained-ballots/s \t %d p50-ns \t %d p99-ns\n",
			selections, clients, st.Duration.Nanoseconds(), st.Throughput(), st.Sustained(), st.Percentile(0.5).Nanoseconds(), st.Percentile(0.99).Nanoseconds())
		f.Close()
	}
	d.donef("%d committed (%d re-votes, %d audits); %d refused as they must be (bad proofs, forged ballot and audit signatures, replays, audited ballots cast); %.0f ballots/s (%.0f/s sustained), receipts p50 %s, p99 %s, every receipt verified",
		st.Committed, st.ByKind[voters.Cast]-len(plan.Final), st.ByKind[voters.Audit], st.Rejected,
		st.Throughput(), st.Sustained(), st.Percentile(0.5).Round(time.Millisecond), st.Percentile(0.99).Round(time.Millisecond))
	return plan, nil
}

func (d *demo) serve(ctx context.Context, codes []credential.Code) error {
	fmt.Fprintln(d.w, "\nThe election stays open. Vote in a browser at any authority node:")
	for _, n := range d.nodes {
		fmt.Fprintf(d.w, "  %s  http://%s/?election=%s   (status: /status, results: /results, lookup: /lookup, blocks: /explorer)\n", n.Name, n.HTTPAddr, d.manifest.ElectionID)
	}
	fmt.Fprintln(d.w, "A few voter codes (these voters have voted; casting again is a re-vote):")
	for _, c := range codes[:min(5, len(codes))] {
		fmt.Fprintf(d.w, "  %s\n", c.Text())
	}
	fmt.Fprintln(d.w, "Press Ctrl-C to stop the cluster.")
	<-ctx.Done()
	return nil
}

func (d *demo) waitFor(ctx context.Context, what string, timeout time.Duration, cond func(*chain.ElectionRecord) bool) (*chain.ElectionRecord, error) {
	deadline := time.Now().Add(timeout)
	for {
		var rec chain.ElectionRecord
		if err := chain.QueryJSON(ctx, d.rpc(1), "election/"+d.manifest.ElectionID, &rec); err == nil && cond(&rec) {
			return &rec, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("demo: timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *demo) close(ctx context.Context, svc *tally.Service) error {
	d.stepf("closing the election; the tally service publishes the encrypted totals")
	if _, err := d.submit(ctx, 0, chain.CloseTx(d.chainID, d.manifest.ElectionID, d.official)); err != nil {
		return err
	}
	rec, err := d.waitFor(ctx, "the encrypted totals", time.Minute, func(r *chain.ElectionRecord) bool { return r.TotalsHeight > 0 })
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.seen = max(d.seen, rec.TotalsHeight) // the tally service's transaction
	d.mu.Unlock()
	d.donef("%d ballots counted, totals at height %d", rec.Counted(), rec.TotalsHeight)
	return nil
}

func (d *demo) decrypt(ctx context.Context, e *ballot.Election, svc *tally.Service) error {
	d.stepf("trustees 1 and 3 decrypt their shares of the totals (2 of 3)")
	var t struct{ Totals []byte }
	if err := d.caughtUp(ctx, 2); err != nil {
		return err
	}
	if err := chain.QueryJSON(ctx, d.rpc(2), "totals/"+d.manifest.ElectionID, &t); err != nil {
		return err
	}
	totals, err := crypto.DecodeCiphertexts(t.Totals, len(t.Totals)/crypto.CiphertextSize)
	if err != nil {
		return err
	}
	for _, i := range []int{0, 2} {
		share, sig, err := d.trustees[i].Decrypt(e.BaseHash, totals)
		if err != nil {
			return err
		}
		if _, err := d.submit(ctx, i, chain.NewShareTx(d.manifest.ElectionID, share.Trustee, share.Encode(), sig.Encode())); err != nil {
			return err
		}
	}
	d.donef("%d totals decrypted by each", len(totals))
	return nil
}

func (d *demo) waitResult(ctx context.Context, svc *tally.Service) (*chain.ElectionRecord, error) {
	d.stepf("the tally service combines the shares and publishes the result")
	rec, err := d.waitFor(ctx, "the result", time.Minute, func(r *chain.ElectionRecord) bool { return r.Phase == chain.PhaseTallied })
	if err != nil {
		return nil, err
	}
	d.donef("result at height %d, checked by every authority node", rec.ResultHeight)
	return rec, nil
}

func (d *demo) verifyAndExport(ctx context.Context) (bool, error) {
	id := d.manifest.ElectionID
	d.stepf("an observer verifies the whole election against node1 and node3")
	rep, err := verify.Nodes(ctx, []rpcclient.Client{d.rpcs[1], d.rpcs[3]}, id, verify.NodesOptions{Names: []string{"node1", "node3"}, TempDir: d.dir})
	if err != nil {
		return false, err
	}
	f, err := os.Create(filepath.Join(d.dir, "verification.txt"))
	if err != nil {
		return false, err
	}
	_ = rep.WriteText(f)
	f.Close()
	passed, failed := 0, 0
	for _, c := range rep.Checks {
		switch c.Status {
		case verify.Pass:
			passed++
		case verify.Fail:
			failed++
		}
	}
	if rep.OK() {
		d.donef("%d checks passed, %d failed (report in %s)", passed, failed, filepath.Join(d.dir, "verification.txt"))
	} else {
		d.donef("VERIFICATION FAILED: %d checks failed", failed)
		_ = rep.WriteText(d.w)
	}

	d.stepf("exporting the election record")
	dir := filepath.Join(d.dir, "record")
	if err := record.Export(ctx, d.rpcs[0], id, dir); err != nil {
		return false, err
	}
	d.donef("in %s (check it again with: evote verify --record %s)", dir, dir)
	return rep.OK(), nil
}

func (d *demo) report(rec *chain.ElectionRecord, plan *voters.Plan, verified bool, took time.Duration) error {
	want := plan.Expected(d.manifest)
	fmt.Fprintln(d.w)
	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	match := true
	for _, cr := range rec.Result {
		c, _ := d.manifest.Contest(cr.Contest)
		fmt.Fprintf(tw, "%s (%s)\n", c.Title, c.Instructions())
		for k, n := range cr.Counts {
			mark := ""
			if n != want[cr.Contest][k] {
				mark = fmt.Sprintf("  ← the voters chose %d", want[cr.Contest][k])
				match = false
			}
			fmt.Fprintf(tw, "  %s\t%d%s\n", c.Selections[k].Title, n, mark)
		}
	}
	tw.Flush()
	fmt.Fprintln(d.w)
	status := "PASS"
	if !match || !verified {
		status = "FAIL"
	}
	what := "equal"
	if !match {
		what = "DIFFER FROM"
	}
	fmt.Fprintf(d.w, "%s: the decrypted counts %s the simulated voters' choices (%d ballots counted, verification %s); %s in %.0fs\n",
		status, what, rec.Counted(), map[bool]string{true: "passed", false: "FAILED"}[verified], strings.TrimSuffix(d.dir, "/")+"/ kept", took.Seconds())
	if status != "PASS" {
		return &exitError{1, ""}
	}
	return nil
}
