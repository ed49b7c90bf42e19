// Package voters simulates voters: it makes random valid choices, encrypts
// and signs ballots (in parallel, before any is sent), casts them over
// websockets from many concurrent clients, audits some, re-votes some, sends
// some invalid ones, and keeps what the chain should count so that the
// result can be compared. `evote load` and `evote demo` use it.
package voters

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/web/client"
	"github.com/evote/evote/wire"
)

// Kind of a prepared request.
type Kind string

// Kinds of requests.
const (
	Cast       Kind = "cast"        // a valid ballot
	Audit      Kind = "audit"       // a ballot audited instead of cast
	BadProof   Kind = "bad-proof"   // a ballot whose proof does not verify
	BadSig     Kind = "bad-sig"     // a ballot whose signature is forged
	AuditCast  Kind = "audit-cast"  // the audited ballot sent again as a cast
	ReplayCast Kind = "replay-cast" // a ballot cast twice
	BadAudit   Kind = "bad-audit"   // an audit whose credential signature is forged
	WrongStyle Kind = "wrong-style" // a valid ballot of another ballot style than the credential's
)

// Voter is a simulated voter: the credential, and its ballot style and
// weight on the roll.
type Voter struct {
	Credential *credential.Credential
	Style      string
	Weight     uint64
}

// Unweighted returns one voter per credential, each with style and weight
// 1.
func Unweighted(creds []*credential.Credential, style string) []Voter {
	out := make([]Voter, len(creds))
	for i, c := range creds {
		out[i] = Voter{Credential: c, Style: style, Weight: 1}
	}
	return out
}

// Request is one prepared request of a simulated voter.
type Request struct {
	Voter    int
	Kind     Kind
	Payload  []byte // the cast encoding, or the audit file
	Choices  *ballot.Plaintext
	Tracking string
	WantCode wire.Code // 0 for accepted
	Phase    int       // requests of phase 0 are all sent before those of phase 1 (re-votes)
}

// Plan is what the simulated voters will send, and what the chain should
// count.
type Plan struct {
	Requests []*Request
	// Final holds, per voter that cast a ballot, the choices that count
	// (the last cast).
	Final map[int]*ballot.Plaintext
	// Weights are the voters' weights.
	Weights []uint64
}

// Options shape a plan.
type Options struct {
	Voters  int     // how many of the credentials vote (at most all)
	Revote  float64 // fraction of voters who cast a second ballot later
	Audit   float64 // fraction of voters who audit a ballot before casting
	Invalid float64 // fraction of voters who also send an invalid ballot
	Seed    uint64
}

// RandomChoices picks valid choices at random for a voter of the style.
func RandomChoices(m *ballot.Manifest, style string, rng *mathrand.Rand) *ballot.Plaintext {
	p := &ballot.Plaintext{StyleID: style, Choices: map[string][]string{}}
	cs, _ := m.StyleContests(style)
	for _, c := range cs {
		n := c.MinSelections() + rng.IntN(c.MaxSelections()-c.MinSelections()+1)
		perm := rng.Perm(len(c.Selections))[:n]
		sort.Ints(perm)
		for _, i := range perm {
			p.Choices[c.ID] = append(p.Choices[c.ID], c.Selections[i].ID)
		}
	}
	return p
}

// Prepare encrypts and signs every request of a plan, on all cores. Each
// voter votes in its own ballot style; in an election of several styles,
// some of the invalid ballots are valid ballots of another style.
func Prepare(e *ballot.Election, vs []Voter, o Options) (*Plan, error) {
	if o.Voters <= 0 || o.Voters > len(vs) {
		o.Voters = len(vs)
	}
	rng := mathrand.New(mathrand.NewPCG(o.Seed, 7))
	styles := e.Manifest.BallotStyles()
	id := e.Manifest.ElectionID
	invalid := []Kind{BadProof, BadSig, BadAudit}
	if len(styles) > 1 {
		invalid = append(invalid, WrongStyle)
	}
	type job struct {
		voter   int
		kind    Kind
		choices *ballot.Plaintext
		phase   int
	}
	var jobs []job
	for v := range o.Voters {
		style := vs[v].Style
		if rng.Float64() < o.Audit {
			jobs = append(jobs, job{v, Audit, RandomChoices(e.Manifest, style, rng), 0})
		}
		if rng.Float64() < o.Invalid {
			k := invalid[rng.IntN(len(invalid))]
			st := style
			if k == WrongStyle {
				for st == style {
					st = styles[rng.IntN(len(styles))].ID
				}
			}
			jobs = append(jobs, job{v, k, RandomChoices(e.Manifest, st, rng), 0})
		}
		jobs = append(jobs, job{v, Cast, RandomChoices(e.Manifest, style, rng), 0})
		if rng.Float64() < o.Revote {
			jobs = append(jobs, job{v, Cast, RandomChoices(e.Manifest, style, rng), 1})
		}
	}
	reqs := make([]*Request, len(jobs))
	var extra []*Request
	var mu sync.Mutex
	var firstErr error
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				r, more, err := prepare(e, id, vs[j.voter].Credential, j.voter, j.kind, j.choices)
				if err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
				r.Phase = j.phase
				reqs[i] = r
				if more != nil {
					mu.Lock()
					extra = append(extra, more)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	plan := &Plan{Final: map[int]*ballot.Plaintext{}}
	for _, v := range vs {
		plan.Weights = append(plan.Weights, max(v.Weight, 1))
	}
	for _, r := range reqs {
		if r.Kind == Cast {
			plan.Final[r.Voter] = r.Choices // later jobs of a voter come later
		}
	}
	// Replays and casts of audited ballots go last, after everything else is
	// on the chain.
	for _, r := range extra {
		r.Phase = 2
	}
	plan.Requests = append(reqs, extra...)
	return plan, nil
}

// prepare makes one request, and for audits and some casts a second one
// that must be refused (an audited ballot cast; a replayed cast).
func prepare(e *ballot.Election, id string, cr *credential.Credential, voter int, kind Kind, choices *ballot.Plaintext) (*Request, *Request, error) {
	b, sec, err := e.Encrypt(cryptorand.Reader, cr.PublicKey(), choices)
	if err != nil {
		return nil, nil, err
	}
	switch kind {
	case Audit:
		a, err := e.SignAudit(cr, b, sec)
		if err != nil {
			return nil, nil, err
		}
		data, err := json.Marshal(a)
		if err != nil {
			return nil, nil, err
		}
		c, _ := e.Sign(cr, b)
		again := &Request{Voter: voter, Kind: AuditCast, Payload: c.Encode(), Tracking: b.TrackingCode(), WantCode: wire.CodeAudited}
		return &Request{Voter: voter, Kind: Audit, Payload: data, Choices: choices, Tracking: b.TrackingCode()}, again, nil
	case BadAudit:
		a, err := e.SignAudit(cr, b, sec)
		if err != nil {
			return nil, nil, err
		}
		a.Signature[11] ^= 0x10
		data, err := json.Marshal(a)
		if err != nil {
			return nil, nil, err
		}
		return &Request{Voter: voter, Kind: kind, Payload: data, Tracking: b.TrackingCode(), WantCode: wire.CodeBadSignature}, nil, nil
	case BadProof:
		// Claim another selection's ciphertext for the first one.
		s := b.Contests[0].Selections
		if len(s) > 1 {
			s[0].Ciphertext = s[1].Ciphertext
		}
		c, _ := e.Sign(cr, b)
		return &Request{Voter: voter, Kind: kind, Payload: c.Encode(), Tracking: b.TrackingCode(), WantCode: wire.CodeInvalidProof}, nil, nil
	case WrongStyle:
		c, _ := e.Sign(cr, b)
		return &Request{Voter: voter, Kind: kind, Payload: c.Encode(), Tracking: b.TrackingCode(), WantCode: wire.CodeWrongStyle}, nil, nil
	case BadSig:
		c, _ := e.Sign(cr, b)
		c.Signature[7] ^= 0x20
		return &Request{Voter: voter, Kind: kind, Payload: c.Encode(), Tracking: b.TrackingCode(), WantCode: wire.CodeBadSignature}, nil, nil
	}
	c, err := e.Sign(cr, b)
	if err != nil {
		return nil, nil, err
	}
	r := &Request{Voter: voter, Kind: Cast, Payload: c.Encode(), Choices: choices, Tracking: b.TrackingCode()}
	var replay *Request
	if voter%50 == 7 {
		replay = &Request{Voter: voter, Kind: ReplayCast, Payload: r.Payload, Tracking: r.Tracking, WantCode: wire.CodeDuplicate}
	}
	return r, replay, nil
}

// Expected returns the counts the chain should publish: per contest of the
// manifest, per selection, each voter's choice counted its weight times.
func (p *Plan) Expected(m *ballot.Manifest) map[string][]uint64 {
	out := map[string][]uint64{}
	for _, c := range m.Contests {
		out[c.ID] = make([]uint64, len(c.Selections))
	}
	for v, pt := range p.Final {
		w := uint64(1)
		if v < len(p.Weights) {
			w = p.Weights[v]
		}
		for cid, sel := range pt.Choices {
			c, _ := m.Contest(cid)
			for _, s := range sel {
				k := slices.IndexFunc(c.Selections, func(x ballot.Selection) bool { return x.ID == s })
				out[cid][k] += w
			}
		}
	}
	return out
}

// ExpectedBlank returns, by contest id, the weight of the final ballots
// that carry the contest and mark none of its selections: what every
// counted blank count (rules.Blanks) must equal.
func (p *Plan) ExpectedBlank(m *ballot.Manifest) map[string]uint64 {
	out := map[string]uint64{}
	for v, pt := range p.Final {
		w := uint64(1)
		if v < len(p.Weights) {
			w = p.Weights[v]
		}
		cs, _ := m.StyleContests(pt.StyleID)
		for _, c := range cs {
			if len(pt.Choices[c.ID]) == 0 {
				out[c.ID] += w
			}
		}
	}
	return out
}

// Stats summarise a run.
type Stats struct {
	Sent, Committed, Rejected, Unexpected int
	ByKind                                map[Kind]int
	Duration                              time.Duration
	Latencies                             []time.Duration // cast → committed receipt, accepted casts
	ReceiptTimes                          []time.Duration // when each accepted cast's receipt arrived, since the start
	Problems                              []string
}

// Percentile returns the q-quantile (0..1) of the commit latencies.
func (s *Stats) Percentile(q float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.Latencies)
	slices.Sort(l)
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

// Sustained returns the committed casts per second in the steady middle of
// the run: between the arrival of the receipt that completes the first 10 %
// of them and the one that completes 90 %, leaving out the start (clients
// connecting, the first block) and the end (the last clients waiting for
// the last block). Runs of under 100 receipts give Throughput.
func (s *Stats) Sustained() float64 {
	n := len(s.ReceiptTimes)
	if n < 100 {
		return s.Throughput()
	}
	t := slices.Clone(s.ReceiptTimes)
	slices.Sort(t)
	lo, hi := n/10, n*9/10
	if d := t[hi] - t[lo]; d > 0 {
		return float64(hi-lo) / d.Seconds()
	}
	return s.Throughput()
}

// Throughput returns committed casts per second over the whole run.
func (s *Stats) Throughput() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Committed) / s.Duration.Seconds()
}

// Run sends the plan's requests phase by phase from `clients` concurrent
// websocket clients spread over the node URLs, waits for every committed
// receipt (verified against validators if opts pins them), and checks that
// each request got the outcome it should. progress, if not nil, is called
// after each request.
//
// Each client connection carries up to inflight requests at once (a voter's
// page has one; a load test may pipeline several per connection).
func Run(ctx context.Context, urls []string, opts client.Options, plan *Plan, clients, inflight int, electionID string, progress func(done, total int)) (*Stats, error) {
	inflight = max(inflight, 1)
	st := &Stats{ByKind: map[Kind]int{}}
	conns := make([]*client.Client, clients)
	for i := range conns {
		// Spread the clients: each starts at a different node.
		rot := append(slices.Clone(urls[i%len(urls):]), urls[:i%len(urls)]...)
		c, err := client.Dial(ctx, rot, opts)
		if err != nil {
			return nil, fmt.Errorf("voters: %w", err)
		}
		defer c.Close()
		conns[i] = c
	}
	var mu sync.Mutex
	done := 0
	start := time.Now()
	for phase := 0; phase <= 2; phase++ {
		var top int64 // the highest block a receipt of this phase named
		var reqs []*Request
		for _, r := range plan.Requests {
			if r.Phase == phase {
				reqs = append(reqs, r)
			}
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := range len(conns) * inflight {
			c := conns[w%len(conns)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(reqs) || ctx.Err() != nil {
						return
					}
					r := reqs[i]
					code, lat, h, err := send(ctx, c, electionID, r)
					mu.Lock()
					top = max(top, h)
					st.Sent++
					st.ByKind[r.Kind]++
					switch {
					case err != nil:
						st.Unexpected++
						st.Problems = append(st.Problems, fmt.Sprintf("voter %d %s %s: %v", r.Voter, r.Kind, r.Tracking, err))
					case code != r.WantCode:
						st.Unexpected++
						st.Problems = append(st.Problems, fmt.Sprintf("voter %d %s %s: code %d, want %d", r.Voter, r.Kind, r.Tracking, code, r.WantCode))
					case code == 0:
						st.Committed++
						if r.Kind == Cast {
							st.Latencies = append(st.Latencies, lat)
							st.ReceiptTimes = append(st.ReceiptTimes, time.Since(start))
						}
					default:
						st.Rejected++
					}
					done++
					if progress != nil {
						progress(done, len(plan.Requests))
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		// A phase's replays and re-votes are checked against every node
		// having applied the blocks of the phase before: a node that has
		// not yet applied the block of a receipt does not know the ballot
		// is on the chain, and answers its replay with the receipt instead
		// of code 8. A node stores a block before it applies it, so the
		// height to wait for is the next one's.
		if err := waitHeight(ctx, urls, top+1); err != nil {
			return nil, err
		}
	}
	st.Duration = time.Since(start)
	return st, ctx.Err()
}

// heightWait bounds how long waitHeight waits for the nodes.
const heightWait = 30 * time.Second

// waitHeight waits until the node of every websocket URL (ws://host/ws)
// reports, in its /api/status, a latest height of at least h.
func waitHeight(ctx context.Context, urls []string, h int64) error {
	if h <= 1 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, heightWait)
	defer cancel()
	for _, u := range urls {
		su, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("voters: %w", err)
		}
		su.Scheme = map[string]string{"ws": "http", "wss": "https"}[su.Scheme]
		su.Path = "/api/status"
		for {
			var st struct {
				LatestHeight int64 `json:"latest_height"`
			}
			req, err := http.NewRequestWithContext(ctx, "GET", su.String(), nil)
			if err != nil {
				return fmt.Errorf("voters: %w", err)
			}
			if resp, err := http.DefaultClient.Do(req); err == nil {
				json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&st)
				resp.Body.Close()
			}
			if st.LatestHeight >= h {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("voters: %s has not reached height %d: %w", su.Host, h, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// send sends one request and waits for its outcome: 0, the latency to a
// committed receipt and its height, or the rejection code.
func send(ctx context.Context, c *client.Client, electionID string, r *Request) (wire.Code, time.Duration, int64, error) {
	t0 := time.Now()
	var ack *client.Ack
	var err error
	if r.Kind == Audit || r.Kind == BadAudit {
		ack, err = c.Audit(ctx, electionID, r.Payload)
	} else {
		ack, err = c.Cast(ctx, electionID, r.Payload)
	}
	var rj *client.Rejected
	if errors.As(err, &rj) {
		return rj.Code, 0, 0, nil
	}
	if err != nil {
		return 0, 0, 0, err
	}
	if ack.Duplicate {
		return wire.CodeDuplicate, 0, 0, nil
	}
	rc, err := c.WaitCommitted(ctx, ack)
	if err != nil {
		if errors.As(err, &rj) {
			return rj.Code, 0, 0, nil
		}
		return 0, 0, 0, err
	}
	return 0, time.Since(t0), rc.Height, nil
}
