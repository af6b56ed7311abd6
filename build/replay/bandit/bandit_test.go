package bandit

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestIPS(t *testing.T) {
	// Four items, uniform logging (p = 1/4); item 2 is always clicked.
	var rows []Row
	for i := 0; i < 400; i++ {
		item := i % 4
		rows = append(rows, Row{Item: item, Position: 1, Click: item == 2, Propensity: 0.25})
	}
	always2, err := IPS(rows, func(*Row) (int, error) { return 2, nil })
	if err != nil {
		t.Fatal(err)
	}
	if always2.Matched != 100 || always2.Clicks != 100 || math.Abs(always2.CTR-1) > 1e-9 {
		t.Errorf("always-2 policy: %+v, want CTR 1 over 100 matches", always2)
	}
	never, _ := IPS(rows, func(*Row) (int, error) { return 0, nil })
	if never.CTR != 0 || never.Low != 0 || !(never.High > 0 && never.High < 0.2) {
		t.Errorf("never-clicked policy: %+v, want CTR 0 with an upper bound above 0", never)
	}
	logged := Logged(rows)
	if math.Abs(logged.CTR-0.25) > 1e-9 || !(logged.Low < 0.25 && logged.High > 0.25) {
		t.Errorf("logged: %+v, want 0.25 inside its interval", logged)
	}
	rows[3].Propensity = 0.5
	if _, err := IPS(rows, func(*Row) (int, error) { return 2, nil }); err == nil {
		t.Error("IPS accepted a log with unequal propensities")
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	good := ",timestamp,item_id,position,click,propensity_score,user_feature_0,user-item_affinity_0,user-item_affinity_1\n" +
		"0,2019-11-24 00:03:13.442536+00:00,1,3,0,0.5,abc,0.0,1.0\n1,2019-11-24 00:04:13.442536+00:00,0,1,1,0.5,def,2.0,0.0\n"
	path := filepath.Join(dir, "log.csv")
	os.WriteFile(path, []byte(good), 0o644)
	rows, err := Read(path)
	if err != nil || len(rows) != 2 || !rows[1].Click || rows[1].Affinity[0] != 2 || rows[0].User[0] != "abc" {
		t.Fatalf("Read = %+v, %v", rows, err)
	}
	os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644)
	if _, err := Read(path); err == nil {
		t.Error("Read accepted a file without the log's columns")
	}
}
