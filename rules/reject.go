package rules

import (
	"errors"
	"fmt"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/wire"
)

// Rejection is a transaction's rejection: its code and message, and where
// known the contest, selection or trustee it concerns (the chain reports only
// the code and message; the verifier names the item).
type Rejection struct {
	Code               wire.Code
	Msg                string
	Contest, Selection string
	Trustee            int
}

func (r *Rejection) Error() string { return r.Msg }

func reject(code wire.Code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// AsRejection returns err's rejection, or nil if err is not (and does not
// wrap) one.
func AsRejection(err error) *Rejection {
	var r *Rejection
	if errors.As(err, &r) {
		return r
	}
	return nil
}

// Outcome maps the error of Apply (or of wire.Decode) to the transaction's
// result code and message: zero for nil, the rejection's code, CodeMalformed
// for bytes that do not decode, and CodeInternal for anything else (a fault
// of the node's state, which during a block must halt the node instead).
func Outcome(err error) (wire.Code, string) {
	if err == nil {
		return wire.OK, ""
	}
	if r := AsRejection(err); r != nil {
		return r.Code, r.Msg
	}
	if errors.Is(err, wire.ErrMalformed) {
		return wire.CodeMalformed, err.Error()
	}
	return wire.CodeInternal, "internal error: " + err.Error()
}

// withProof sets the contest and selection of a proof error on r.
func withProof(r *Rejection, err error) *Rejection {
	var pe *ballot.ProofError
	if errors.As(err, &pe) {
		r.Contest, r.Selection = pe.Contest, pe.Selection
	}
	return r
}
