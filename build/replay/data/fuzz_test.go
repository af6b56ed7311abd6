package data

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the format-detecting reader: it must
// return a dataset or an error, never panic, and a dataset it returns must
// hold what the package promises.
func FuzzParse(f *testing.F) {
	f.Add("SessionId\tItemId\tTime\n1\ta\t1.5\n1\tb\t2\n")
	f.Add("SessionId\tItemId\tTime\n1\ta\t1e10\n\n\n")
	f.Add("session_id;user_id;item_id;timeframe;eventdate\n1;NA;a;5;2016-05-09\n1;NA;b;0;2016-05-10")
	f.Add("session_id;user_id;item_id;timeframe;eventdate\n1;NA;a;99999999999;2016-05-09\n")
	f.Add("itemId;categoryId\n1;2\n")
	f.Add("\n\n\nSessionId\tItemId\tTime\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := Parse(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Errorf("error without the file name: %v", err)
			}
			return
		}
		n := 0
		for i, s := range ds.Sessions {
			if len(s.Clicks) == 0 {
				t.Fatal("empty session")
			}
			if i > 0 && s.Clicks[0].At < ds.Sessions[i-1].Clicks[0].At {
				t.Fatal("sessions out of order")
			}
			for j := 1; j < len(s.Clicks); j++ {
				if s.Clicks[j].At < s.Clicks[j-1].At {
					t.Fatal("clicks out of order")
				}
			}
			n += len(s.Clicks)
		}
		if n != ds.Clicks {
			t.Fatalf("Clicks = %d, sessions hold %d", ds.Clicks, n)
		}
		_, _ = ParseCategories(strings.NewReader(in), "fuzz")
	})
}
