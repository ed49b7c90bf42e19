package wire

import (
	"fmt"
)

// Phase is the phase of an election (docs/spec-chain.md §3). Its state
// encoding is one byte; in JSON it is its name.
type Phase byte

// Election phases, in the order an election goes through them.
const (
	PhaseCeremony Phase = 1 // defined; trustees run the key ceremony, the roll is loaded
	PhaseReady    Phase = 2 // the election key exists; waiting for the roll and the open transaction
	PhaseOpen     Phase = 3 // ballots are accepted (within the voting window)
	PhaseClosed   Phase = 4 // no more ballots; totals, shares and the result follow
	PhaseTallied  Phase = 5 // the result is on the chain
)

var phaseNames = [...]string{PhaseCeremony: "ceremony", PhaseReady: "ready", PhaseOpen: "open", PhaseClosed: "closed", PhaseTallied: "tallied"}

// String returns the phase's name.
func (p Phase) String() string {
	if int(p) < len(phaseNames) && phaseNames[p] != "" {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase-%d", byte(p))
}

// Valid reports whether p is one of the phases.
func (p Phase) Valid() bool { return p >= PhaseCeremony && p <= PhaseTallied }

// MarshalText writes the phase's name.
func (p Phase) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("wire: no phase %d", byte(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads a phase's name.
func (p *Phase) UnmarshalText(b []byte) error {
	for i, n := range phaseNames {
		if n != "" && n == string(b) {
			*p = Phase(i)
			return nil
		}
	}
	return fmt.Errorf("wire: no phase %q", b)
}
