// Loaded before tailor.js on every test page: records what the tests
// read (errors the page sees, rankings, long tasks, CSP violations) and,
// in a frame, reports the first ranking to the parent page.
window.__t = { errors: [], ranked: [], longtasks: [], csp: [], hidden: [] };
addEventListener("pageshow", function (e) { if (e.persisted) __t.restored = (__t.restored || 0) + 1; });
addEventListener("error", function (e) { __t.errors.push("error: " + e.message); });
addEventListener("unhandledrejection", function (e) { __t.errors.push("unhandled rejection: " + e.reason); });
document.addEventListener("securitypolicyviolation", function (e) { __t.csp.push(e.violatedDirective + " " + e.blockedURI); });
document.addEventListener("tailor:ranked", function (e) {
  var d = e.detail;
  __t.ranked.push({ slot: d.slot, at: performance.now(), ids: d.items.map(function (x) { return x.id; }), arm: d.arm, version: d.version });
  if (window.parent !== window && d.slot === "recs" && !__t.posted) {
    __t.posted = true;
    window.tailor.profile().then(function (p) {
      window.parent.postMessage({ ids: d.items.map(function (x) { return x.id; }), storage: p.storage, errors: __t.errors }, "*");
    });
  }
});
try {
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (x) { __t.longtasks.push({ start: x.startTime, duration: x.duration }); });
  }).observe({ type: "longtask", buffered: true });
} catch (e) { /* no long task timing */ }
// Slots hidden against flicker, and when.
new MutationObserver(function (ms) {
  ms.forEach(function (m) {
    if (m.target.classList.contains("tailor-loading")) __t.hidden.push({ slot: m.target.getAttribute("data-tailor-slot"), at: performance.now() });
  });
}).observe(document.documentElement, { attributes: true, attributeFilter: ["class"], subtree: true });
