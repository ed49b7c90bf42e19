package tally

import (
	"errors"
	"fmt"
)

// ErrAlarm is wrapped by every AlarmError: the chain and the service's own,
// independent account of the election disagree. It is never retried; an
// operator must find out why.
var ErrAlarm = errors.New("tally: ALARM: the chain disagrees with the tally service's own count")

// AlarmError is a disagreement between the chain and the service, with the
// evidence: the height at which it was found, the item (a ballot's tracking
// code, the totals, the result, a trustee) and what differs.
type AlarmError struct {
	Height int64
	Item   string
	Detail string
}

func (e *AlarmError) Error() string {
	if e.Height > 0 {
		return fmt.Sprintf("tally: ALARM at height %d: %s: %s", e.Height, e.Item, e.Detail)
	}
	return fmt.Sprintf("tally: ALARM: %s: %s", e.Item, e.Detail)
}

// Unwrap returns ErrAlarm.
func (e *AlarmError) Unwrap() error { return ErrAlarm }
