package count_test

import (
	"fmt"

	"github.com/evote/evote/count"
)

// The caller checks each decrypted ballot, counts the invalid ones by
// reason, and counts the valid ones. Six valid papers for two seats: quota
// floor(6/3) + 1 = 3; candidate 0 has exactly the quota (no surplus);
// candidate 2 is excluded and its paper is non-transferable; candidate 1 is
// left for the last vacancy (rule 52).
func ExampleSTV() {
	decrypted := []count.Ranks{
		{1, 2, 0}, {1, 0, 2}, {2, 1, 0}, {0, 1, 0}, {0, 0, 1},
		{1, 1, 0}, // two first preferences: invalid
		{1, 3, 0}, // a gap: counts as {1}
	}
	var valid []count.Ranking
	invalid := map[count.Reason]int{}
	for _, b := range decrypted {
		r, err := count.STVBallot(b, 3)
		if err != nil {
			invalid[count.ReasonOf(err)]++
			continue
		}
		valid = append(valid, r)
	}
	res, err := count.STV(3, 2, valid, count.LotFromSeed([]byte("published seed"), 3))
	if err != nil {
		panic(err)
	}
	fmt.Println("invalid:", invalid)
	fmt.Println("quota:", res.Quota)
	for _, s := range res.Stages {
		fmt.Println(s.Stage, s.Kind, s.From, s.Votes, "elected", s.Elected, s.LastVacancies)
	}
	fmt.Println("elected:", res.Elected)
	// Output:
	// invalid: map[repeated-first-preference:1]
	// quota: 3.00000
	// 1 first-preferences -1 [3.00000 2.00000 1.00000] elected [0] []
	// 2 exclusion 2 [3.00000 2.00000 0.00000] elected [] [1]
	// elected: [0 1]
}
