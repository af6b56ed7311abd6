// Package browserget fetches a URL as Chromium does, accepting brotli and
// gzip, and tells the decoded body apart from the bytes served for it:
// the model's size per page view is counted as a browser downloads it
// (build/replay/tailor and demo-site/e2e/large count the same way).
package browserget

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/andybalholm/brotli"
)

// AcceptEncoding is what Chromium sends, on http://127.0.0.1 too.
const AcceptEncoding = "gzip, deflate, br, zstd"

// maxBody bounds a body, served and decoded alike.
const maxBody = 64 << 20

// Get fetches url with c and returns the decoded body and how many bytes
// of body were served for it. A status other than 200 is an error.
func Get(ctx context.Context, c *http.Client, url string) (body []byte, served int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept-Encoding", AcceptEncoding)
	res, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, 0, err
	}
	var rd io.Reader
	switch enc := res.Header.Get("Content-Encoding"); enc {
	case "":
		return b, len(b), nil
	case "br":
		rd = brotli.NewReader(bytes.NewReader(b))
	case "gzip":
		if rd, err = gzip.NewReader(bytes.NewReader(b)); err != nil {
			return nil, 0, fmt.Errorf("GET %s: %w", url, err)
		}
	default:
		return nil, 0, fmt.Errorf("GET %s: Content-Encoding %q", url, enc)
	}
	body, err = io.ReadAll(io.LimitReader(rd, maxBody))
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	return body, len(b), nil
}
