package tally

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/rules"
)

// Progress is the service's state as /progress reports it.
type Progress struct {
	Election string `json:"election"`
	// Phase is the election's phase at Height by the service's own state,
	// or the one on the chain before the service follows the election.
	Phase       string `json:"phase,omitempty"`
	Height      int64  `json:"height"`       // last chain height processed
	ChainHeight int64  `json:"chain_height"` // the node's latest height, when last asked
	// Ballots, from the election's record in the service's state (the
	// rules' counters): Counted = Cast − Replaced.
	Counted  int `json:"ballots_counted"`
	Cast     int `json:"ballots_cast"`
	Replaced int `json:"ballots_replaced"`
	Audited  int `json:"ballots_audited"`
	Rejected int `json:"transactions_rejected"` // the election's transactions the chain rejected in blocks
	// State is one of the State… constants; Status says it in words, such
	// as "waiting for 2 shares: have 1 of 2".
	State        string `json:"state"`
	Status       string `json:"status"`
	SharesHave   int    `json:"shares_have"`
	SharesNeed   int    `json:"shares_need"`
	BadShares    []int  `json:"bad_shares,omitempty"` // trustees whose shares on the chain do not verify
	ClosedHeight int64  `json:"closed_height,omitempty"`
	TotalsHeight int64  `json:"totals_height,omitempty"`
	ResultHeight int64  `json:"result_height,omitempty"`
	Alarm        string `json:"alarm,omitempty"`
	LastError    string `json:"last_error,omitempty"`
}

// Progress returns the service's current state.
func (s *Service) Progress() Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Progress{Election: s.id, ChainHeight: s.chainHeight, LastError: s.lastErr, BadShares: slices.Clone(s.badShares)}
	if s.rec != nil {
		p.Phase = s.rec.Phase.String()
		p.SharesHave = len(s.rec.Shares)
	}
	var rec *rules.ElectionRecord
	if s.s != nil {
		p.Height, p.Rejected = s.s.height, s.s.p.Rejected
		rec = s.s.rec
	}
	if rec != nil {
		p.Phase = rec.Phase.String()
		p.Counted, p.Cast, p.Replaced, p.Audited = rec.Counted(), rec.BallotsCast, rec.BallotsReplaced, rec.Audited
		p.ClosedHeight, p.TotalsHeight, p.ResultHeight = rec.ClosedHeight, rec.TotalsHeight, rec.ResultHeight
		p.SharesHave, p.SharesNeed = len(rec.Shares), s.s.m.Trustees.Threshold
	}
	switch {
	case s.alarm != nil:
		p.State, p.Alarm = StateAlarm, s.alarm.Error()
		p.Status = "ALARM: " + s.alarm.Error()
	case s.s == nil || s.bind == nil:
		p.State = StateWaitingForElection
		p.Status = "waiting for the election's key ceremony to finish on the chain"
		if s.rec == nil {
			p.Status = "waiting for the election to be defined on the chain"
		}
	case p.ResultHeight > 0 && s.checked:
		p.State = StateTallied
		p.Status = fmt.Sprintf("tallied: result at height %d, checked", p.ResultHeight)
	case p.TotalsHeight > 0:
		p.State = StateWaitingForShares
		p.Status = fmt.Sprintf("waiting for %d shares: have %d of %d", p.SharesNeed, p.SharesHave, p.SharesNeed)
		if p.SharesHave >= p.SharesNeed {
			p.Status = fmt.Sprintf("decrypting: have %d shares of the %d needed", p.SharesHave, p.SharesNeed)
		}
	default:
		p.State = StateFollowing
		p.Status = fmt.Sprintf("following: height %d of %d, %d ballots counted", p.Height, p.ChainHeight, p.Counted)
	}
	return p
}

// SelectionTotal is one selection's encrypted total.
type SelectionTotal struct {
	ID         string `json:"id"`
	Ciphertext []byte `json:"ciphertext"` // 64 bytes, base64 in JSON
}

// ContestTotals are one contest's encrypted totals.
type ContestTotals struct {
	ID         string           `json:"id"`
	Selections []SelectionTotal `json:"selections"`
}

// Totals are the encrypted running totals in the service's state at Height.
type Totals struct {
	Election string          `json:"election"`
	Height   int64           `json:"height"`
	Contests []ContestTotals `json:"contests"`
}

// Totals returns the encrypted running totals, or false before the service
// follows the election.
func (s *Service) Totals() (Totals, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil || s.s.m == nil {
		return Totals{}, false
	}
	t := Totals{Election: s.id, Height: s.s.height}
	i := 0
	for _, c := range s.s.m.Contests {
		ct := ContestTotals{ID: c.ID}
		for _, sel := range c.Selections {
			ct.Selections = append(ct.Selections, SelectionTotal{ID: sel.ID, Ciphertext: s.s.totals[i].Encode()})
			i++
		}
		if c.CountBlank {
			ct.Selections = append(ct.Selections, SelectionTotal{ID: ballot.BlankSelection, Ciphertext: s.s.totals[i].Encode()})
			i++
		}
		t.Contests = append(t.Contests, ct)
	}
	return t, true
}

// SelectionResult is one selection's count.
type SelectionResult struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Count uint64 `json:"count"`
}

// ContestResult is one contest's counts and its count of blank ballots.
type ContestResult struct {
	ID         string            `json:"id"`
	Title      string            `json:"title"`
	Selections []SelectionResult `json:"selections"`
	// Blank is the weighted number of blank ballots (no selection marked),
	// null when they are not counted apart (BlankKind "not-counted").
	Blank *uint64 `json:"blank"`
	// BlankKind says how (rules.BlankKind): "encrypted", "derived",
	// "impossible" or "not-counted".
	BlankKind rules.BlankKind `json:"blank_kind"`
}

// Result is the election's result as the chain holds it, checked by the
// service: Height is the height of the result transaction.
type Result struct {
	Election string `json:"election"`
	Height   int64  `json:"height"`
	Counted  int    `json:"ballots_counted"`
	// Weight is the total weight of the counted ballots; the counts are
	// weighted (Weight equals Counted when every voter's weight is 1).
	Weight   uint64          `json:"weight_counted"`
	Contests []ContestResult `json:"contests"`
}

// Result returns the election's result once it is on the chain and the
// service has checked it.
func (s *Service) Result() (Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil || s.s.rec == nil || s.s.rec.ResultHeight == 0 || !s.checked {
		return Result{}, false
	}
	rec := s.s.rec
	blanks, err := rules.Blanks(s.s.m, rec)
	if err != nil {
		return Result{}, false // the rules accepted this result: not reached
	}
	r := Result{Election: s.id, Height: rec.ResultHeight, Counted: rec.Counted(), Weight: rec.WeightCounted}
	for ci, c := range s.s.m.Contests {
		cr := ContestResult{ID: c.ID, Title: c.Title, Blank: blanks[ci].Count, BlankKind: blanks[ci].Kind}
		for k, sel := range c.Selections {
			cr.Selections = append(cr.Selections, SelectionResult{ID: sel.ID, Title: sel.Title, Count: rec.Result[ci].Counts[k]})
		}
		r.Contests = append(r.Contests, cr)
	}
	return r, true
}

// Handler serves the service's state as JSON: GET /progress, /totals,
// /result (404 until the election is tallied) and /healthz (503 after an
// alarm).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /progress", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Progress())
	})
	mux.HandleFunc("GET /totals", func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.Totals()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "the service does not follow the election yet"})
			return
		}
		writeJSON(w, http.StatusOK, t)
	})
	mux.HandleFunc("GET /result", func(w http.ResponseWriter, r *http.Request) {
		res, ok := s.Result()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no result yet: " + s.Progress().Status})
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		p := s.Progress()
		if p.State == StateAlarm {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "alarm", "alarm": p.Alarm})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "state": p.State})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = jsonout.Encode(w, v, "  ")
}
