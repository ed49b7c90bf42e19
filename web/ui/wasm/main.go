//go:build js && wasm

// Command wasm is the voter's browser module: evote's own ballot,
// credential and crypto code compiled to WebAssembly, and the receipt
// verifier of package receiptcheck. It sets a global object "evote" with
// the functions of docs/ui.md ("The WebAssembly API"); each takes and
// returns plain strings, numbers and objects, and reports a failure as
// {error: "..."} rather than throwing.
//
// The credential's private key and a ballot's secrets (marks and
// randomness) stay inside the module, behind numeric handles: the page
// gets the audit file only when the voter audits, and a ballot's secrets
// are dropped at cast or audit (forgetBallot, auditBallot).
package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/internal/strictjson"
	"github.com/evote/evote/web/ui/receiptcheck"
	"github.com/evote/evote/web/ui/wasm/rollcheck"
)

// state held between calls; handles are small integers.
var (
	elections   = map[int]*ballot.Election{}
	credentials = map[int]*credential.Credential{}
	// rollHeaders are the roll headers the credentials were derived with,
	// rollIndexes the roll indexes rollChunk read for them.
	rollHeaders = map[int][]byte{}
	rollIndexes = map[int]*rollcheck.Index{}
	ballots     = map[int]*pending{}
	nextHandle  = 1
)

type pending struct {
	election *ballot.Election
	ballot   *ballot.Ballot
	secrets  *ballot.Secrets
}

// forgetCredential drops credential h's key and what the roll says of it.
func forgetCredential(h int) {
	delete(credentials, h)
	delete(rollHeaders, h)
	delete(rollIndexes, h)
}

func handle() int { nextHandle++; return nextHandle - 1 }

func main() {
	api := map[string]any{
		"checkCode":        fn(checkCode),
		"loadElection":     fn(loadElection),
		"deriveCredential": fn(deriveCredential),
		"forgetCredential": fn(func(a []js.Value) any { forgetCredential(a[0].Int()); return true }),
		"rollChunk":        fn(rollChunk),
		"rollLookup":       fn(rollLookup),
		"encryptBallot":    fn(encryptBallot),
		"auditBallot":      fn(auditBallot),
		"forgetBallot":     fn(func(a []js.Value) any { delete(ballots, a[0].Int()); return true }),
		"verifyAudit":      fn(verifyAudit),
		"verifyReceipt":    fn(verifyReceipt),
		"validatorsHash":   fn(validatorsHash),
		"normalizeTrackingCode": fn(func(a []js.Value) any {
			c, err := ballot.NormalizeTrackingCode(arg(a, 0))
			if err != nil {
				return fail(err)
			}
			return map[string]any{"code": c}
		}),
	}
	js.Global().Set("evote", js.ValueOf(api))
	if cb := js.Global().Get("evoteReady"); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
	select {}
}

// fn wraps a function so that a panic becomes {error} instead of killing
// the module.
func fn(f func([]js.Value) any) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (out any) {
		defer func() {
			if r := recover(); r != nil {
				out = js.ValueOf(map[string]any{"error": fmt.Sprint("internal error: ", r)})
			}
		}()
		return toJS(f(args))
	})
}

// toJS converts the results' Go types that js.ValueOf does not take.
func toJS(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = toJS(e)
		}
		return x
	case []int:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = toJS(e)
		}
		return x
	}
	return v
}

func arg(a []js.Value, i int) string {
	if i >= len(a) || a[i].Type() != js.TypeString {
		return ""
	}
	return a[i].String()
}

func fail(err error) map[string]any { return map[string]any{"error": err.Error()} }

// checkCode(partial) → {state, symbols, offset, suspects, message}: the
// live feedback as the voter types (credential.CheckPartial). It names
// positions, never characters.
func checkCode(a []js.Value) any {
	st := credential.CheckPartial(arg(a, 0))
	out := map[string]any{"state": st.State.String(), "symbols": st.Symbols, "offset": st.Offset, "suspects": []int{}}
	if st.Suspects != nil {
		out["suspects"] = st.Suspects
	}
	if err := st.Err(); err != nil {
		out["message"] = err.Error()
	}
	return out
}

// loadElection(manifestJSON, jointKeyBase64) → {handle, electionID,
// baseHash} for a manifest (canonical JSON, from /api/elections/{id}) and
// the joint election key (base64, the record's joint_key).
func loadElection(a []js.Value) any {
	m, err := ballot.DecodeManifestJSON([]byte(arg(a, 0)))
	if err != nil {
		return fail(err)
	}
	kb, err := base64.StdEncoding.DecodeString(arg(a, 1))
	if err != nil {
		return fail(fmt.Errorf("election key: %w", err))
	}
	k, err := crypto.DecodeNonIdentityPoint(kb)
	if err != nil {
		return fail(fmt.Errorf("election key: %w", err))
	}
	e, err := ballot.NewElection(m, k)
	if err != nil {
		return fail(err)
	}
	h := handle()
	elections[h] = e
	return map[string]any{"handle": h, "electionID": m.ElectionID, "baseHash": fmt.Sprintf("%x", e.BaseHash[:])}
}

// deriveCredential(code, electionID, rollHeaderBase64) → {handle,
// publicKey, ms, kdf}: Argon2id with the roll's KDF parameters. The code
// is not kept; the private key stays in the module.
func deriveCredential(a []js.Value) any {
	code, err := credential.ParseCode(arg(a, 0))
	if err != nil {
		return fail(err)
	}
	hb, err := base64.StdEncoding.DecodeString(arg(a, 2))
	if err != nil {
		return fail(fmt.Errorf("roll header: %w", err))
	}
	hdr, err := credential.DecodeHeader(hb)
	if err != nil {
		return fail(err)
	}
	id := arg(a, 1)
	if hdr.ElectionID != id {
		return fail(fmt.Errorf("the credential roll is of election %q, not %q", hdr.ElectionID, id))
	}
	start := time.Now()
	c, err := credential.Derive(code, id, hdr.KDF)
	if err != nil {
		return fail(err)
	}
	h := handle()
	credentials[h] = c
	rollHeaders[h] = hb
	return map[string]any{"handle": h, "publicKey": fmt.Sprintf("%x", []byte(c.PublicKey())),
		"ms": float64(time.Since(start).Microseconds()) / 1000, "kdf": hdr.KDF.String()}
}

// rollChunk(rollIndexJSON, credentialHandle, rollHashBase64) → {chunk,
// chunks}: reads the roll's index (GET /api/elections/{id}/roll) and
// checks it (rollcheck.DecodeIndex) against the roll header the
// credential's key was derived with and rollHashBase64 (the election
// record's roll_hash; "" for none), keeps it with the credential for
// rollLookup, and says which chunk the page must fetch to look the key up.
// A failure is {error, step}: step "incomplete" (with loaded and chunks)
// for a roll not all on the chain yet, "index" for any other.
func rollChunk(a []js.Value) any {
	if len(a) < 3 || a[1].Type() != js.TypeNumber || credentials[a[1].Int()] == nil {
		return fail(errors.New("rollChunk: want the roll index, a credential handle and the roll hash"))
	}
	h := a[1].Int()
	rh, err := base64.StdEncoding.DecodeString(arg(a, 2))
	if err != nil {
		return fail(fmt.Errorf("roll hash: %w", err))
	}
	if len(rh) == 0 {
		rh = nil
	}
	hdr, err := credential.DecodeHeader(rollHeaders[h])
	if err != nil {
		return fail(err)
	}
	x, err := rollcheck.DecodeIndex([]byte(arg(a, 0)), hdr.ElectionID, rollHeaders[h], rh)
	var inc *rollcheck.IncompleteError
	switch {
	case errors.As(err, &inc):
		return map[string]any{"error": err.Error(), "step": "incomplete", "loaded": inc.Loaded, "chunks": inc.Chunks}
	case err != nil:
		return map[string]any{"error": err.Error(), "step": "index"}
	}
	rollIndexes[h] = x
	return map[string]any{"chunk": x.ChunkFor(credentials[h].PublicKey()), "chunks": x.Chunks()}
}

// rollLookup(credentialHandle, chunkIndex, chunkBytes) → {onRoll, style,
// weight}: the credential's entry in the chunk (a Uint8Array, the body of
// GET /api/elections/{id}/roll/{chunk}), after checking the chunk against
// the index rollChunk read (rollcheck.Index.Lookup); or {error, step},
// step "chunk" for a chunk that does not check out.
func rollLookup(a []js.Value) any {
	if len(a) < 3 || a[0].Type() != js.TypeNumber || a[1].Type() != js.TypeNumber || a[2].Type() != js.TypeObject {
		return fail(errors.New("rollLookup: want a credential handle, a chunk number and the chunk's bytes (a Uint8Array)"))
	}
	c, x := credentials[a[0].Int()], rollIndexes[a[0].Int()]
	if c == nil || x == nil {
		return fail(errors.New("rollLookup: unknown credential, or no roll index read for it (rollChunk)"))
	}
	n, limit := a[2].Get("byteLength").Int(), credential.ChunkSize*credential.EntrySize
	if n > limit {
		return map[string]any{"error": fmt.Sprintf("roll check: the chunk is %d bytes, more than the %d of a whole chunk", n, limit), "step": "chunk"}
	}
	entries := make([]byte, n)
	js.CopyBytesToGo(entries, a[2])
	e, ok, err := x.Lookup(a[1].Int(), entries, c.PublicKey())
	if err != nil {
		return map[string]any{"error": err.Error(), "step": "chunk"}
	}
	return map[string]any{"onRoll": ok, "style": e.Style, "weight": float64(e.Weight)}
}

// encryptBallot(electionHandle, credentialHandle, choicesJSON) →
// {handle, trackingCode, cast, ms}: encrypts and proves the choices
// ({"style": "...", "choices": {"contest": ["selection", …]}}) and signs
// the ballot for casting; cast is the base64 of the ballot.Cast encoding.
// The secrets stay in the module until auditBallot or forgetBallot.
func encryptBallot(a []js.Value) any {
	if len(a) < 3 {
		return fail(errors.New("encryptBallot: three arguments"))
	}
	e, c := elections[a[0].Int()], credentials[a[1].Int()]
	if e == nil || c == nil {
		return fail(errors.New("encryptBallot: unknown election or credential"))
	}
	p, err := readChoices([]byte(arg(a, 2)))
	if err != nil {
		return fail(fmt.Errorf("choices: %w", err))
	}
	if p.StyleID == "" {
		p.StyleID = e.Manifest.BallotStyles()[0].ID
	}
	start := time.Now()
	b, sec, err := e.Encrypt(rand.Reader, c.PublicKey(), p)
	if err != nil {
		return fail(err)
	}
	cast, err := e.Sign(c, b)
	if err != nil {
		return fail(err)
	}
	h := handle()
	ballots[h] = &pending{election: e, ballot: b, secrets: sec}
	return map[string]any{"handle": h, "trackingCode": b.TrackingCode(),
		"cast": base64.StdEncoding.EncodeToString(cast.Encode()), "ms": float64(time.Since(start).Microseconds()) / 1000}
}

// readChoices reads {"style": "…", "choices": {"contest": ["selection",
// …]}}; "style" may be left out.
func readChoices(data []byte) (*ballot.Plaintext, error) {
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, err
	}
	var r strictjson.Reader
	o := r.Root(v).Object()
	p := &ballot.Plaintext{StyleID: o.Opt("style").Str(), Choices: map[string][]string{}}
	names, fields := o.Get("choices").Object().Members()
	for i, f := range fields {
		p.Choices[names[i]] = f.Strings()
	}
	o.End()
	return p, r.Err()
}

// auditBallot(ballotHandle, credentialHandle) → {audit, trackingCode,
// choices}: the audit file (JSON text) of a ballot the voter audits instead
// of casting, signed with the credential the ballot was encrypted for (the
// chain accepts only audits signed by a credential on the roll); the
// ballot is then forgotten and can never be cast.
func auditBallot(a []js.Value) any {
	if len(a) < 2 {
		return fail(errors.New("auditBallot: two arguments"))
	}
	p, c := ballots[a[0].Int()], credentials[a[1].Int()]
	if p == nil || c == nil {
		return fail(errors.New("auditBallot: unknown ballot or credential"))
	}
	delete(ballots, a[0].Int())
	au, err := p.election.SignAudit(c, p.ballot, p.secrets)
	if err != nil {
		return fail(err)
	}
	j, err := au.MarshalJSON()
	if err != nil {
		return fail(err)
	}
	out := map[string]any{"audit": string(j), "trackingCode": p.ballot.TrackingCode()}
	if pt, err := p.election.VerifyAudit(au); err == nil {
		out["choices"] = choicesJS(pt)
	}
	return out
}

func choicesJS(p *ballot.Plaintext) map[string]any {
	m := map[string]any{}
	for k, v := range p.Choices {
		m[k] = toJS(v)
	}
	return m
}

// verifyAudit(electionHandle, auditJSON) → {ok, trackingCode, choices} or
// {error}: what `evote verify-audit` checks (proofs, and that every
// ciphertext encrypts the revealed mark with the revealed randomness).
func verifyAudit(a []js.Value) any {
	if len(a) < 2 {
		return fail(errors.New("verifyAudit: two arguments"))
	}
	e := elections[a[0].Int()]
	if e == nil {
		return fail(errors.New("verifyAudit: unknown election"))
	}
	au, err := e.DecodeAudit([]byte(arg(a, 1)))
	if err != nil {
		return fail(err)
	}
	p, err := e.VerifyAudit(au)
	if err != nil {
		return fail(err)
	}
	return map[string]any{"ok": true, "trackingCode": au.Ballot.TrackingCode(), "choices": choicesJS(p)}
}

// validatorsHash(validatorsJSON) → {hash, chainID, total, count}: decodes
// a node's /api/validators answer and checks it against its hash, so the
// page can compare the sets that different nodes announce.
func validatorsHash(a []js.Value) any {
	vs, chainID, err := receiptcheck.DecodeValidators([]byte(arg(a, 0)))
	if err != nil {
		return fail(err)
	}
	return map[string]any{"hash": fmt.Sprintf("%X", vs.Hash()), "chainID": chainID, "total": float64(vs.TotalPower()), "count": len(vs.Validators)}
}

// verifyReceipt(receiptJSON, validatorsJSON, chainID, electionHandle) →
// {ok, height, trackingCode, kind, blockHash} or {error, step}: every step
// of docs/api.md "How to verify a receipt", against the validator set the
// page pinned at load, and (with an election handle other than 0) that the
// transaction's ballot has the receipt's tracking code.
func verifyReceipt(a []js.Value) any {
	r, err := receiptcheck.Decode([]byte(arg(a, 0)))
	if err != nil {
		return map[string]any{"error": err.Error(), "step": receiptcheck.StepFormat}
	}
	vs, _, err := receiptcheck.DecodeValidators([]byte(arg(a, 1)))
	if err != nil {
		return map[string]any{"error": err.Error(), "step": receiptcheck.StepValidators}
	}
	if err := receiptcheck.Verify(r, arg(a, 2), vs); err != nil {
		var re *receiptcheck.Error
		step := ""
		if errors.As(err, &re) {
			step = re.Step
		}
		return map[string]any{"error": err.Error(), "step": step}
	}
	if len(a) > 3 && a[3].Type() == js.TypeNumber && a[3].Int() != 0 {
		e := elections[a[3].Int()]
		if e == nil {
			return fail(errors.New("verifyReceipt: unknown election"))
		}
		if err := checkTrackingCode(r, e); err != nil {
			return map[string]any{"error": err.Error(), "step": "tracking-code"}
		}
	}
	return map[string]any{"ok": true, "height": float64(r.Height), "trackingCode": r.TrackingCode, "kind": r.Kind,
		"blockHash": fmt.Sprintf("%X", r.BlockID.Hash), "signers": signers(r), "validators": len(vs.Validators)}
}

func signers(r *receiptcheck.Receipt) int {
	n := 0
	for _, s := range r.Commit.Signatures {
		if s.Flag == 2 {
			n++
		}
	}
	return n
}

// checkTrackingCode is protocol.VerifyTrackingCode.
func checkTrackingCode(r *receiptcheck.Receipt, e *ballot.Election) error {
	field, err := r.BallotField()
	if err != nil {
		return err
	}
	if r.Election != e.Manifest.ElectionID {
		return fmt.Errorf("receipt of election %q, checked against %q", r.Election, e.Manifest.ElectionID)
	}
	var b *ballot.Ballot
	switch r.Kind {
	case "ballot":
		c, err := e.DecodeCast(field)
		if err != nil {
			return err
		}
		b = c.Ballot
	case "audit":
		au, err := e.DecodeAudit(field)
		if err != nil {
			return err
		}
		b = au.Ballot
	default:
		return fmt.Errorf("receipt kind %q", r.Kind)
	}
	want, err := ballot.NormalizeTrackingCode(r.TrackingCode)
	if err != nil {
		return err
	}
	if got := b.TrackingCode(); got != want {
		return fmt.Errorf("the ballot's tracking code is %s, the receipt says %s", got, want)
	}
	return nil
}
