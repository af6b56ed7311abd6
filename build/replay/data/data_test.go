package data

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to a file in a fresh temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// summary is a dataset as "id:item@ms item@ms | id:..." for comparisons.
func summary(ds *Dataset) string {
	var b strings.Builder
	for i, s := range ds.Sessions {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(s.ID + ":")
		for j, c := range s.Clicks {
			if j > 0 {
				b.WriteString(" ")
			}
			b.WriteString(c.Item + "@" + strconv.FormatInt(c.At, 10))
		}
	}
	return b.String()
}

func TestReadYoochoose(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "sessions ordered by first click, clicks by time",
			in:   "SessionId\tItemId\tTime\n2\tb\t20.5\n1\ta\t10\n1\tc\t30.0004\n1\tb\t5\n",
			want: "1:b@5000 a@10000 c@30000 | 2:b@20500",
		},
		{
			name: "no trailing newline",
			in:   "SessionId\tItemId\tTime\n7\tx\t1.25",
			want: "7:x@1250",
		},
		{
			name: "CRLF and trailing blank lines",
			in:   "SessionId\tItemId\tTime\r\n7\tx\t1\r\n7\ty\t2\r\n\r\n\n",
			want: "7:x@1000 y@2000",
		},
		{
			name: "columns in another order",
			in:   "Time\tItemId\tSessionId\n3\tq\tS\n",
			want: "S:q@3000",
		},
		{
			name: "ties keep file order",
			in:   "SessionId\tItemId\tTime\nB\tx\t1\nA\ty\t1\nB\tz\t1\n",
			want: "B:x@1000 z@1000 | A:y@1000",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Read(writeFile(t, "clicks.txt", tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if ds.Format != FormatYoochoose || !ds.HasClock || ds.ClockOffset != 2*time.Hour {
				t.Errorf("format %v clock %v offset %v", ds.Format, ds.HasClock, ds.ClockOffset)
			}
			if got := summary(ds); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSyntheticClock(t *testing.T) {
	const head = "SessionId\tItemId\tTime\n"
	tests := []struct {
		name  string
		in    string
		clock bool
	}{
		{"SR-GNN's made-up times: hours apart, clicks one second apart", head + "1\ta\t1000\n1\tb\t1001\n2\tc\t4600\n2\ta\t4601\n2\tb\t4602\n", false},
		{"a gap of two seconds is a real clock", head + "1\ta\t3600\n1\tb\t3602\n", true},
		{"a session starting off the hour is a real clock", head + "1\ta\t3600\n1\tb\t3601\n2\tc\t7230\n2\ta\t7231\n", true},
		{"single clicks say nothing: a clock", head + "1\ta\t3600\n2\tb\t7200\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Read(writeFile(t, "clicks.txt", tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if ds.HasClock != tc.clock {
				t.Errorf("HasClock %v, want %v", ds.HasClock, tc.clock)
			}
			if want := map[bool]time.Duration{true: YoochooseClockOffset}[tc.clock]; ds.ClockOffset != want {
				t.Errorf("ClockOffset %v, want %v", ds.ClockOffset, want)
			}
		})
	}
}

func TestReadDiginetica(t *testing.T) {
	const header = "session_id;user_id;item_id;timeframe;eventdate\n"
	d1 := time.Date(2016, 5, 9, 0, 0, 0, 0, time.UTC).UnixMilli()
	ds, err := Read(writeFile(t, "views.csv", header+
		"2;NA;c;500;2016-05-10\n"+
		"1;NA;b;2000;2016-05-09\n"+
		"1;NA;a;1000;2016-05-09\n"+
		"3;7;x;86399000;2016-05-09\n"+
		"3;7;y;100;2016-05-10")) // crosses midnight: raised to stay monotone
	if err != nil {
		t.Fatal(err)
	}
	if ds.Format != FormatDiginetica || ds.HasClock {
		t.Errorf("format %v clock %v", ds.Format, ds.HasClock)
	}
	if ds.Clicks != 5 || ds.Items != 5 || len(ds.Sessions) != 3 {
		t.Errorf("clicks %d items %d sessions %d", ds.Clicks, ds.Items, len(ds.Sessions))
	}
	want := []Session{
		{ID: "1", Clicks: []Click{{"a", d1 + 1000}, {"b", d1 + 2000}}},
		{ID: "3", Clicks: []Click{{"x", d1 + 86399000}, {"y", d1 + 86400000 + 100}}},
		{ID: "2", Clicks: []Click{{"c", d1 + 86400000 + 500}}},
	}
	if !reflect.DeepEqual(ds.Sessions, want) {
		t.Errorf("got %+v\nwant %+v", ds.Sessions, want)
	}
}

func TestDigineticaMonotone(t *testing.T) {
	// Same session, next date but a smaller timeframe than the previous
	// day's last click plus a day: At must not go back.
	ds, err := Parse(strings.NewReader("session_id;user_id;item_id;timeframe;eventdate\n"+
		"1;NA;a;90000000;2016-05-09\n1;NA;b;1000;2016-05-10\n"), "v.csv")
	if err != nil {
		t.Fatal(err)
	}
	c := ds.Sessions[0].Clicks
	if c[0].Item != "a" || c[1].Item != "b" || c[1].At < c[0].At {
		t.Errorf("clicks %+v", c)
	}
}

func TestReadErrors(t *testing.T) {
	const yc = "SessionId\tItemId\tTime\n"
	const dg = "session_id;user_id;item_id;timeframe;eventdate\n"
	tests := []struct {
		name, in string
		want     error
		where    string // "file:line" expected in the message
	}{
		{"empty file", "", ErrEmpty, "f.txt"},
		{"header only", yc, ErrEmpty, "f.txt:1"},
		{"unknown header", "a,b,c\n1,2,3\n", ErrHeader, "f.txt:1"},
		{"raw yoochoose clicks have no header", "1,2014-04-07T10:51:09.277Z,214536502,0\n", ErrHeader, "f.txt:1"},
		{"too few fields", yc + "1\ta\t1\n2\tb\n", ErrRow, "f.txt:3"},
		{"bad time", yc + "1\ta\tnoon\n", ErrRow, "f.txt:2"},
		{"negative time", yc + "1\ta\t-5\n", ErrRow, "f.txt:2"},
		{"NaN time", yc + "1\ta\tNaN\n", ErrRow, "f.txt:2"},
		{"empty item", yc + "1\t\t5\n", ErrRow, "f.txt:2"},
		{"blank line inside", yc + "1\ta\t1\n\n1\tb\t2\n", ErrRow, "f.txt:3"},
		{"bad date", dg + "1;NA;a;5;09/05/2016\n", ErrRow, "f.txt:2"},
		{"bad timeframe", dg + "1;NA;a;5;2016-05-09\n1;NA;a;x;2016-05-09\n", ErrRow, "f.txt:3"},
		{"wrong separator", dg + "1,NA,a,5,2016-05-09\n", ErrRow, "f.txt:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), "f.txt")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.where+":") && !strings.HasPrefix(err.Error(), tc.where+" ") {
				t.Errorf("err = %q, want it to start with %q", err, tc.where)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), "nope.txt"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func TestCategories(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
		err      error
	}{
		{"ok", "itemId;categoryId\n1;10\n2;10\n3;11", map[string]string{"1": "10", "2": "10", "3": "11"}, nil},
		{"repeat agrees", "itemId;categoryId\n1;10\n1;10\n", map[string]string{"1": "10"}, nil},
		{"conflict", "itemId;categoryId\n1;10\n1;11\n", nil, ErrRow},
		{"header", "item;cat\n1;10\n", nil, ErrHeader},
		{"fields", "itemId;categoryId\n1;10;x\n", nil, ErrRow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCategories(strings.NewReader(tc.in), "c.csv")
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoadWithCategories(t *testing.T) {
	clicks := writeFile(t, "v.csv", "session_id;user_id;item_id;timeframe;eventdate\n1;NA;a;1;2016-01-01\n")
	cats := writeFile(t, "c.csv", "itemId;categoryId\na;5\n")
	ds, err := Load(clicks, cats)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Categories["a"] != "5" {
		t.Errorf("categories %v", ds.Categories)
	}
	if _, err := Load(clicks, cats+".missing"); err == nil {
		t.Error("missing categories file: no error")
	}
}

func TestHourOfDay(t *testing.T) {
	tests := []struct {
		at     int64
		offset time.Duration
		want   int
	}{
		{0, 0, 0},
		{time.Date(2014, 4, 1, 22, 30, 0, 0, time.UTC).UnixMilli(), 2 * time.Hour, 0},
		{time.Date(2014, 4, 1, 9, 59, 0, 0, time.UTC).UnixMilli(), 2 * time.Hour, 11},
		{-1, 0, 23},
	}
	for _, tc := range tests {
		if got := HourOfDay(tc.at, tc.offset); got != tc.want {
			t.Errorf("HourOfDay(%d, %v) = %d, want %d", tc.at, tc.offset, got, tc.want)
		}
	}
}

func TestSplitLastDays(t *testing.T) {
	h := int64(time.Hour / time.Millisecond)
	base := time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	s := func(id string, at ...int64) Session {
		var c []Click
		for _, a := range at {
			c = append(c, Click{Item: "i", At: base + a})
		}
		return Session{ID: id, Clicks: c}
	}
	sessions := []Session{
		s("old", 0, 1*h),
		s("spans", 20*h, 40*h), // last click within 24 h of the end, on the day before
		s("new", 60*h, 61*h),
	}
	tests := []struct {
		name      string
		days      int
		calendar  bool
		wantTrain []string
		wantTest  []string
	}{
		{"rolling day", 1, false, []string{"old"}, []string{"spans", "new"}},
		{"calendar day", 1, true, []string{"old", "spans"}, []string{"new"}},
		{"two calendar days", 2, true, []string{"old"}, []string{"spans", "new"}},
		{"off", 0, false, []string{"old", "spans", "new"}, nil},
	}
	ids := func(ss []Session) (out []string) {
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, test, _ := SplitLastDays(sessions, tc.days, tc.calendar)
			if !reflect.DeepEqual(ids(train), tc.wantTrain) || !reflect.DeepEqual(ids(test), tc.wantTest) {
				t.Errorf("train %v test %v", ids(train), ids(test))
			}
		})
	}
}

func TestFilterItemSupport(t *testing.T) {
	mk := func(id string, items ...string) Session {
		var c []Click
		for i, it := range items {
			c = append(c, Click{Item: it, At: int64(i)})
		}
		return Session{ID: id, Clicks: c}
	}
	in := []Session{
		mk("1", "a", "b", "rare"),
		mk("2", "a", "b"),
		mk("3", "a"),          // single click: dropped first, its "a" not counted
		mk("4", "rare2", "a"), // left with one click: dropped
	}
	got := FilterItemSupport(in, 2)
	want := []Session{mk("1", "a", "b"), mk("2", "a", "b")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if len(in[0].Clicks) != 3 {
		t.Error("input modified")
	}
}
