//go:build !wasip1

package browsertest

import (
	"context"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// StopNetworkLog turns DevTools' network tracking off for the tab, for
// timings that must not pay for it: while it is on, Chromium keeps a copy
// of every response body for DevTools on the page's main thread. In
// Chromium traces of sdk/js TestSpeed's warm load, finishing tailor.wasm's
// 2 MB body (ResponseBodyLoader::DidFinishLoadingBody) took 3.7-19.7 ms of
// main-thread CPU with it on (4 traces), 0.1-0.3 ms with it off (3). A
// visitor's browser has no DevTools attached.
//
// # Notes
//
// Requests no longer records the tab's requests afterwards; errors,
// exceptions and the browser's log are still recorded.
func (tb *Tab) StopNetworkLog() {
	tb.t.Helper()
	tb.Do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.Disable, cdp.Empty{})
		return err
	}))
}
