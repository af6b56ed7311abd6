package api

import (
	"encoding/json"
	"net/http"
)

// writeJSON writes v as the JSON body of a response with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"encode response"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// Error is the body of every error response.
type Error struct {
	Error  string `json:"error"`  // what went wrong, for a developer
	Reason string `json:"reason"` // a stable token, as in the metrics
}

// writeError writes an error response; reason is a stable token that
// clients and metrics can match on.
func writeError(w http.ResponseWriter, code int, reason string, err error) {
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, code, Error{Error: err.Error(), Reason: reason})
}
