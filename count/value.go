package count

import (
	"fmt"
	"strconv"
	"strings"
)

// Value is a number of votes in units of 0.00001 (five decimal places), the
// precision of the Scottish rules' transfer values. Value(100000) is one vote.
type Value int64

// One is the value of one vote.
const One Value = 100000

// String formats v with exactly five decimal places, e.g. "12.34560".
func (v Value) String() string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%05d", sign, int64(v/One), int64(v%One))
}

// MarshalText encodes v as String does, so JSON holds the exact decimal.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText decodes the String form (an optional "-", digits, and an
// optional "." with one to five digits).
func (v *Value) UnmarshalText(b []byte) error {
	s := string(b)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" || len(fp) > 5 || strings.ContainsAny(ip+fp, "+-") || (strings.Contains(s, ".") && fp == "") {
		return fmt.Errorf("count: bad value %q", b)
	}
	i, err := strconv.ParseInt(ip, 10, 64)
	if err != nil || i > int64(^uint64(0)>>1)/int64(One)-1 {
		return fmt.Errorf("count: bad value %q", b)
	}
	var f int64
	if fp != "" {
		f, err = strconv.ParseInt(fp+strings.Repeat("0", 5-len(fp)), 10, 64)
		if err != nil {
			return fmt.Errorf("count: bad value %q", b)
		}
	}
	x := Value(i)*One + Value(f)
	if neg {
		x = -x
	}
	*v = x
	return nil
}
