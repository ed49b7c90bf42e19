package demo

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evote/evote/internal/voters"
	"github.com/evote/evote/rules"
)

// Report prints the published counts of every contest and its blank count
// (rules.Blanks, where the contest counts it), marking each that differs
// from what the simulated voters of plan chose, and the verdict line. It reports whether the demo passed: the counts match and
// verification passed.
func (d *Demo) Report(rec *rules.ElectionRecord, plan *voters.Plan, verified bool) bool {
	want, wantBlank := plan.Expected(d.Manifest), plan.ExpectedBlank(d.Manifest)
	fmt.Fprintln(d.cfg.Out)
	tw := tabwriter.NewWriter(d.cfg.Out, 0, 4, 2, ' ', 0)
	match := true
	blanks, err := rules.Blanks(d.Manifest, rec)
	if err != nil {
		fmt.Fprintf(d.cfg.Out, "the blank counts: %v\n", err)
		match = false
	}
	for i, cr := range rec.Result {
		c, _ := d.Manifest.Contest(cr.Contest)
		fmt.Fprintf(tw, "%s (%s)\n", c.Title, c.Instructions())
		for k, n := range cr.Counts {
			mark := ""
			if n != want[cr.Contest][k] {
				mark = fmt.Sprintf("  ← the voters chose %d", want[cr.Contest][k])
				match = false
			}
			fmt.Fprintf(tw, "  %s\t%d%s\n", c.Selections[k].Title, n, mark)
		}
		if i >= len(blanks) {
			continue
		}
		if b := blanks[i]; b.Count == nil {
			fmt.Fprintf(tw, "  (blank ballots)\tnot counted separately\n")
		} else {
			mark := ""
			if *b.Count != wantBlank[cr.Contest] {
				mark = fmt.Sprintf("  ← the voters left %d blank", wantBlank[cr.Contest])
				match = false
			}
			fmt.Fprintf(tw, "  (blank ballots)\t%d, %s%s\n", *b.Count, b.Kind, mark)
		}
	}
	tw.Flush()
	fmt.Fprintln(d.cfg.Out)
	status := "PASS"
	if !match || !verified {
		status = "FAIL"
	}
	what := "equal"
	if !match {
		what = "DIFFER FROM"
	}
	counted := fmt.Sprintf("%d ballots counted", rec.Counted())
	if rec.WeightCounted != uint64(rec.Counted()) {
		counted = fmt.Sprintf("%d ballots counted, of total weight %d: the counts are weighted", rec.Counted(), rec.WeightCounted)
	}
	fmt.Fprintf(d.cfg.Out, "%s: the decrypted counts %s the simulated voters' choices (%s, verification %s); %s in %.0fs\n",
		status, what, counted, map[bool]string{true: "passed", false: "FAILED"}[verified], strings.TrimSuffix(d.cfg.Dir, "/")+"/ kept", time.Since(d.began).Seconds())
	return status == "PASS"
}
