package voters

import (
	"math"
	"testing"
	"time"
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
