package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/voters"
	"github.com/evote/evote/web"
	"github.com/evote/evote/web/client"
)

func init() {
	register(&cli.Command{
		Name:  "load",
		Usage: "cast ballots of simulated voters at authority nodes over websockets and measure throughput and latency",
		Description: "Nodes limit casts and connections per address: start them with --cast-rate-per-ip and\n" +
			"--max-conns-per-ip (or $EVOTE_CAST_RATE_PER_IP, $EVOTE_MAX_CONNS_PER_IP) raised for a load test from one machine.\n" +
			"Reads private credential codes (codes.csv), encrypts and signs one ballot per voter in advance\n" +
			"(plus re-votes, audits and invalid ballots as asked), then casts them from many concurrent websocket\n" +
			"clients spread over the nodes, waits for every committed receipt (verified against the validator set)\n" +
			"and reports ballots per second and receipt latency. For test elections only: it needs the voters' codes.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "url", Required: true, Usage: "an authority node's HTTP `URL` (repeatable), e.g. http://127.0.0.1:26602"},
			&cli.StringFlag{Name: "election-id", Required: true, Usage: "the election `ID`"},
			&cli.StringFlag{Name: "codes", Required: true, Usage: "the private codes `FILE` (codes.csv of evote credentials generate)"},
			&cli.StringFlag{Name: "codes-range", Usage: "cast for the codes of rows `FROM-TO` of the codes file only (from 1 after the header, both included; FROM- or -TO for open ends), so that several load processes cast for disjoint voters"},
			&cli.IntFlag{Name: "voters", Usage: "how many of the voters (of --codes-range) cast (default: all)"},
			&cli.IntFlag{Name: "clients", Value: 32, Usage: "concurrent websocket clients (voters' connections)"},
			&cli.IntFlag{Name: "inflight", Value: 1, Usage: "requests in flight per connection"},
			&cli.Float64Flag{Name: "revote", Value: 0, Usage: "fraction of voters who cast a second ballot"},
			&cli.Float64Flag{Name: "audit", Value: 0, Usage: "fraction of voters who audit a ballot first"},
			&cli.Float64Flag{Name: "invalid", Value: 0, Usage: "fraction of voters who also send an invalid ballot"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the voters' random choices"},
		},
		Action: loadAction,
	})
}

// electionFromNode fetches an election's manifest, key and roll header from a
// node's HTTP API.
func electionFromNode(ctx context.Context, url, id string) (*ballot.Election, credential.Header, error) {
	var info web.ElectionInfo
	if err := getJSON(ctx, strings.TrimRight(url, "/")+"/api/elections/"+id, &info); err != nil {
		return nil, credential.Header{}, err
	}
	rec := info.Record
	m, err := ballot.DecodeManifestJSON(rec.Manifest)
	if err != nil {
		return nil, credential.Header{}, err
	}
	if rec.JointKey == nil || !rec.RollComplete {
		return nil, credential.Header{}, fmt.Errorf("election %q is not ready for voting (phase %s)", id, rec.Phase)
	}
	k, err := crypto.DecodeNonIdentityPoint(rec.JointKey)
	if err != nil {
		return nil, credential.Header{}, err
	}
	e, err := ballot.NewElection(m, k)
	if err != nil {
		return nil, credential.Header{}, err
	}
	hdr, err := credential.DecodeHeader(rec.RollHeader)
	return e, hdr, err
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, v)
}

// pinnedValidators fetches a node's validator set for verifying receipts.
func pinnedValidators(ctx context.Context, url string) (client.Options, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/api/validators", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return client.Options{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	vals, chainID, err := web.DecodeValidators(body)
	if err != nil {
		return client.Options{}, err
	}
	return client.Options{ChainID: chainID, Validators: vals}, nil
}

// readCodes reads the rows r of a codes file.
func readCodes(path string, r voters.Range) ([]voters.Code, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return voters.ReadCodes(f, path, r)
}

// deriveCodes derives every voter's credential, on all cores.
func deriveCodes(codes []voters.Code, electionID string, kdf credential.KDFParams) ([]*credential.Credential, error) {
	creds := make([]*credential.Credential, len(codes))
	errs := make([]error, len(codes))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, code := range codes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			creds[i], errs[i] = credential.Derive(code.Code, electionID, kdf)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return creds, nil
}

func wsURLs(urls []string) []string {
	var out []string
	for _, u := range urls {
		u = strings.TrimRight(u, "/")
		u = strings.Replace(strings.Replace(u, "https://", "wss://", 1), "http://", "ws://", 1)
		out = append(out, u+"/ws")
	}
	return out
}

func loadAction(c *cli.Context) error {
	ctx := c.Context
	urls := c.StringSlice("url")
	id := c.String("election-id")
	w := c.App.Writer
	var rows voters.Range
	if s := c.String("codes-range"); c.IsSet("codes-range") {
		var err error
		if rows, err = voters.ParseRange(s); err != nil {
			return &exitError{2, "load: --codes-range: " + err.Error()}
		}
	}
	codes, err := readCodes(c.String("codes"), rows)
	if err != nil {
		return &exitError{2, "load: " + err.Error()}
	}
	if n := c.Int("voters"); n < 0 || n > len(codes) {
		return &exitError{2, fmt.Sprintf("load: --voters %d is not between 0 and the %d codes to cast for", n, len(codes))}
	}
	e, hdr, err := electionFromNode(ctx, urls[0], id)
	if err != nil {
		return err
	}
	t0 := time.Now()
	creds, err := deriveCodes(codes, id, hdr.KDF)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "derived %d credentials (lines %d to %d of %s) in %s\n", len(creds), codes[0].Line, codes[len(codes)-1].Line, c.String("codes"), time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	roll, err := client.FetchRoll(ctx, nil, urls[0], id)
	if err != nil {
		return err
	}
	vs := make([]voters.Voter, len(creds))
	for i, cr := range creds {
		en, ok := roll.Lookup(cr.PublicKey())
		if !ok {
			return fmt.Errorf("load: the credential of line %d of %s is not on the roll of %q", codes[i].Line, c.String("codes"), id)
		}
		vs[i] = voters.Voter{Credential: cr, Style: en.Style, Weight: en.Weight}
	}
	plan, err := voters.Prepare(e, vs, voters.Options{Voters: c.Int("voters"), Revote: c.Float64("revote"), Audit: c.Float64("audit"), Invalid: c.Float64("invalid"), Seed: c.Uint64("seed")})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "prepared %d requests (%d voters) in %s\n", len(plan.Requests), len(plan.Final), time.Since(t0).Round(time.Millisecond))
	opts, err := pinnedValidators(ctx, urls[0])
	if err != nil {
		return err
	}
	st, err := voters.Run(ctx, wsURLs(urls), opts, plan, c.Int("clients"), c.Int("inflight"), id, nil)
	if err != nil {
		return err
	}
	printStats(w, st)
	if st.Unexpected > 0 {
		for _, p := range st.Problems[:min(10, len(st.Problems))] {
			fmt.Fprintln(c.App.ErrWriter, "unexpected:", p)
		}
		return &exitError{1, fmt.Sprintf("%d requests had an unexpected outcome", st.Unexpected)}
	}
	return nil
}

func printStats(w io.Writer, st *voters.Stats) {
	fmt.Fprintf(w, "sent %d requests: %d committed, %d rejected as expected, %d unexpected\n", st.Sent, st.Committed, st.Rejected, st.Unexpected)
	fmt.Fprintf(w, "throughput: %.1f committed ballots/s over %s; %.1f/s sustained (between the 10th and the 90th percentile of receipt arrivals)\n",
		st.Throughput(), st.Duration.Round(time.Millisecond), st.Sustained())
	fmt.Fprintf(w, "committed-receipt latency: p50 %s, p99 %s, max %s\n",
		st.Percentile(0.5).Round(time.Millisecond), st.Percentile(0.99).Round(time.Millisecond), st.Percentile(1).Round(time.Millisecond))
}
