package api

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/server/ingest"
)

// specRoutes returns "METHOD /path" for every operation of openapi.yaml's
// paths. The file is ours, so a reader of its shape suffices: path keys
// at two spaces of indentation under "paths:", operations at four.
func specRoutes(t *testing.T, spec []byte) []string {
	t.Helper()
	var out []string
	inPaths, path := false, ""
	sc := bufio.NewScanner(bytes.NewReader(spec))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && !strings.HasPrefix(line, " "):
			inPaths = false
		case inPaths && strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case inPaths && path != "" && len(line) > 4 && line[:4] == "    " && line[4] != ' ':
			op := strings.TrimSuffix(strings.TrimSpace(line), ":")
			switch op {
			case "get", "post", "put", "delete", "options", "head", "patch":
				out = append(out, strings.ToUpper(op)+" "+path)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestOpenAPI keeps openapi.yaml and the mux in step: every route
// registered appears in the spec, and every operation of the spec is
// registered.
func TestOpenAPI(t *testing.T) {
	s, err := New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mux []string
	for _, rt := range s.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.TrimSuffix(path, "{$}")
		mux = append(mux, method+" "+path)
	}
	slices.Sort(mux)
	spec := specRoutes(t, OpenAPI)
	if len(spec) < 10 {
		t.Fatalf("read only %d operations from openapi.yaml: %v", len(spec), spec)
	}
	for _, r := range mux {
		if !slices.Contains(spec, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, r := range spec {
		if !slices.Contains(mux, r) {
			t.Errorf("openapi.yaml documents %s, which the server does not register", r)
		}
	}
	for _, want := range []string{"openapi: 3.", "paths:", "components:"} {
		if !bytes.Contains(OpenAPI, []byte(want)) {
			t.Errorf("openapi.yaml lacks %q", want)
		}
	}
}

// TestSyncReasonsDocumented checks that every reason a sync can be refused
// for is named in openapi.yaml.
func TestSyncReasonsDocumented(t *testing.T) {
	for _, r := range append(ingest.Reasons(), reasonMediaType, reasonContentEncoding, reasonRateLimited, reasonUnknownSite,
		reasonOrigin, reasonLocalMode, reasonUnknownModel, reasonStaleModel, reasonConflict, reasonUnavailable,
		reasonDuplicate, reasonAccepted) {
		if !bytes.Contains(OpenAPI, []byte("`"+r+"`")) {
			t.Errorf("reason %q is not documented in openapi.yaml", r)
		}
	}
}
