package report_test

import (
	"os"
	"time"

	"github.com/tailorhq/tailor/build/replay/report"
)

func ExampleWriteMarkdown() {
	results := []report.Result{
		{
			Method: "POP", Mode: report.ModeCentral, Ks: []int{20},
			HR: []float64{0.0899}, MRR: []float64{0.0176}, Coverage: 0.007, Diversity: 0.0001,
			DiversityKind: "distinct-share@20", EvalTime: 20 * time.Millisecond,
		},
		{
			Method: "tailor", Mode: report.ModeLDP, Epsilon: report.Float(4), Ks: []int{20},
			HR: []float64{0.61}, MRR: []float64{0.33}, Coverage: 0.8, Diversity: 0.02,
			DiversityKind: "distinct-share@20", BytesSynced: report.Float(1800), ModelBytes: report.Float(64000),
			FitTime: 90 * time.Second, EvalTime: 30 * time.Second,
		},
	}
	report.WriteMarkdown(os.Stdout, report.Meta{}, results)
	// Output:
	// | method | mode | HR@20 | MRR@20 | coverage@20 | diversity | bytes synced / device | model bytes / device | run time |
	// | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	// | POP | central | 0.0899 | 0.0176 | 0.0070 | 0.0001 |  |  | 0.02 s |
	// | tailor | ldp ε=4 | 0.6100 | 0.3300 | 0.8000 | 0.0200 | 1,800 | 64,000 | 120.0 s |
	//
	// - HR@k: share of predictions whose true next click is in the top k; MRR@k: mean of 1/rank (0 beyond k). ± is the 95% confidence half-width at k = 20, sessions as clusters.
	// - coverage@20: share of training items that appear in at least one top-20 list.
	// - diversity (distinct-share@20): distinct items among all recommended slots of all top-20 lists (no categories).
	// - run time: fit plus evaluation, wall clock.
}
