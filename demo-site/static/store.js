// The demo store's own script: a cart in localStorage, GA4-style dataLayer
// events (which Tailor reads, as it would on any tagged site), and the
// privacy panel and explanations, through Tailor's public API only.
(function () {
  "use strict";
  var dl = (window.dataLayer = window.dataLayer || []);
  var KEY = "demo-cart";

  function cart() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function saveCart(items) {
    try { localStorage.setItem(KEY, JSON.stringify(items)); } catch (e) { /* storage blocked: cart lives for this page */ }
    var n = document.getElementById("cart-count");
    if (n) n.textContent = String(items.length);
  }
  function described(id) {
    var el = document.querySelector('[data-tailor-item="' + id + '"]');
    if (!el) return { item_id: id };
    return {
      item_id: id,
      item_name: el.getAttribute("data-tailor-name") || id,
      item_category: el.getAttribute("data-tailor-category") || "",
      price: parseFloat(el.getAttribute("data-tailor-price") || "0")
    };
  }
  // withTailor runs fn with Tailor's API once it is ready; before the async
  // loader arrives, Tailor's queue (an array it replays) holds the call.
  function withTailor(fn) {
    var t = (window.tailor = window.tailor || []);
    if (t.ready && typeof t.ready.then === "function") t.ready.then(function () { fn(window.tailor); }, function () {});
    else t.push(function () { window.tailor.ready.then(function () { fn(window.tailor); }, function () {}); });
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest && e.target.closest("[data-add-to-cart],[data-buy-now],[data-why],[data-mode],#show-profile,#forget-me,#checkout");
    if (!el) return;
    if (el.hasAttribute("data-add-to-cart")) {
      var it = described(el.getAttribute("data-add-to-cart"));
      var c = cart(); c.push(it); saveCart(c);
      dl.push({ event: "add_to_cart", ecommerce: { items: [it] } });
      el.textContent = "Added ✓";
    } else if (el.hasAttribute("data-buy-now")) {
      var b = described(el.getAttribute("data-buy-now"));
      dl.push({ event: "purchase", ecommerce: { transaction_id: String(Date.now()), items: [b] } });
      el.textContent = "Bought ✓";
    } else if (el.id === "checkout") {
      var items = cart();
      if (items.length) dl.push({ event: "purchase", ecommerce: { transaction_id: String(Date.now()), items: items } });
      saveCart([]);
      renderCart();
      document.getElementById("checkout-done").hidden = false;
    } else if (el.hasAttribute("data-why")) {
      e.preventDefault(); e.stopPropagation();
      var id = el.getAttribute("data-why");
      var out = el.parentNode.querySelector(".reason");
      withTailor(function (t) {
        out.textContent = t.explain(id) || "Shown in the store's default order.";
        out.hidden = false;
      });
    } else if (el.hasAttribute("data-mode")) {
      var m = el.getAttribute("data-mode");
      withTailor(function (t) { t.mode(m); markMode(m); });
    } else if (el.id === "show-profile") {
      withTailor(function (t) {
        Promise.resolve(t.profile()).then(function (p) {
          showBudget(p);
          var v = document.getElementById("profile-view");
          v.textContent = JSON.stringify(p, null, 2);
          v.hidden = !v.hidden;
        });
      });
    } else if (el.id === "forget-me") {
      withTailor(function (t) { Promise.resolve(t.forget()).then(function () { el.textContent = "Forgotten ✓"; }); });
    }
  }, true);

  // showBudget says, in federated+ldp mode, how much of today's local
  // differential privacy budget the device has spent on syncs.
  function showBudget(p) {
    var b = document.getElementById("ldp-budget");
    if (!b || !p || !p.ldp) return;
    b.textContent = "Privacy budget today: ε " + +p.ldp.spent.toFixed(2) + " of " + +p.ldp.budget.toFixed(2) +
      " spent (ε " + +p.ldp.epsilon.toFixed(2) + " per sync)";
    b.hidden = false;
  }

  function markMode(m) {
    var bs = document.querySelectorAll("[data-mode]");
    for (var i = 0; i < bs.length; i++) bs[i].classList.toggle("on", bs[i].getAttribute("data-mode") === m);
  }

  function renderCart() {
    var ul = document.getElementById("cart-items");
    if (!ul) return;
    ul.textContent = "";
    cart().forEach(function (it) {
      var li = document.createElement("li");
      li.textContent = (it.item_name || it.item_id) + (it.price ? " — €" + it.price.toFixed(2) : "");
      ul.appendChild(li);
    });
  }

  // A re-ranked slot makes open explanations stale: close them.
  document.addEventListener("tailor:ranked", function () {
    var rs = document.querySelectorAll(".card .reason");
    for (var i = 0; i < rs.length; i++) rs[i].hidden = true;
  });

  document.addEventListener("DOMContentLoaded", function () {
    saveCart(cart());
    renderCart();
    if (navigator.globalPrivacyControl) document.getElementById("gpc-note").hidden = false;
    var consent = document.getElementById("consent");
    consent.addEventListener("change", function () {
      withTailor(function (t) { t.consent(consent.checked); });
    });
    withTailor(function (t) {
      markMode(t.mode());
      Promise.resolve(t.profile()).then(showBudget);
    });
  });
})();
