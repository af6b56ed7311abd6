// Receives the sandboxed frame's report (see early.js).
window.__frame = null;
addEventListener("message", function (e) { window.__frame = e.data; });
