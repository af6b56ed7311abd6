//go:build !wasip1

package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/animation"
	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// homeSlots are the demo home page's slots: a variant slot (hero), a
// reordered grid and a two-item grid.
var homeSlots = []string{"hero", "home-recs", "home-posts"}

// slotState is what a visitor sees of a slot: its computed visibility,
// whether the loader marked an item in it, whether its tailor-wait delay
// (store.css) is still running, and its items' ids in page order (shown
// ones: not hidden variants, not past the limit).
const slotState = `((name) => {
	const s = document.querySelector('[data-tailor-slot="' + name + '"]');
	return {
		visibility: getComputedStyle(s).visibility,
		marked: !!s.querySelector("[data-tailor-source]"),
		waiting: s.getAnimations().some((a) => a.animationName == "tailor-wait" && a.playState == "running"),
		loading: s.classList.contains("tailor-loading"),
		inline: s.style.visibility,
		ids: [...s.querySelectorAll("[data-tailor-item]")].filter((e) => getComputedStyle(e).display != "none").map((e) => e.getAttribute("data-tailor-item")),
	};
})(%q)`

type slotView struct {
	Visibility string
	Marked     bool
	Waiting    bool
	Loading    bool
	Inline     string
	IDs        []string
}

func (tb *tab) slotView(name string) slotView {
	tb.T().Helper()
	return eval[slotView](tb, fmt.Sprintf(slotState, name))
}

// loaderStarted is the loader's own mark: tailor.js ran (store.js
// defines window.tailor as a queue before it).
const loaderStarted = `performance.getEntriesByName("tailor:start").length > 0`

// TestFirstPaintBeforeLoader checks store.css's anti-flicker rule
// (sdk/js/README.md, "Slots above the fold"): Chromium may paint the page
// before the async tailor.js runs, and the rule hides the slots from that
// first paint until the loader ranked them, or for 300 ms without it.
//
// The document timeline is frozen (DevTools' Animation.setPlaybackRate 0)
// while tailor.js is held back, so the rule's 300 ms never pass however
// loaded the machine is: what releases a slot there is the loader's
// ranking alone. Without a loader the timeline runs, and the slots must
// show.
func TestFirstPaintBeforeLoader(t *testing.T) {
	t.Run("loader late", func(t *testing.T) {
		hold := make(chan struct{})
		held := false
		defer func() {
			if !held {
				close(hold)
			}
		}()
		tb := newTab(t, newFront(t, frontOptions{HoldLoader: hold}))
		tb.Do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, animation.Enable, cdp.Empty{}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, tg, animation.SetPlaybackRate, animation.SetPlaybackRateParams{PlaybackRate: 0}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, cdppage.Navigate, cdppage.NavigateParams{URL: tb.front.URL + "/"})
			return err
		}))
		// The page is parsed and painted; tailor.js has not arrived.
		tb.Wait(`document.readyState != "loading" && performance.getEntriesByName("first-contentful-paint").length > 0`)
		if eval[bool](tb, loaderStarted) {
			t.Fatal("tailor.js ran while the test server held it back")
		}
		if v := eval[string](tb, `getComputedStyle(document.querySelector(".picks")).visibility`); v != "visible" {
			t.Errorf("the store picks (not a slot) are %s before the loader runs, want visible", v)
		}
		for _, name := range homeSlots {
			v := tb.slotView(name)
			t.Logf("before tailor.js: %s %+v", name, v)
			if v.Visibility != "hidden" || !v.Waiting || v.Marked {
				t.Errorf("slot %s before tailor.js: visibility %s (waiting %v, marked %v), want hidden in its tailor-wait delay", name, v.Visibility, v.Waiting, v.Marked)
			}
		}
		close(hold)
		held = true
		for _, name := range homeSlots {
			tb.waitRanked(name, 1)
		}
		for _, name := range homeSlots {
			tb.Wait(fmt.Sprintf(`(%s).visibility == "visible"`, fmt.Sprintf(slotState, name)))
			v := tb.slotView(name)
			t.Logf("ranked: %s %+v", name, v)
			if !v.Marked || v.Loading || v.Inline != "" {
				t.Errorf("slot %s after ranking: marked %v, class tailor-loading %v, inline visibility %q; want marked, no class, no inline style", name, v.Marked, v.Loading, v.Inline)
			}
			ranked := eval[[]string](tb, fmt.Sprintf(`__t.ranked.filter(r => r.slot == %q).at(-1).ids`, name))
			if len(v.IDs) == 0 || len(v.IDs) > len(ranked) || fmt.Sprint(v.IDs) != fmt.Sprint(ranked[:len(v.IDs)]) {
				t.Errorf("slot %s shows %v, want the ranking's order %v", name, v.IDs, ranked)
			}
		}
		if n := len(tb.slotView("hero").IDs); n != 1 {
			t.Errorf("hero shows %d banners, want 1", n)
		}
	})
	for _, tc := range []struct {
		name string
		opts frontOptions
	}{
		{"no loader", frontOptions{NoLoader: true}},
		{"tailor.wasm fails", frontOptions{WasmStatus: 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTab(t, newFront(t, tc.opts))
			tb.Open(tb.front.URL + "/")
			// Shown once the rule's 300 ms passed (a bounded poll: the
			// assertion is the condition, not the time).
			for _, name := range homeSlots {
				tb.Wait(fmt.Sprintf(`(%s).visibility == "visible"`, fmt.Sprintf(slotState, name)))
				v := tb.slotView(name)
				t.Logf("%s: %+v", name, v)
				if v.Marked || v.Waiting || len(v.IDs) == 0 {
					t.Errorf("slot %s: marked %v, waiting %v, %d items shown; want the site's items, unmarked, delay over", name, v.Marked, v.Waiting, len(v.IDs))
				}
			}
		})
	}
}
