/* Complete the look: a drop-in storefront widget, no framework, no build step.
 *
 *   <div data-complete-the-look data-item="SKU"></div>
 *   <script src="https://SERVICE/widget/ctl-widget.js" data-key="STOREFRONT KEY" async></script>
 *
 * Optional on the script tag: data-api (the service's origin; default: where the script came from),
 * data-timeout (ms, default 4000), data-k (suggestions per slot, default 6).
 *
 * It must never break the shop's page: every failure (network, HTTP error, a slow answer, odd data)
 * leaves the placeholder empty, throws nothing and logs nothing; the placeholder's data-ctl-state
 * says what happened (loading, shown, empty, failed) and a "ctl:failed" event carries the reason.
 * Styles live in a shadow root, so the shop's CSS and ours never meet. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !document.head.attachShadow) return;
  var KEY = script.getAttribute("data-key") || "";
  var API = (script.getAttribute("data-api") || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var TIMEOUT = +script.getAttribute("data-timeout") || 4000;
  var K = +script.getAttribute("data-k") || 6;
  var SLOT_NAMES = { top: "Tops", bottom: "Bottoms", shoes: "Shoes", bag: "Bags", dress: "Dresses", outerwear: "Outerwear" };
  var uid = 0;

  var CSS =
    ":host{display:block;font:inherit;color:inherit}" +
    "section{margin:1rem 0}" +
    "h2{font-size:1.15em;margin:0 0 .5rem}" +
    "[role=tablist]{display:flex;gap:.25rem;flex-wrap:wrap;margin-bottom:.5rem}" +
    "[role=tab]{font:inherit;padding:.4rem .8rem;min-height:44px;border:1px solid #767676;border-radius:999px;background:#fff;color:#222;cursor:pointer}" +
    "[role=tab][aria-selected=true]{background:#222;color:#fff;border-color:#222}" +
    "ul{display:flex;gap:.75rem;overflow-x:auto;scroll-snap-type:x mandatory;list-style:none;margin:0;padding:.25rem .1rem .5rem;-webkit-overflow-scrolling:touch}" +
    "li{position:relative;flex:0 0 clamp(120px,38vw,170px);scroll-snap-align:start}" +
    "a{display:block;color:inherit;text-decoration:none;border-radius:6px}" +
    "a:focus-visible,[role=tab]:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}" +
    "img{display:block;width:100%;aspect-ratio:5/7;object-fit:contain;background:#f2f2f2;border-radius:6px}" +
    ".t{display:block;margin-top:.3rem;font-size:.9em;line-height:1.25}" +
    ".p{display:block;font-weight:600;font-size:.9em}" +
    ".r{position:absolute;left:0;right:0;top:0;margin:.25rem;padding:.35rem .45rem;font-size:.8em;line-height:1.3;background:#222;color:#fff;border-radius:4px;opacity:0;pointer-events:none;transition:opacity .15s}" +
    "li:hover .r,li:focus-within .r{opacity:1}" +
    "@media (prefers-reduced-motion:reduce){.r{transition:none}}";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    return node;
  }

  // Only web links from the answer: a javascript: link in a feed must not become a click.
  function webUrl(raw) {
    try {
      var url = new URL(raw, API);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function reasonOf(s) {
    if (s.matches && s.matches.length) return s.matches.join("; ");
    var n = (s.outfits || []).length;
    return n ? "Worn together in " + n + " stylist outfit" + (n > 1 ? "s" : "") : "Goes with this piece";
  }

  function card(s) {
    var item = s.item || {};
    var li = el("li");
    var tipId = "ctl-r" + ++uid;
    var link = webUrl(item.link);
    var a = el(link ? "a" : "div", link ? { href: link, "aria-describedby": tipId } : { tabindex: "0", "aria-describedby": tipId });
    var image = webUrl(item.image_url);
    if (image) a.appendChild(el("img", { src: image, alt: "", loading: "lazy", decoding: "async", width: "170", height: "238" }));
    a.appendChild(el("span", { class: "t" }, item.title || item.type || item.id || ""));
    if (item.price != null) a.appendChild(el("span", { class: "p" }, String(item.price)));
    li.appendChild(a);
    li.appendChild(el("span", { class: "r", id: tipId, role: "tooltip" }, reasonOf(s)));
    return li;
  }

  // Accessible tabs (WAI-ARIA Authoring Practices, tabs with automatic activation).
  function render(host, answer) {
    var groups = {};
    var order = [];
    (answer.suggestions || []).forEach(function (s) {
      if (!s || !s.item || !s.slot) return;
      if (!groups[s.slot]) (groups[s.slot] = []), order.push(s.slot);
      groups[s.slot].push(s);
    });
    if (!order.length) return false;
    var n = ++uid;
    var root = host.attachShadow({ mode: "open" });
    root.appendChild(el("style", {}, CSS));
    var section = el("section", { "aria-labelledby": "ctl-h" + n });
    section.appendChild(el("h2", { id: "ctl-h" + n }, "Complete the look"));
    var list = el("div", { role: "tablist", "aria-label": "Complete the look: pieces by kind" });
    section.appendChild(list);
    var tabs = order.map(function (slot, i) {
      var tab = el("button", { type: "button", role: "tab", id: "ctl-t" + n + "-" + i, "aria-controls": "ctl-p" + n + "-" + i }, SLOT_NAMES[slot] || slot);
      var panel = el("div", { role: "tabpanel", id: "ctl-p" + n + "-" + i, "aria-labelledby": tab.id, "data-slot": slot });
      var row = el("ul");
      groups[slot].slice(0, K).forEach(function (s) {
        row.appendChild(card(s));
      });
      panel.appendChild(row);
      list.appendChild(tab);
      section.appendChild(panel);
      tab.addEventListener("click", function () {
        select(i);
      });
      return { tab: tab, panel: panel };
    });
    function select(i, focus) {
      tabs.forEach(function (t, j) {
        t.tab.setAttribute("aria-selected", String(i === j));
        t.tab.tabIndex = i === j ? 0 : -1;
        t.panel.hidden = i !== j;
      });
      if (focus) tabs[i].tab.focus();
      host.setAttribute("data-ctl-slot", order[i]);
    }
    list.addEventListener("keydown", function (event) {
      var at = tabs.findIndex(function (t) {
        return t.tab === root.activeElement;
      });
      if (at < 0) return;
      var last = tabs.length - 1;
      var to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: last }[event.key];
      if (to == null) return;
      event.preventDefault();
      select(to > last ? 0 : to < 0 ? last : to, true);
    });
    select(0);
    root.appendChild(section);
    return true;
  }

  function failed(host, why) {
    host.setAttribute("data-ctl-state", "failed");
    try {
      host.dispatchEvent(new CustomEvent("ctl:failed", { detail: String(why) }));
    } catch (e) {
      /* a shop's listener that throws is not ours to report */
    }
  }

  function load(host) {
    var sku = host.getAttribute("data-item");
    if (!sku) return failed(host, "no data-item");
    host.setAttribute("data-ctl-state", "loading");
    var abort = new AbortController();
    var timer = setTimeout(function () {
      abort.abort();
    }, TIMEOUT);
    fetch(API + "/api/v1/items/" + encodeURIComponent(sku) + "/complete-the-look/?k=" + K, {
      headers: { "X-Api-Key": KEY, Accept: "application/json" },
      credentials: "omit",
      signal: abort.signal,
    })
      .then(function (response) {
        if (!response.ok) throw "HTTP " + response.status;
        return response.json();
      })
      .then(function (answer) {
        clearTimeout(timer);
        host.setAttribute("data-ctl-state", render(host, answer) ? "shown" : "empty");
      })
      .catch(function (error) {
        clearTimeout(timer);
        failed(host, abort.signal.aborted ? "timeout" : error);
      });
  }

  function start() {
    var hosts = document.querySelectorAll("[data-complete-the-look]:not([data-ctl-state])");
    var seen = "IntersectionObserver" in window && new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        seen.unobserve(entry.target);
        load(entry.target);
      });
    }, { rootMargin: "200px" });
    Array.prototype.forEach.call(hosts, function (host) {
      host.setAttribute("data-ctl-state", "waiting");
      seen ? seen.observe(host) : load(host);
    });
  }

  try {
    document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", start) : start();
  } catch (e) {
    /* never the shop's problem */
  }
})();
