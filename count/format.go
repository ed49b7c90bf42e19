package count

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
)

// name returns names[c], or "#c" if names is too short.
func name(names []string, c int) string {
	if c >= 0 && c < len(names) {
		return names[c]
	}
	return fmt.Sprintf("#%d", c)
}

func table(f func(w *tabwriter.Writer)) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	f(w)
	w.Flush()
	return b.String()
}

// Text renders the record as a plain-text table for display: one row per
// candidate, one column per round, then the exhausted and active ballots,
// the outcome of each round and the winner. names gives the candidates'
// names (index order).
func (r *IRVResult) Text(names []string) string {
	return table(func(w *tabwriter.Writer) {
		fmt.Fprint(w, "\t")
		for _, rd := range r.Rounds {
			fmt.Fprintf(w, "round %d\t", rd.Round)
		}
		fmt.Fprintln(w)
		for c := range r.Candidates {
			fmt.Fprintf(w, "%s\t", name(names, c))
			for _, rd := range r.Rounds {
				fmt.Fprintf(w, "%d\t", rd.Votes[c])
			}
			fmt.Fprintln(w)
		}
		row := func(label string, f func(IRVRound) string) {
			fmt.Fprintf(w, "%s\t", label)
			for _, rd := range r.Rounds {
				fmt.Fprintf(w, "%s\t", f(rd))
			}
			fmt.Fprintln(w)
		}
		row("exhausted", func(rd IRVRound) string { return fmt.Sprint(rd.Exhausted) })
		row("active", func(rd IRVRound) string { return fmt.Sprint(rd.Active) })
		row("outcome", func(rd IRVRound) string { return outcome(names, rd.Elected, rd.Excluded, rd.TieBreak) })
		fmt.Fprintf(w, "winner\t%s\t\n", name(names, r.Winner))
	})
}

func outcome(names []string, elected, excluded []int, tb *TieBreak) string {
	var parts []string
	for _, c := range elected {
		parts = append(parts, "elected "+name(names, c))
	}
	for _, c := range excluded {
		parts = append(parts, "excluded "+name(names, c))
	}
	if tb != nil {
		how := "lot"
		if tb.Rule == "earlier-stage" {
			how = fmt.Sprintf("stage %d", tb.Stage)
		}
		parts = append(parts, "(tie: "+how+")")
	}
	return strings.Join(parts, " ")
}

// Text renders the record as a plain-text table for display: the quota,
// one row per candidate with its votes at the end of each stage, what each
// stage did (first preferences, whose surplus at which transfer values,
// whose exclusion), the non-transferable value and the loss of each stage,
// who was elected, and the elected in order.
func (r *STVResult) Text(names []string) string {
	return fmt.Sprintf("quota %v, %d seats, %d valid papers\n", r.Quota, r.Seats, r.Ballots) + table(func(w *tabwriter.Writer) {
		fmt.Fprint(w, "\t")
		for _, s := range r.Stages {
			fmt.Fprintf(w, "stage %d\t", s.Stage)
		}
		fmt.Fprintln(w)
		fmt.Fprint(w, "\t")
		for _, s := range r.Stages {
			switch s.Kind {
			case "surplus":
				var tvs []string
				for _, g := range s.TransferValues {
					tvs = append(tvs, g.Value.String())
				}
				fmt.Fprintf(w, "surplus %s at %s\t", name(names, s.From), strings.Join(tvs, "/"))
			case "exclusion":
				fmt.Fprintf(w, "exclude %s\t", name(names, s.From))
			default:
				fmt.Fprint(w, "first preferences\t")
			}
		}
		fmt.Fprintln(w)
		for c := range r.Candidates {
			fmt.Fprintf(w, "%s\t", name(names, c))
			for _, s := range r.Stages {
				fmt.Fprintf(w, "%v\t", s.Votes[c])
			}
			fmt.Fprintln(w)
		}
		fmt.Fprint(w, "non-transferable\t")
		for _, s := range r.Stages {
			fmt.Fprintf(w, "%v\t", s.NonTransferable)
		}
		fmt.Fprint(w, "\nloss\t")
		for _, s := range r.Stages {
			fmt.Fprintf(w, "%v\t", s.Loss)
		}
		fmt.Fprint(w, "\noutcome\t")
		for _, s := range r.Stages {
			fmt.Fprintf(w, "%s\t", outcome(names, slices.Concat(s.Elected, s.LastVacancies), nil, s.TieBreak))
		}
		fmt.Fprint(w, "\nelected\t")
		for _, c := range r.Elected {
			fmt.Fprintf(w, "%s\t", name(names, c))
		}
		fmt.Fprintln(w)
	})
}

// Text renders the record for display: the matrices d and p (row beats
// column) and the order, tied candidates joined by "=".
func (r *SchulzeResult) Text(names []string) string {
	matrix := func(title string, m [][]int64) string {
		return table(func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "%s\t", title)
			for j := range r.Candidates {
				fmt.Fprintf(w, "%s\t", name(names, j))
			}
			fmt.Fprintln(w)
			for i := range r.Candidates {
				fmt.Fprintf(w, "%s\t", name(names, i))
				for j := range r.Candidates {
					if i == j {
						fmt.Fprint(w, "-\t")
					} else {
						fmt.Fprintf(w, "%d\t", m[i][j])
					}
				}
				fmt.Fprintln(w)
			}
		})
	}
	return matrix("d", r.D) + matrix("p", r.P) + "order " + classes(names, r.Classes) + "\n"
}

func classes(names []string, cs [][]int) string {
	var parts []string
	for _, class := range cs {
		var ns []string
		for _, c := range class {
			ns = append(ns, name(names, c))
		}
		parts = append(parts, strings.Join(ns, " = "))
	}
	return strings.Join(parts, " > ")
}

// Text renders the record for display: each candidate's grade profile and
// majority grade, and the order, tied candidates joined by "=".
func (r *MJResult) Text(names []string) string {
	return table(func(w *tabwriter.Writer) {
		fmt.Fprint(w, "\t")
		for _, g := range r.Grades {
			fmt.Fprintf(w, "%s\t", g)
		}
		fmt.Fprintln(w, "majority grade\t")
		for c := range r.Candidates {
			fmt.Fprintf(w, "%s\t", name(names, c))
			for _, n := range r.Profile[c] {
				fmt.Fprintf(w, "%d\t", n)
			}
			mg := "-"
			if g := r.MajorityGrade[c]; g >= 0 {
				mg = r.Grades[g]
			}
			fmt.Fprintf(w, "%s\t\n", mg)
		}
	}) + "order " + classes(names, r.Classes) + "\n"
}
