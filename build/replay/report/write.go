package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files Write creates in its directory.
const (
	MarkdownFile = "results.md"
	JSONFile     = "results.json"
	HTMLFile     = "report.html"
)

// WriteJSON writes the results as a JSON array, one object per method and
// mode (see Result.MarshalJSON), indented.
func WriteJSON(w io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadJSON reads a results.json written by WriteJSON.
func ReadJSON(r io.Reader) ([]Result, error) {
	var out []Result
	if err := json.NewDecoder(r).Decode(&out); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return out, nil
}

// Write creates dir if needed and writes results.md, results.json and
// report.html into it, each replaced atomically.
func Write(dir string, meta Meta, results []Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{MarkdownFile, func(w io.Writer) error { return WriteMarkdown(w, meta, results) }},
		{JSONFile, func(w io.Writer) error { return WriteJSON(w, results) }},
		{HTMLFile, func(w io.Writer) error { return WriteHTML(w, meta, results) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			return fmt.Errorf("report: %s: %w", f.name, err)
		}
		if err := writeAtomic(filepath.Join(dir, f.name), b.Bytes()); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// writeAtomic writes a temporary file beside path, syncs it and renames
// it over path, so a reader never sees half a report.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
