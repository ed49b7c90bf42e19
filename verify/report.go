package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/rules"
)

// Status is a check's outcome.
type Status string

// Outcomes of a check.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip" // nothing to check (for example, no result yet)
)

// Check numbers and titles (docs/spec-verify.md).
const (
	CheckIntegrity = 1 + iota
	CheckGenesis
	CheckBlocks
	CheckDefinition
	CheckCeremony
	CheckRoll
	CheckBallots
	CheckRevote
	CheckAudits
	CheckTotals
	CheckShares
	CheckCombination
	CheckCounts
	CheckOutcomes
	CheckAppHash
	CheckFork
	numChecks = CheckFork
)

var titles = [...]string{
	CheckIntegrity:   "record integrity: every file's size and SHA-256",
	CheckGenesis:     "genesis: chain id, authority set, officials",
	CheckBlocks:      "blocks: heights, parent links, header hashes, data hashes, commits by more than 2/3 of the voting power, results hashes",
	CheckDefinition:  "election definition: signed by a genesis official, manifest, open and close",
	CheckCeremony:    "key ceremony: every message's signature, resolution, joint key and verification keys",
	CheckRoll:        "credential roll: chunks, duplicates, roll hash",
	CheckBallots:     "ballots: decoding, credential signature, on the roll, proofs, no replay, voting window, election open",
	CheckRevote:      "re-vote rule: exactly the last ballot of each credential counts",
	CheckAudits:      "audited ballots: verify and were never cast",
	CheckTotals:      "encrypted totals: recomputed from the counted ballots",
	CheckShares:      "decryption shares: signatures and proofs",
	CheckCombination: "combination: Lagrange interpolation of k shares",
	CheckCounts:      "counts: count·G equals the combined point of every selection",
	CheckOutcomes:    "transaction outcomes: the chain's accept/reject of every transaction equals the re-execution",
	CheckAppHash:     "app hash: the state the rules produce, recomputed at every height, is the state every header signs",
	CheckFork:        "no fork: the nodes agree on every block",
}

// Count is one number a check reports, such as "ballots: 120,432".
type Count struct {
	Name string `json:"name"`
	N    int64  `json:"n"`
}

// Failure names the exact item that failed: where it is in the chain
// (height and transaction index), the ballot's tracking code, the trustee,
// the contest and selection, or the file, as they apply.
type Failure struct {
	Height       int64  `json:"height,omitempty"`
	TxIndex      *int   `json:"tx_index,omitempty"`
	TrackingCode string `json:"tracking_code,omitempty"`
	Trustee      int    `json:"trustee,omitempty"`
	Contest      string `json:"contest,omitempty"`
	Selection    string `json:"selection,omitempty"`
	File         string `json:"file,omitempty"`
	Message      string `json:"message"`
}

func (f *Failure) String() string {
	var parts []string
	if f.File != "" {
		parts = append(parts, f.File)
	}
	if f.Height != 0 {
		parts = append(parts, "height "+strconv.FormatInt(f.Height, 10))
	}
	if f.TxIndex != nil {
		parts = append(parts, "tx "+strconv.Itoa(*f.TxIndex))
	}
	if f.TrackingCode != "" {
		parts = append(parts, "ballot "+f.TrackingCode)
	}
	if f.Trustee != 0 {
		parts = append(parts, "trustee "+strconv.Itoa(f.Trustee))
	}
	if f.Contest != "" {
		s := "contest " + strconv.Quote(f.Contest)
		if f.Selection != "" {
			s += ", selection " + strconv.Quote(f.Selection)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return f.Message
	}
	return strings.Join(parts, ", ") + ": " + f.Message
}

// CheckResult is the outcome of one numbered check.
type CheckResult struct {
	Number   int           `json:"number"`
	Title    string        `json:"title"`
	Status   Status        `json:"status"`
	Counts   []Count       `json:"counts,omitempty"`
	Notes    []string      `json:"notes,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Failures lists the first failures (at most Options.MaxFailures);
	// FailureCount is their total number.
	Failures     []*Failure `json:"failures,omitempty"`
	FailureCount int        `json:"failure_count,omitempty"`

	mu      sync.Mutex
	max     int
	skipped string
}

func (c *CheckResult) fail(f *Failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.FailureCount++
	if len(c.Failures) < c.max {
		c.Failures = append(c.Failures, f)
	}
}

func (c *CheckResult) failf(format string, args ...any) {
	c.fail(&Failure{Message: fmt.Sprintf(format, args...)})
}

func (c *CheckResult) add(name string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.Counts {
		if c.Counts[i].Name == name {
			c.Counts[i].N += n
			return
		}
	}
	c.Counts = append(c.Counts, Count{name, n})
}

func (c *CheckResult) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Notes = append(c.Notes, fmt.Sprintf(format, args...))
}

// Fork is evidence that two nodes (or records) hold different blocks at
// the same height: the first such height, with both block IDs and headers.
type Fork struct {
	Height  int64           `json:"height"`
	A       string          `json:"a"` // the source of the first block: a node's URL or a record folder
	B       string          `json:"b"`
	BlockA  string          `json:"block_id_a"`
	BlockB  string          `json:"block_id_b"`
	HeaderA json.RawMessage `json:"header_a"`
	HeaderB json.RawMessage `json:"header_b"`
}

// Report is the outcome of a verification.
type Report struct {
	Source     string         `json:"source"`
	ChainID    string         `json:"chain_id"`
	ElectionID string         `json:"election_id"`
	Heights    [2]int64       `json:"heights"`
	GenesisSHA string         `json:"genesis_sha256"`
	Checks     []*CheckResult `json:"checks"`
	Forks      []*Fork        `json:"forks,omitempty"`
	Duration   time.Duration  `json:"duration_ns"`
	// Result is the election's result as the verification recomputed it
	// (the counts that passed checks 12 and 13), with the manifest's titles;
	// nil before the result is on the chain, or if those checks failed.
	Result *VerifiedResult `json:"result,omitempty"`
}

// VerifiedResult is a result the verification checked, for people.
type VerifiedResult struct {
	Title   string `json:"title"`
	Height  int64  `json:"height"`
	Ballots int    `json:"ballots_counted"`
	// Weight is the total weight of the counted ballots; the counts are
	// weighted. It equals Ballots when every voter's weight is 1.
	Weight   uint64            `json:"weight_counted"`
	Contests []VerifiedContest `json:"contests"`
}

// VerifiedContest is one contest's checked counts and blank count.
type VerifiedContest struct {
	Contest    string              `json:"contest"`
	Title      string              `json:"title"`
	Selections []VerifiedSelection `json:"selections"`
	// Blank is the weighted number of blank ballots, null when they are not
	// counted apart; BlankKind says how it is counted (rules.BlankKind).
	Blank     *uint64         `json:"blank"`
	BlankKind rules.BlankKind `json:"blank_kind"`
}

// VerifiedSelection is one selection's checked count.
type VerifiedSelection struct {
	Selection string `json:"selection"`
	Title     string `json:"title"`
	Count     uint64 `json:"count"`
}

// OK reports whether every check passed (or had nothing to check).
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// Check returns the result of check number n, or nil.
func (r *Report) Check(n int) *CheckResult {
	for _, c := range r.Checks {
		if c.Number == n {
			return c
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	return jsonout.Encode(w, r, "  ") // names and messages as written
}

// WriteText writes the report for people: one block per check, its
// numbers, and every listed failure with the item it names.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "evote verification of election %q on chain %q\n", r.ElectionID, r.ChainID)
	fmt.Fprintf(&b, "source: %s, heights %d to %d, genesis SHA-256 %s\n\n", r.Source, r.Heights[0], r.Heights[1], r.GenesisSHA)
	b.WriteString(r.summary())
	failed := 0
	for _, c := range r.Checks {
		mark := map[Status]string{Pass: "PASS", Fail: "FAIL", Skip: "SKIP"}[c.Status]
		fmt.Fprintf(&b, "%2d %s  %s  (%s)\n", c.Number, mark, c.Title, c.Duration.Round(time.Millisecond))
		if len(c.Counts) > 0 {
			var cs []string
			for _, n := range c.Counts {
				cs = append(cs, thousands(n.N)+" "+n.Name)
			}
			fmt.Fprintf(&b, "        %s\n", strings.Join(cs, ", "))
		}
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "        note: %s\n", n)
		}
		for _, f := range c.Failures {
			fmt.Fprintf(&b, "        ✗ %s\n", f)
		}
		if c.FailureCount > len(c.Failures) {
			fmt.Fprintf(&b, "        … and %s more failures\n", thousands(int64(c.FailureCount-len(c.Failures))))
		}
		if c.Status == Fail {
			failed++
		}
	}
	for _, f := range r.Forks {
		fmt.Fprintf(&b, "\nFORK at height %d:\n  %s: block %s\n  %s: block %s\n", f.Height, f.A, f.BlockA, f.B, f.BlockB)
	}
	if res := r.Result; res != nil {
		if res.Weight != uint64(res.Ballots) {
			fmt.Fprintf(&b, "\nVerified result of %q (height %d, %s ballots counted, of total weight %s; the counts are weighted):\n", res.Title, res.Height, thousands(int64(res.Ballots)), thousands(int64(res.Weight)))
		} else {
			fmt.Fprintf(&b, "\nVerified result of %q (height %d, %s ballots counted):\n", res.Title, res.Height, thousands(int64(res.Ballots)))
		}
		for _, c := range res.Contests {
			fmt.Fprintf(&b, "  %s\n", c.Title)
			for _, s := range c.Selections {
				fmt.Fprintf(&b, "    %s: %s\n", s.Title, thousands(int64(s.Count)))
			}
			fmt.Fprintf(&b, "    %s\n", blankLine(c))
		}
	}
	if failed == 0 {
		fmt.Fprintf(&b, "\nall checks passed (%s)\n", r.Duration.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "\n%d of %d checks FAILED (%s)\n", failed, len(r.Checks), r.Duration.Round(time.Millisecond))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// summary says in plain words what the checks establish and whether they
// passed, before the numbered checks.
func (r *Report) summary() string {
	var failed, skipped int
	for _, c := range r.Checks {
		switch c.Status {
		case Fail:
			failed++
		case Skip:
			skipped++
		}
	}
	var verdict string
	switch {
	case failed > 0:
		verdict = fmt.Sprintf("%d of %d checks FAILED. Do not rely on this election's published figures until the failures below are explained.", failed, len(r.Checks))
	case len(r.Forks) > 0:
		verdict = "The nodes disagree about the chain (a fork, below). Do not rely on this election until it is explained."
	case r.Result != nil:
		verdict = "Every check passed: the published result is the one the ballots on the chain give."
	default:
		verdict = "Every check passed so far; no result is published yet."
	}
	if skipped > 0 && failed == 0 {
		verdict += fmt.Sprintf(" (%s nothing to check, marked SKIP.)", map[bool]string{true: "1 check had", false: fmt.Sprintf("%d checks had", skipped)}[skipped == 1])
	}
	return "In plain words: " + verdict + "\n" +
		"Checked from the public record alone, with no trust in any authority node: the blocks are\n" +
		"the ones more than 2/3 of the authorities signed; an official of the genesis defined the\n" +
		"election; the trustees' key ceremony made its key; every ballot was cast with a credential\n" +
		"on the roll, in the credential's ballot style, is well formed (its proofs), and only each\n" +
		"credential's last ballot counts; the encrypted totals add up exactly those ballots; the\n" +
		"trustees' decryptions of the totals are correct and give the published counts. Not checked\n" +
		"here: who holds which credential, and whether a voter's device encrypted what the voter\n" +
		"chose (a voter's audit checks that: evote verify-audit).\n\n"
}

// blankLine says a verified contest's blank count and how it is counted.
func blankLine(c VerifiedContest) string {
	if c.Blank == nil {
		return "blank ballots: not counted separately (the contest has no count_blank)"
	}
	how := map[rules.BlankKind]string{
		rules.BlankEncrypted:  "encrypted on every ballot and decrypted with the counts",
		rules.BlankDerived:    "the weight counted less the counts",
		rules.BlankImpossible: "the rule asks for at least one mark",
	}[c.BlankKind]
	return fmt.Sprintf("blank ballots: %s (%s)", thousands(int64(*c.Blank)), how)
}

// thousands formats n with commas: 1204320 → "1,204,320".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// progress draws a progress bar on a terminal, at most ten times a second.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	label string
	drawn bool
}

func (p *progress) set(label string, done, total int64) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && label == p.label && done != total {
		return
	}
	p.last, p.label = now, label
	const width = 30
	fill := 0
	if total > 0 {
		fill = int(min(done, total) * width / total)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%-24s [%s%s] %s/%s", label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), thousands(done), thousands(total))
	p.drawn = true
}

func (p *progress) done() {
	if p == nil || p.w == nil || !p.drawn {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\x1b[K")
	p.drawn = false
}
