package data_test

import (
	"fmt"
	"strings"

	"github.com/tailorhq/tailor/build/replay/data"
)

// Parse tells the format from the header and returns sessions in time
// order, timestamps in Unix milliseconds.
func ExampleParse() {
	in := "SessionId\tItemId\tTime\n" +
		"9\t214536502\t1396839069.277\n" +
		"9\t214536500\t1396839249.868\n" +
		"4\t214718203\t1396796300.5\n"
	ds, err := data.Parse(strings.NewReader(in), "clicks.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range ds.Sessions {
		fmt.Println(s.ID, s.Clicks)
	}
	fmt.Println(ds.Format, ds.Clicks, "clicks", ds.Items, "items; hour of first click:",
		data.HourOfDay(ds.Sessions[0].Clicks[0].At, ds.ClockOffset))
	// Output:
	// 4 [{214718203 1396796300500}]
	// 9 [{214536502 1396839069277} {214536500 1396839249868}]
	// yoochoose 3 clicks 3 items; hour of first click: 16
}

// Errors name the file and line.
func ExampleParse_error() {
	_, err := data.Parse(strings.NewReader("SessionId\tItemId\tTime\n1\ta\tyesterday\n"), "clicks.txt")
	fmt.Println(err)
	// Output:
	// clicks.txt:2: data: malformed row: Time "yesterday" is not Unix seconds
}
