package count

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

type vectorFile struct {
	Cases []struct {
		ID         string   `json:"id"`
		Comment    string   `json:"comment"`
		Method     string   `json:"method"`
		Candidates int      `json:"candidates"`
		Seats      int      `json:"seats"`
		Grades     []string `json:"grades"`
		Lot        Lot      `json:"lot"`
		Ballots    []struct {
			N       int     `json:"n"`
			Ranking Ranking `json:"ranking"`
			Ranks   Ranks   `json:"ranks"`
			Grades  Grades  `json:"grades"`
		} `json:"ballots"`
		Expect struct {
			Elected         []int  `json:"elected"`
			Order           []int  `json:"order"`
			Rounds          int    `json:"rounds"`
			Quota           *Value `json:"quota"`
			NonTransferable *Value `json:"non_transferable"`
			Loss            *Value `json:"loss"`
		} `json:"expect"`
	} `json:"cases"`
	BallotChecks []struct {
		ID          string `json:"id"`
		Check       string `json:"check"`
		Candidates  int    `json:"candidates"`
		GradesCount int    `json:"grades_count"`
		Ranks       Ranks  `json:"ranks"`
		Grades      Grades `json:"grades"`
		Expect      struct {
			Reason  Reason  `json:"reason"`
			Ranking Ranking `json:"ranking"`
		} `json:"expect"`
	} `json:"ballot_checks"`
}

// TestVectors runs testdata/count.json, the vectors an independent counter
// can check itself against.
func TestVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/count.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatal(err)
	}
	if len(vf.Cases) == 0 || len(vf.BallotChecks) == 0 {
		t.Fatal("no vectors")
	}
	for _, c := range vf.Cases {
		t.Run(c.ID, func(t *testing.T) {
			var rk []Ranking
			var rs []Ranks
			var gs []Grades
			for _, g := range c.Ballots {
				for range g.N {
					rk = append(rk, g.Ranking)
					rs = append(rs, g.Ranks)
					gs = append(gs, g.Grades)
				}
			}
			e := c.Expect
			switch c.Method {
			case "irv":
				res, err := IRV(c.Candidates, rk, c.Lot)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal([]int{res.Winner}, e.Elected) || len(res.Rounds) != e.Rounds {
					t.Errorf("winner %d in %d rounds, want %v in %d", res.Winner, len(res.Rounds), e.Elected, e.Rounds)
				}
			case "stv":
				res, err := STV(c.Candidates, c.Seats, rk, c.Lot)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.Elected, e.Elected) || len(res.Stages) != e.Rounds {
					t.Errorf("elected %v in %d stages, want %v in %d", res.Elected, len(res.Stages), e.Elected, e.Rounds)
				}
				if res.Quota != *e.Quota || res.NonTransferable != *e.NonTransferable || res.Loss != *e.Loss {
					t.Errorf("quota %v non-transferable %v loss %v", res.Quota, res.NonTransferable, res.Loss)
				}
				checkSTVInvariants(t, res)
			case "schulze":
				res, err := Schulze(c.Candidates, rs, c.Lot)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.Order, e.Order) {
					t.Errorf("order %v, want %v", res.Order, e.Order)
				}
			case "mj":
				res, err := MajorityJudgment(c.Grades, c.Candidates, gs, c.Lot)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.Order, e.Order) {
					t.Errorf("order %v, want %v", res.Order, e.Order)
				}
			default:
				t.Fatalf("unknown method %q", c.Method)
			}
		})
	}
	for _, c := range vf.BallotChecks {
		t.Run("ballot/"+c.ID, func(t *testing.T) {
			var got Ranking
			var err error
			switch c.Check {
			case "irv":
				got, err = IRVBallot(c.Ranks, c.Candidates)
			case "stv":
				got, err = STVBallot(c.Ranks, c.Candidates)
			case "schulze":
				err = SchulzeBallot(c.Ranks, c.Candidates)
			case "mj":
				err = MJBallot(c.Grades, c.Candidates, c.GradesCount)
			default:
				t.Fatalf("unknown check %q", c.Check)
			}
			if ReasonOf(err) != c.Expect.Reason || (err != nil) != (c.Expect.Reason != "") {
				t.Errorf("reason %q (%v), want %q", ReasonOf(err), err, c.Expect.Reason)
			}
			if !slices.Equal(got, c.Expect.Ranking) {
				t.Errorf("ranking %v, want %v", got, c.Expect.Ranking)
			}
		})
	}
}

// The fuzz targets start from the vectors' ballots too.
func seedFromVectors(f *testing.F, add func(r []int)) {
	data, err := os.ReadFile("testdata/count.json")
	if err != nil {
		f.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		f.Fatal(err)
	}
	for _, c := range vf.BallotChecks {
		add(append(append([]int(nil), c.Ranks...), c.Grades...))
	}
}
