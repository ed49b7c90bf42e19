package count

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	ballots := expand([]group[Ranking]{
		{10, letters("ABC")}, {2, letters("AC")}, {1, letters("A")},
		{4, letters("BD")}, {3, letters("CD")}, {1, letters("DC")},
	})
	names := []string{"Ann", "Ben", "Cat", "Dan"}
	s, err := STV(4, 3, ballots, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := s.Text(names)
	for _, want := range []string{"quota 6.00000", "surplus Ben at 0.36065/0.19419", "6.01882", "elected Cat", "0.00010"} {
		if !strings.Contains(out, want) {
			t.Errorf("STV text lacks %q:\n%s", want, out)
		}
	}
	i, _ := IRV(4, ballots, nil)
	if out := i.Text(names); !strings.Contains(out, "elected Ann") || !strings.Contains(out, "winner") {
		t.Errorf("IRV text:\n%s", out)
	}
	z, _ := Schulze(3, []Ranks{{1, 1, 2}}, nil)
	if out := z.Text(nil); !strings.Contains(out, "order #0 = #1 > #2") {
		t.Errorf("Schulze text:\n%s", out)
	}
	m, _ := MajorityJudgment([]string{"Good", "Bad"}, 2, []Grades{{0, 1}}, nil)
	if out := m.Text(names); !strings.Contains(out, "order Ann > Ben") {
		t.Errorf("MJ text:\n%s", out)
	}
	t.Log("\n" + s.Text(names) + "\n" + z.Text(nil) + "\n" + m.Text(names))
}
