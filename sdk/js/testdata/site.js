// The site's own script: it uses Tailor only through the public API, and
// marks that it ran to the end (so a Tailor failure cannot have broken it).
(function () {
  window.tailor = window.tailor || [];
  window.tailor.push(function (t) { window.__siteSawReady = true; });
  window.__siteRan = true;
})();
