package ballot

import (
	"errors"
	"fmt"
	"slices"
)

// ErrPlaintext is the root of every error about a voter's choices.
var ErrPlaintext = errors.New("ballot: invalid choices")

// Plaintext is a voter's choices: for each contest of the ballot style, the
// ids of the marked selections. A contest with no entry has no marks.
type Plaintext struct {
	StyleID string
	Choices map[string][]string // contest id → marked selection ids
}

// Marks returns, for each contest of the style in ballot order, the 0/1 mark
// of each selection in manifest order, after checking the choices against
// the manifest: known contests of the style, known selections, no duplicates,
// and each contest's count within its vote rule.
func (p *Plaintext) Marks(m *Manifest) ([][]uint64, error) {
	contests, err := m.StyleContests(p.StyleID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPlaintext, err)
	}
	inStyle := make(map[string]bool, len(contests))
	for _, c := range contests {
		inStyle[c.ID] = true
	}
	for id := range p.Choices {
		if _, ok := m.Contest(id); !ok {
			return nil, fmt.Errorf("%w: no contest %q in election %q", ErrPlaintext, id, m.ElectionID)
		}
		if !inStyle[id] {
			return nil, fmt.Errorf("%w: contest %q is not on ballot style %q", ErrPlaintext, id, p.StyleID)
		}
	}
	marks := make([][]uint64, len(contests))
	for i, c := range contests {
		marks[i] = make([]uint64, len(c.Selections))
		for _, sid := range p.Choices[c.ID] {
			k := slices.IndexFunc(c.Selections, func(s Selection) bool { return s.ID == sid })
			if k < 0 {
				return nil, fmt.Errorf("%w: contest %q has no selection %q", ErrPlaintext, c.ID, sid)
			}
			if marks[i][k] == 1 {
				return nil, fmt.Errorf("%w: contest %q: selection %q chosen twice", ErrPlaintext, c.ID, sid)
			}
			marks[i][k] = 1
		}
		n := len(p.Choices[c.ID])
		if n < c.MinSelections() || n > c.MaxSelections() {
			return nil, fmt.Errorf("%w: contest %q: %d selections marked, the rule is to %s", ErrPlaintext, c.ID, n, c.Instructions())
		}
	}
	return marks, nil
}

// plaintextFromMarks is the inverse of Marks.
func plaintextFromMarks(m *Manifest, style string, marks [][]uint64) (*Plaintext, error) {
	contests, err := m.StyleContests(style)
	if err != nil {
		return nil, err
	}
	p := &Plaintext{StyleID: style, Choices: map[string][]string{}}
	for i, c := range contests {
		for k, s := range c.Selections {
			if marks[i][k] == 1 {
				p.Choices[c.ID] = append(p.Choices[c.ID], s.ID)
			}
		}
	}
	return p, nil
}
