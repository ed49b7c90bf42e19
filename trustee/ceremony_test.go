package trustee

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/dkg"
	"github.com/evote/evote/internal/keyfile"
)

// setup returns a manifest whose three trustees (threshold 2) are the
// returned keys, and an empty shared folder.
func setup(t *testing.T) (*Ceremony, []*Key, string) {
	t.Helper()
	m := ballottest.Mixed()
	var keys []*Key
	for i := range m.Trustees.Members {
		k, err := NewKey(rand.Reader, m.Trustees.Members[i].Name)
		if err != nil {
			t.Fatal(err)
		}
		m.Trustees.Members[i].PublicKey = k.Identity
		keys = append(keys, k)
	}
	c, err := NewCeremony(m)
	if err != nil {
		t.Fatal(err)
	}
	return c, keys, t.TempDir()
}

func write(t *testing.T, dir string, m *Message, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteMessage(dir, m); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, c *Ceremony, dir string) *Transcript {
	t.Helper()
	tr, err := c.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// runRounds runs rounds 0–3 for every key, skipping the keys in skip for
// the given round, and returns the final transcript.
func runRounds(t *testing.T, c *Ceremony, keys []*Key, dir string) *Transcript {
	for _, k := range keys {
		m, err := c.Register(k)
		write(t, dir, m, err)
	}
	for _, k := range keys {
		m, err := c.Deal(k, load(t, c, dir))
		write(t, dir, m, err)
	}
	for _, k := range keys {
		m, _, err := c.Check(k, load(t, c, dir))
		write(t, dir, m, err)
	}
	for _, k := range keys {
		m, _, err := c.Justify(k, load(t, c, dir))
		write(t, dir, m, err)
	}
	return load(t, c, dir)
}

// finish runs Finish for k and returns the joint key, which must be joint
// if that is not nil.
func finish(t *testing.T, c *Ceremony, k *Key, tr *Transcript, joint crypto.Point) crypto.Point {
	t.Helper()
	res, err := c.Finish(k, tr, false)
	if err != nil {
		t.Fatalf("%s: %v", k.Name, err)
	}
	if joint != nil && !joint.IsEqual(res.PublicKey) {
		t.Fatal("trustees disagree on the joint key")
	}
	return res.PublicKey
}

func TestCeremonyThroughFiles(t *testing.T) {
	c, keys, dir := setup(t)
	// A round cannot start before the previous one is complete.
	m, err := c.Register(keys[0])
	write(t, dir, m, err)
	if _, err := c.Deal(keys[0], load(t, c, dir)); !errors.Is(err, ErrWaiting) || !strings.Contains(err.Error(), "trustee 2 (Grace) and trustee 3 (Edsger)") {
		t.Fatalf("deal before everyone registered: %v", err)
	}
	tr := runRounds(t, c, keys, dir)
	if len(tr.Problems) != 0 || len(tr.Complaints) != 0 {
		t.Fatalf("honest ceremony: problems %v, complaints %v", tr.Problems, tr.Complaints)
	}
	var joint crypto.Point
	for _, k := range keys {
		joint = finish(t, c, k, tr, joint)
	}
	// An observer re-derives the same key from the folder alone.
	res, err := c.Resolve(load(t, c, dir), false)
	if err != nil || !res.PublicKey.IsEqual(joint) || len(res.Faults) != 0 {
		t.Fatalf("observer: %v, faults %v", err, res.Faults)
	}
	// The key file keeps the share across save and load, and any two
	// trustees decrypt.
	path := filepath.Join(t.TempDir(), "grace.key")
	pass := []byte("grace's long passphrase")
	if err := keys[1].Save(path, pass, keyfile.TestKDF, false); err != nil {
		t.Fatal(err)
	}
	reloaded, err := Load(path, pass)
	if err != nil {
		t.Fatal(err)
	}
	keys[1] = reloaded
	ct, _, _ := crypto.Encrypt(rand.Reader, joint, 42)
	var shares []crypto.DecryptionShare
	for _, k := range []*Key{keys[1], keys[2]} {
		x, l, err := k.SecretShare(c.Manifest.ElectionID)
		if err != nil {
			t.Fatal(err)
		}
		s, err := crypto.PartialDecrypt(rand.Reader, c.Context, l, x, res.VerificationKeys[l-1], []crypto.Ciphertext{ct})
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, s)
	}
	pts, err := crypto.Combine(c.Context, 2, res.VerificationKeys, []crypto.Ciphertext{ct}, shares)
	if err != nil || !pts[0].IsEqual(crypto.BaseMul(crypto.ScalarFromUint64(42))) {
		t.Fatalf("threshold decryption: %v", err)
	}
}

// TestNoJustification: with no complaint, round 3 needs nothing from the
// trustees: each closes it with an empty message and finishes at once,
// without waiting for the others' messages, with the key that the whole
// transcript gives (the chain's).
func TestNoJustification(t *testing.T) {
	c, keys, dir := setup(t)
	for _, k := range keys {
		m, err := c.Register(k)
		write(t, dir, m, err)
	}
	for _, k := range keys {
		m, err := c.Deal(k, load(t, c, dir))
		write(t, dir, m, err)
	}
	m, _, err := c.Check(keys[0], load(t, c, dir))
	write(t, dir, m, err)
	if _, err := c.NoJustification(keys[0], load(t, c, dir)); !errors.Is(err, ErrWaiting) || !strings.Contains(err.Error(), "no complaints message yet from trustee 2 (Grace) and trustee 3 (Edsger)") {
		t.Fatalf("NoJustification before every check: %v", err)
	}
	for _, k := range keys[1:] {
		m, _, err := c.Check(k, load(t, c, dir))
		write(t, dir, m, err)
	}
	var joint crypto.Point
	for i, k := range keys {
		tr := load(t, c, dir)
		if len(tr.JustifiedBy) != i {
			t.Fatalf("%d justifications messages before trustee %d's", len(tr.JustifiedBy), i+1)
		}
		m, err := c.NoJustification(k, tr)
		if err != nil || m.Kind != KindJustifications || len(m.Payload) != 0 {
			t.Fatalf("NoJustification: %+v, %v", m, err)
		}
		write(t, dir, m, err)
		tr = load(t, c, dir)
		if again, err := c.NoJustification(k, tr); again != nil || err != nil {
			t.Fatalf("NoJustification once sent: %+v, %v", again, err)
		}
		joint = finish(t, c, k, tr, joint) // before the others' round 3
	}
	// What the chain does once every message is in.
	res, err := c.Resolve(load(t, c, dir), true)
	if err != nil || !res.PublicKey.IsEqual(joint) || len(res.Qualified) != 3 {
		t.Fatalf("the whole transcript: %v, qualified %v", err, res.Qualified)
	}
}

func TestTamperedMessageIsNamed(t *testing.T) {
	c, keys, dir := setup(t)
	runRounds(t, c, keys, dir)
	path := filepath.Join(dir, FileName(KindDealing, 2))
	data, _ := os.ReadFile(path)
	msg, _ := DecodeMessage(data)
	msg.Payload[40] ^= 1 // a commitment byte
	forged, _ := EncodeMessage(msg)
	if err := os.WriteFile(path, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	tr := load(t, c, dir)
	if len(tr.Problems) != 1 || !errors.Is(tr.Problems[0], ErrSignature) || !strings.Contains(tr.Problems[0].Error(), "trustee 2 (Grace): dealing") {
		t.Fatalf("tampered dealing: problems %v", tr.Problems)
	}
	if _, err := c.Resolve(tr, false); !errors.Is(err, ErrWaiting) {
		t.Fatalf("resolve without trustee 2's dealing: %v", err)
	}
	res, err := c.Resolve(tr, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Faults) == 0 || res.Faults[0].Trustee != 2 || !res.Faults[0].Disqualified {
		t.Fatalf("faults: %v", res.Faults)
	}
}

func TestCheatingDealerIsNamed(t *testing.T) {
	c, keys, dir := setup(t)
	for _, k := range keys {
		m, err := c.Register(k)
		write(t, dir, m, err)
	}
	// Trustee 3 deals honestly except that trustee 1's share is encrypted
	// from a different polynomial.
	for _, k := range keys[:2] {
		m, err := c.Deal(k, load(t, c, dir))
		write(t, dir, m, err)
	}
	tr := load(t, c, dir)
	good, err := c.Deal(keys[2], tr)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dkg.DecodeDealing(c.Params, good.Payload)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := dkg.NewDealing(rand.Reader, c.Context, c.Params, 3, tr.HPKE)
	if err != nil {
		t.Fatal(err)
	}
	d.Shares[0] = other.Shares[0] // the share for trustee 1
	bad, err := c.sign(keys[2], KindDealing, d.Encode())
	write(t, dir, bad, err)
	for _, k := range keys {
		m, _, err := c.Check(k, load(t, c, dir))
		write(t, dir, m, err)
	}
	tr = load(t, c, dir)
	if len(tr.Complaints) != 1 || tr.Complaints[0].Accuser != 1 || tr.Complaints[0].Accused != 3 {
		t.Fatalf("complaints: %+v", tr.Complaints)
	}
	// The accused cannot skip round 3; the others can, and the end waits
	// for the accused only.
	if _, err := c.NoJustification(keys[2], tr); !errors.Is(err, ErrAccused) || !strings.Contains(err.Error(), "trustee 1 (Ada) complained about the share you dealt them") {
		t.Fatalf("NoJustification of the accused: %v", err)
	}
	if _, err := c.Resolve(tr, false); !errors.Is(err, ErrWaiting) || !strings.HasSuffix(err.Error(), "no justifications message yet from trustee 3 (Edsger)") {
		t.Fatalf("Resolve before the accused answered: %v", err)
	}
	// The cheater does not justify (it cannot: its justification would be
	// checked against its commitments); the others send empty messages.
	m, _, err := c.Justify(keys[0], tr)
	write(t, dir, m, err)
	m, err = c.NoJustification(keys[1], tr)
	write(t, dir, m, err)
	empty, err := c.sign(keys[2], KindJustifications, nil)
	write(t, dir, empty, err)
	res, err := c.Resolve(load(t, c, dir), false)
	if err != nil {
		t.Fatal(err)
	}
	var named bool
	for _, f := range res.Faults {
		if f.Trustee == 3 && f.Disqualified && errors.Is(f, dkg.ErrComplaintProven) {
			named = true
		}
	}
	if !named || len(res.Qualified) != 2 {
		t.Fatalf("cheating dealer not disqualified with proof: faults %v, qualified %v", res.Faults, res.Qualified)
	}
	// The honest trustees still get working shares of the key of the other two.
	for _, k := range keys[:2] {
		if _, err := c.Finish(k, load(t, c, dir), false); err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
	}
}

func TestNotATrustee(t *testing.T) {
	c, _, _ := setup(t)
	stranger, _ := NewKey(rand.Reader, "Mallory")
	if _, err := c.Register(stranger); !errors.Is(err, ErrNotTrustee) {
		t.Fatalf("stranger registered: %v", err)
	}
	m := ballottest.Mixed()
	if _, err := NewCeremony(m); err == nil || !strings.Contains(err.Error(), "has no public_key") {
		t.Fatalf("manifest without trustee keys: %v", err)
	}
}

// TestTwoElectionsOneKey: a trustee takes part in two elections with the
// same key file; each keeps its own state and share.
func TestTwoElectionsOneKey(t *testing.T) {
	c1, keys, dir1 := setup(t)
	m2 := *c1.Manifest
	m2.ElectionID = "second-election"
	c2, err := NewCeremony(&m2)
	if err != nil {
		t.Fatal(err)
	}
	dir2 := t.TempDir()
	runRounds(t, c1, keys, dir1)
	runRounds(t, c2, keys, dir2)
	for _, k := range keys {
		if _, err := c1.Finish(k, load(t, c1, dir1), false); err != nil {
			t.Fatal(err)
		}
		if _, err := c2.Finish(k, load(t, c2, dir2), false); err != nil {
			t.Fatal(err)
		}
		x1, _, err1 := k.SecretShare(c1.Manifest.ElectionID)
		x2, _, err2 := k.SecretShare(m2.ElectionID)
		if err1 != nil || err2 != nil || x1.IsEqual(x2) {
			t.Fatalf("%s: shares %v %v", k.Name, err1, err2)
		}
	}
	if _, err := c1.Deal(keys[0], load(t, c1, dir1)); err == nil {
		t.Fatal("dealt twice in one ceremony")
	}
}
