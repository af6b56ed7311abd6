// Package data reads the session clickstreams the replay benchmark runs on:
// YOOCHOOSE (tab-separated `SessionId ItemId Time`, as prepared by
// session-rec) and DIGINETICA (`;`-separated
// `session_id;user_id;item_id;timeframe;eventdate`, as shipped with
// SR-GNN), plus DIGINETICA's `itemId;categoryId` file. The format is told
// from the header line, never from the file name, so any split of either
// dataset (train, valid, test, or a file made by hand) reads the same way.
//
//	ds, err := data.Read("../shared/datasets/yoochoose-100k/train_tr.txt")
//	for _, s := range ds.Sessions { ... s.Clicks[i].Item, s.Clicks[i].At ... }
//
// Every reader returns sessions in time order (by first click), each with
// its clicks in time order and timestamps in Unix milliseconds. Malformed
// input is an error naming the file and line, wrapping ErrHeader or ErrRow.
//
// # Notes
//
// A Dataset is plain data: safe to share between goroutines once read, not
// to mutate concurrently. The readers hold the whole file in memory (the
// public samples are a few MB).
package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Errors of the readers, wrapped as "path:line: <err>: detail".
var (
	ErrHeader = errors.New("data: unrecognised header")
	ErrRow    = errors.New("data: malformed row")
	ErrEmpty  = errors.New("data: no rows")
)

// Format is a clickstream file format.
type Format int

// The formats Read recognises.
const (
	FormatUnknown    Format = iota
	FormatYoochoose         // SessionId<TAB>ItemId<TAB>Time (Unix seconds)
	FormatDiginetica        // session_id;user_id;item_id;timeframe;eventdate
)

func (f Format) String() string {
	switch f {
	case FormatYoochoose:
		return "yoochoose"
	case FormatDiginetica:
		return "diginetica"
	}
	return "unknown"
}

// YoochooseClockOffset is what YOOCHOOSE times need added before a time of
// day is read from them: session-rec's files are about two hours behind
// UTC (../shared/datasets/README.md), and the shoppers were in UTC+2.
const YoochooseClockOffset = 2 * time.Hour

// Click is one click of a session.
type Click struct {
	Item string
	At   int64 // Unix milliseconds; see Dataset.HasClock
}

// Session is one visitor session: its clicks in time order.
type Session struct {
	ID     string
	Clicks []Click
}

// NewSession returns a session of items clicked in that order, one second
// apart from the Unix epoch: the hand-made sessions of the replay's
// examples and tests.
func NewSession(id string, items ...string) Session {
	s := Session{ID: id, Clicks: make([]Click, len(items))}
	for i, it := range items {
		s.Clicks[i] = Click{Item: it, At: int64(i) * 1000}
	}
	return s
}

// Dataset is one clickstream file.
type Dataset struct {
	Format   Format
	Sessions []Session // in order of first click; ties in file order
	Clicks   int
	Items    int // distinct item ids

	// HasClock tells whether At is a real clock time. DIGINETICA has no
	// clock: At is the event's date (midnight UTC) plus timeframe, the
	// milliseconds since the session's first event, made monotone within
	// each session. It orders clicks but says nothing about time of day.
	// Nor do the made-up times of SR-GNN's YOOCHOOSE split (sessions on
	// whole hours, clicks one second apart), which Read detects.
	HasClock bool
	// ClockOffset is added to At before reading a time of day from it
	// (YoochooseClockOffset for YOOCHOOSE with a clock, 0 otherwise).
	ClockOffset time.Duration

	// Categories maps item id to category id when a categories file was
	// read with Load; nil otherwise.
	Categories map[string]string
}

// HourOfDay is the hour (0-23) of the wall clock at Unix millisecond at,
// after adding offset: the context the time-of-day segment rules use.
func HourOfDay(at int64, offset time.Duration) int {
	ms := at + offset.Milliseconds()
	h := (ms / int64(time.Hour/time.Millisecond)) % 24
	if ms%int64(time.Hour/time.Millisecond) < 0 {
		h-- // division truncates toward zero; we want the floor
	}
	if h < 0 {
		h += 24
	}
	return int(h)
}

// Read reads a clickstream file in either format, detected from its header.
func Read(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Load reads a clickstream file and, when categoriesPath is not empty, its
// item→category file into Dataset.Categories.
func Load(path, categoriesPath string) (*Dataset, error) {
	ds, err := Read(path)
	if err != nil {
		return nil, err
	}
	if categoriesPath != "" {
		if ds.Categories, err = ReadCategories(categoriesPath); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// Parse reads a clickstream in either format from r; name labels errors.
func Parse(r io.Reader, name string) (*Dataset, error) {
	lr := newLineReader(r, name)
	header, err := lr.header()
	if err != nil {
		return nil, err
	}
	if cols, ok := yoochooseColumns(header); ok {
		return parseYoochoose(lr, cols)
	}
	if cols, ok := digineticaColumns(header); ok {
		return parseDiginetica(lr, cols)
	}
	return nil, lr.errorf(ErrHeader, "%q: want YOOCHOOSE %q or DIGINETICA %q",
		clip(header), "SessionId\tItemId\tTime", "session_id;user_id;item_id;timeframe;eventdate")
}

// lineReader yields the lines of a file with their numbers. It tolerates a
// missing or doubled final newline and CRLF endings; a blank line followed
// by more data is an error.
type lineReader struct {
	sc    *bufio.Scanner
	name  string
	line  int
	blank int // number of the first blank line not yet followed by data
}

func newLineReader(r io.Reader, name string) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &lineReader{sc: sc, name: name}
}

// next returns the next non-blank line; ok is false at the end of input.
func (lr *lineReader) next() (line string, ok bool, err error) {
	for lr.sc.Scan() {
		lr.line++
		s := strings.TrimSuffix(lr.sc.Text(), "\r")
		if strings.TrimSpace(s) == "" {
			if lr.blank == 0 {
				lr.blank = lr.line
			}
			continue
		}
		if lr.blank != 0 {
			return "", false, fmt.Errorf("%s:%d: %w: blank line inside the data", lr.name, lr.blank, ErrRow)
		}
		return s, true, nil
	}
	if err := lr.sc.Err(); err != nil {
		return "", false, fmt.Errorf("%s:%d: %w", lr.name, lr.line+1, err)
	}
	return "", false, nil
}

// header returns the first line; a file without one is ErrEmpty.
func (lr *lineReader) header() (string, error) {
	line, ok, err := lr.next()
	if err == nil && !ok {
		err = fmt.Errorf("%s: %w", lr.name, ErrEmpty)
	}
	return line, err
}

// rows reads the remaining lines, each split at sep into exactly n
// fields, and calls fn with the fields and, trimmed, the two at a and b,
// which every row must have (names says which, for messages). It stops at
// the first error, fn's included; no rows at all is ErrEmpty.
func (lr *lineReader) rows(sep string, n, a, b int, names string, fn func(f []string, x, y string) error) error {
	for read := 0; ; read++ {
		line, ok, err := lr.next()
		if err == nil && !ok && read == 0 {
			err = lr.errorf(ErrEmpty, "header only")
		}
		if err != nil || !ok {
			return err
		}
		f := strings.Split(line, sep)
		if len(f) != n {
			return lr.errorf(ErrRow, "%d %q-separated fields, want %d: %q", len(f), sep, n, clip(line))
		}
		x, y := strings.TrimSpace(f[a]), strings.TrimSpace(f[b])
		if x == "" || y == "" {
			return lr.errorf(ErrRow, "empty %s: %q", names, clip(line))
		}
		if err := fn(f, x, y); err != nil {
			return err
		}
	}
}

func (lr *lineReader) errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %w: %s", lr.name, lr.line, kind, fmt.Sprintf(format, args...))
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// builder groups clicks into sessions in order of first appearance.
type builder struct {
	index    map[string]int
	sessions []Session
	items    map[string]struct{}
	clicks   int
}

func newBuilder() *builder {
	return &builder{index: make(map[string]int), items: make(map[string]struct{})}
}

// add appends a click to its session and returns the session's position.
func (b *builder) add(session, item string, at int64) int {
	i, ok := b.index[session]
	if !ok {
		i = len(b.sessions)
		b.index[session] = i
		b.sessions = append(b.sessions, Session{ID: session})
	}
	b.sessions[i].Clicks = append(b.sessions[i].Clicks, Click{Item: item, At: at})
	b.items[item] = struct{}{}
	b.clicks++
	return i
}

// finish orders the sessions by first click, ties in order of appearance.
// Callers have already put each session's clicks in time order.
func (b *builder) finish(format Format) *Dataset {
	// A stable sort keeps appearance order for equal first clicks.
	slices.SortStableFunc(b.sessions, func(x, y Session) int {
		switch {
		case x.Clicks[0].At < y.Clicks[0].At:
			return -1
		case x.Clicks[0].At > y.Clicks[0].At:
			return 1
		}
		return 0
	})
	return &Dataset{Format: format, Sessions: b.sessions, Clicks: b.clicks, Items: len(b.items)}
}

// columns finds each wanted name in fields; ok is false if one is missing
// or appears twice.
func columns(fields []string, want ...string) (idx []int, ok bool) {
	idx = make([]int, len(want))
	for i, w := range want {
		idx[i] = -1
		for j, f := range fields {
			if strings.TrimSpace(f) == w {
				if idx[i] >= 0 {
					return nil, false
				}
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, false
		}
	}
	return idx, true
}
