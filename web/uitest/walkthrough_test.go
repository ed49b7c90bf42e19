package uitest

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// walkthroughSection is the README section whose shell blocks
// TestREADMEWalkthrough runs.
const walkthroughSection = "## Running a real multi-authority election"

// browserVoteMarker is the README comment at which the test votes in the
// browser, as the prose around it tells a voter to.
const browserVoteMarker = "<!-- walkthrough: browser-vote -->"

// walkStep is one step of the walkthrough: a shell block, or the browser
// vote.
type walkStep struct {
	line  int    // the README line the block starts on
	shell string // the block's text; empty for the browser vote
}

// readmeWalkthrough returns the steps of the README's real-election
// section: its ```sh blocks in order, and the browser vote at its marker.
func readmeWalkthrough(t *testing.T) []walkStep {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var steps []walkStep
	in, votes := false, 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == walkthroughSection:
			in = true
		case in && strings.HasPrefix(l, "## "):
			in = false
		case in && l == browserVoteMarker:
			steps = append(steps, walkStep{line: i + 1})
			votes++
		case in && l == "```sh":
			start := i + 1
			var block []string
			for i++; i < len(lines) && lines[i] != "```"; i++ {
				block = append(block, lines[i])
			}
			steps = append(steps, walkStep{line: start, shell: strings.Join(block, "\n")})
		}
	}
	if len(steps) < 8 || votes != 1 {
		t.Fatalf("README: %q has %d steps and %d browser-vote markers; the walkthrough needs its shell blocks and one marker", walkthroughSection, len(steps), votes)
	}
	return steps
}

// TestREADMEWalkthrough (issue 18, point 10) runs the README's
// "Running a real multi-authority election" as a newcomer would: every
// ```sh block literally, in order, in one bash session, with the evote
// binary built from this tree on PATH, a free port base P and a fresh
// PostgreSQL database DB for the fourth organisation's node. At the
// README's marker the test votes in Chromium on the first node's page with
// the first card's code, as the prose says. It then checks what the
// blocks printed: four nodes making blocks with three peers each, the
// ceremony, the load's receipts, the result, and the observer's
// verification through the public URLs and of the downloaded record.
func TestREADMEWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	for _, tool := range []string{"curl", "tar", "sed", "grep", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's walkthrough uses %s, which this machine lacks", tool)
		}
	}
	steps := readmeWalkthrough(t)
	chromium := chromiumPath(t)
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "evote"), "github.com/evote/evote/cmd/evote").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "election")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := freePortBase(t)
	db := walkthroughDatabase(t)

	sh := startShell(t, dir, []string{
		"PATH=" + bin + ":" + os.Getenv("PATH"),
		"HOME=" + work,
		fmt.Sprintf("P=%d", base),
		"DB=" + db,
		"LANG=C.UTF-8",
	})
	h := &harness{t: t, axe: axeSource(t)}
	var out strings.Builder
	for k, st := range steps {
		if st.shell == "" {
			tracking := h.walkthroughVote(t, dir, base)
			t.Logf("README line %d: voted in the browser, tracking code %s", st.line, tracking)
			continue
		}
		text, err := sh.run(st.shell, 5*time.Minute)
		out.WriteString(text)
		if err != nil {
			t.Logf("output of the README's block at line %d:\n%s", st.line, text)
			dumpLogs(t, dir)
			t.Fatalf("README line %d: %v", st.line, err)
		}
		t.Logf("README line %d: exit 0\n%s", st.line, indent(text))
		if k+1 < len(steps) && steps[k+1].shell == "" {
			h.startBrowser(chromium)
		}
	}
	all := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`trustee 3 \(Trustee 3\): your share of the election key`),
		regexp.MustCompile(`credential roll of "rehearsal-2026" loaded: 20 credentials`),
		regexp.MustCompile(`20 committed, \d+ rejected as expected, 0 unexpected`),
		regexp.MustCompile(`Verified result of "Rehearsal: Board of the Cooperative" \(height \d+, 20 ballots counted\)`),
		regexp.MustCompile(`all checks passed`),
	} {
		if !want.MatchString(all) {
			t.Errorf("the walkthrough's output has no %q", want)
		}
	}
	// Each node made blocks with its peers (at least two, for a quorum;
	// the last may still be connecting when the first block is made).
	if n := len(regexp.MustCompile(`(?m)^peers: +[23] connected`).FindAllString(all, -1)); n != 4 {
		t.Errorf("%d nodes report two or three connected peers, want 4", n)
	}
	if n := strings.Count(all, "all checks passed"); n != 2 {
		t.Errorf("%d verifications passed, want 2 (through the public URLs, and of the downloaded record)", n)
	}
}

// walkthroughVote votes as the README's step 7 says: the first node's page
// (P+2), the first card's code, the first choice; it returns the tracking
// code once the receipt checks out in the page.
func (h *harness) walkthroughVote(t *testing.T, dir string, base int) string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "creds", "codes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][1] != "code" {
		t.Fatalf("creds/codes.csv: %v (%d rows)", err, len(rows))
	}
	h.open(t, fmt.Sprintf("http://127.0.0.1:%d/", base+2))
	h.enterCode(t, rows[1][1])
	h.chooseFirst(t)
	h.run(t, "encrypt", chromedp.Click("#encrypt"), chromedp.WaitVisible("#step-encrypted"))
	return h.cast(t)
}

// freePortBase returns a base P such that P … P+59 are free on 127.0.0.1
// (the walkthrough uses P+10i+{0,1,2} for four nodes and P+50).
func freePortBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := 20000 + 100*rand.IntN(300)
		ok := true
		for off := range 60 {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+off))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free range of 60 ports")
	return 0
}

// walkthroughDatabase creates a fresh PostgreSQL database for the
// walkthrough's fourth node and drops it when the test ends.
func walkthroughDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("EVOTE_TEST_ADMIN_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("the walkthrough needs PostgreSQL (%s): %v", admin, err)
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("evote_walkthrough_%d_%d", os.Getpid(), rand.IntN(1e6))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// shell is one bash session, as a user's terminal: the README's blocks run
// in it one after the other, sharing its variables and folder; the
// background processes they start are in its process group, killed when
// the test ends.
type shell struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	n     int
}

func startShell(t *testing.T, dir string, env []string) *shell {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &shell{cmd: cmd, in: in, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(exited) }()
	t.Cleanup(func() {
		in.Close()
		// The nodes and the tally service stop on SIGTERM, as on Ctrl-C.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
		}
		time.Sleep(2 * time.Second)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	if _, err := s.run("true", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs block in the session and returns what it printed; the error
// names the exit status of a block that failed.
func (s *shell) run(block string, timeout time.Duration) (string, error) {
	s.n++
	marker := fmt.Sprintf("__walkthrough_block_%d_done__", s.n)
	// The block runs in the session itself (not a subshell), so the
	// variables it sets stay for the next blocks, with errexit: its first
	// failing command ends the session, after the ERR trap has printed its
	// exit status.
	wrapped := "set -eo pipefail\ntrap 'echo " + marker + " $?' ERR\n" + block + "\ntrap - ERR\nset +eo pipefail\necho " + marker + " 0\n"
	if _, err := io.WriteString(s.in, wrapped); err != nil {
		return "", err
	}
	var out strings.Builder
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return out.String(), errors.New("the shell exited (a command failed with errexit on)")
			}
			if rest, found := strings.CutPrefix(l, marker+" "); found {
				if rest != "0" {
					return out.String(), fmt.Errorf("a command failed with exit status %s", rest)
				}
				return out.String(), nil
			}
			out.WriteString(l + "\n")
		case <-deadline:
			return out.String(), fmt.Errorf("the block did not finish within %v", timeout)
		}
	}
}

// dumpLogs logs the tails of the walkthrough's log files.
func dumpLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("%s:\n%s", filepath.Base(f), b)
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
