package data

import (
	"path/filepath"
	"testing"

	"github.com/tailorhq/tailor/build/replay/data/datatest"
)

// TestRealFiles checks the readers against the counts the datasets'
// README states.
func TestRealFiles(t *testing.T) {
	dir := datatest.Dir(t)
	tests := []struct {
		path                    string
		clicks, sessions, items int
		format                  Format
		clock                   bool
	}{
		{"yoochoose-100k/train_full.txt", 70278, 17794, 2933, FormatYoochoose, true},
		{"diginetica-sample/train-item-views.csv", 12391, 2986, 7139, FormatDiginetica, false},
		// SR-GNN's split: made-up times that only order the clicks. (The
		// README's 17,745 items count the test half too.)
		{"yoochoose1-64/train_full.txt", 486026, 116167, 17376, FormatYoochoose, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			ds, err := Read(filepath.Join(dir, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != tc.format || ds.Clicks != tc.clicks || len(ds.Sessions) != tc.sessions || ds.Items != tc.items {
				t.Errorf("%v: %d clicks, %d sessions, %d items; want %v: %d, %d, %d",
					ds.Format, ds.Clicks, len(ds.Sessions), ds.Items, tc.format, tc.clicks, tc.sessions, tc.items)
			}
			if ds.HasClock != tc.clock {
				t.Errorf("HasClock %v, want %v", ds.HasClock, tc.clock)
			}
			for i := 1; i < len(ds.Sessions); i++ {
				if ds.Sessions[i].Clicks[0].At < ds.Sessions[i-1].Clicks[0].At {
					t.Fatalf("session %d starts before session %d", i, i-1)
				}
			}
			for _, s := range ds.Sessions {
				for j := 1; j < len(s.Clicks); j++ {
					if s.Clicks[j].At < s.Clicks[j-1].At {
						t.Fatalf("session %s: click %d before click %d", s.ID, j, j-1)
					}
				}
			}
		})
	}
}

func TestRealCategories(t *testing.T) {
	dir := datatest.Dir(t)
	cats, err := ReadCategories(filepath.Join(dir, "diginetica-sample/product-categories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	distinct := make(map[string]bool)
	for _, c := range cats {
		distinct[c] = true
	}
	if len(cats) != 184047 || len(distinct) != 1217 {
		t.Errorf("%d items in %d categories, want 184047 in 1217", len(cats), len(distinct))
	}
	ds, err := Read(filepath.Join(dir, "diginetica-sample/train-item-views.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ds.Sessions {
		for _, c := range s.Clicks {
			if _, ok := cats[c.Item]; !ok {
				t.Fatalf("item %s has no category", c.Item)
			}
		}
	}
}
