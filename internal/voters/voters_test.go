package voters

import (
	"math"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
)

func TestSustained(t *testing.T) {
	// 1,000 receipts at 100/s after a 3 s start and before a 5 s tail: the
	// whole-run rate is lower, the sustained one is the steady rate.
	st := &Stats{Committed: 1000, Duration: 18 * time.Second}
	for i := range 1000 {
		st.ReceiptTimes = append(st.ReceiptTimes, 3*time.Second+time.Duration(i)*10*time.Millisecond)
	}
	st.ReceiptTimes[0], st.ReceiptTimes[999] = st.ReceiptTimes[999], st.ReceiptTimes[0] // arrival order does not matter
	if got := st.Sustained(); math.Abs(got-100) > 0.5 {
		t.Errorf("sustained %.2f/s, want 100", got)
	}
	if got := st.Throughput(); math.Abs(got-1000.0/18) > 0.01 {
		t.Errorf("throughput %.2f/s, want %.2f", got, 1000.0/18)
	}
	// Too few receipts for percentiles: the whole-run figure.
	small := &Stats{Committed: 10, Duration: 2 * time.Second, ReceiptTimes: make([]time.Duration, 10)}
	if got := small.Sustained(); got != 5 {
		t.Errorf("sustained of 10 receipts in 2 s: %.2f, want 5", got)
	}
}

// TestExpectedWeighted: each voter's last choices count its weight times.
func TestExpectedWeighted(t *testing.T) {
	m := ballottest.Districts()
	north := ballottest.FirstChoices(m, "north")
	south := ballottest.FirstChoices(m, "south")
	p := &Plan{Final: map[int]*ballot.Plaintext{0: north, 1: south, 2: north}, Weights: []uint64{1, 12, 3, 250}}
	got := p.Expected(m)
	if got["contest-1"][0] != 16 || got["contest-3"][0] != 4 || got["contest-4"][0] != 12 {
		t.Fatalf("expected counts %v", got)
	}
}
