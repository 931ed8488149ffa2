/*!
 * FlexLMN "Pay with HSA/FSA" badge and button for a merchant's product page.
 *
 * Add one script tag; no inline script, no inline styles, no cookies, no network calls:
 *
 *   <div data-flexlmn-badge data-eligibility="lmn_required"
 *        data-checkout-url="/checkout/flexlmn?sku=RING-GEN3"></div>
 *   <script src="https://flexlmn.example/static/flexlmn-embed/button.js" defer></script>
 *
 * Each element with data-flexlmn-badge becomes a badge. With data-checkout-url it
 * also gets a "Pay with HSA/FSA" button linking there: an endpoint on YOUR server
 * that creates a checkout session with your secret key and redirects the shopper
 * to the session's url. (A secret key never belongs in a browser.)
 *
 * Options (attributes on the element):
 *   data-eligibility    "auto_substantiation" | "lmn_required" (default)
 *   data-checkout-url   your endpoint that starts the FlexLMN checkout
 *   data-theme          "light" (default) | "dark"
 *   data-size           "regular" (default) | "compact"
 *   data-info-url       a page explaining HSA/FSA payment (default: the FlexLMN site serving this script)
 * The stylesheet (button.css, next to this file) is added once unless the page links it.
 * Clicking the button dispatches a cancelable "flexlmn:checkout" event on the element.
 */
(function () {
  "use strict";

  var COPY = {
    title: "Pay with HSA/FSA",
    // Compliant wording: eligibility depends on the customer, never promised.
    auto_substantiation: "May be eligible for qualified customers. Pay with your HSA/FSA card at checkout.",
    lmn_required:
      "May be eligible for qualified customers with a Letter of Medical Necessity. " +
      "A short health survey is reviewed by a licensed clinician; approval is not guaranteed.",
    button: "Pay with HSA/FSA",
    info: "How it works",
    mark: "FlexLMN"
  };

  var script = document.currentScript;
  var base = script && script.src ? script.src.replace(/[^/]*$/, "") : "";
  // FlexLMN's site: the origin this script is served from.
  var home = base ? new URL("/", base).href : "https://flexlmn.example/";

  function ensureStylesheet() {
    if (!base || document.querySelector("link[data-flexlmn-embed]")) {
      return;
    }
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i += 1) {
      if (/flexlmn-embed\/button\.css/.test(links[i].href)) {
        return;
      }
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = base + "button.css";
    link.setAttribute("data-flexlmn-embed", "");
    document.head.appendChild(link);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function safeUrl(value) {
    if (!value) {
      return "";
    }
    try {
      var url = new URL(value, document.baseURI);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
    } catch (error) {
      return "";
    }
  }

  function render(host) {
    if (host.getAttribute("data-flexlmn-ready") === "1") {
      return;
    }
    var eligibility = host.getAttribute("data-eligibility") === "auto_substantiation" ? "auto_substantiation" : "lmn_required";
    var theme = host.getAttribute("data-theme") === "dark" ? "dark" : "light";
    var size = host.getAttribute("data-size") === "compact" ? "compact" : "regular";
    var checkoutUrl = safeUrl(host.getAttribute("data-checkout-url"));
    var infoUrl = safeUrl(host.getAttribute("data-info-url")) || home;

    var badge = el("div", "flexlmn-badge flexlmn-theme-" + theme + " flexlmn-size-" + size);
    badge.setAttribute("role", "group");
    badge.setAttribute("aria-label", COPY.title);

    var head = el("div", "flexlmn-badge-head");
    head.appendChild(el("span", "flexlmn-badge-icon", "HSA/FSA"));
    head.appendChild(el("strong", "flexlmn-badge-title", COPY.title));
    badge.appendChild(head);

    badge.appendChild(el("p", "flexlmn-badge-text", COPY[eligibility]));

    var actions = el("div", "flexlmn-badge-actions");
    if (checkoutUrl) {
      var button = el("a", "flexlmn-button", COPY.button);
      button.href = checkoutUrl;
      button.addEventListener("click", function (event) {
        var proceed = host.dispatchEvent(
          new CustomEvent("flexlmn:checkout", { bubbles: true, cancelable: true, detail: { url: checkoutUrl } })
        );
        if (!proceed) {
          event.preventDefault();
        }
      });
      actions.appendChild(button);
    }
    var info = el("a", "flexlmn-badge-info", COPY.info);
    info.href = infoUrl;
    info.target = "_blank";
    info.rel = "noopener";
    actions.appendChild(info);
    actions.appendChild(el("span", "flexlmn-badge-mark", COPY.mark));
    badge.appendChild(actions);

    while (host.firstChild) {
      host.removeChild(host.firstChild);
    }
    host.appendChild(badge);
    host.setAttribute("data-flexlmn-ready", "1");
  }

  function renderAll() {
    ensureStylesheet();
    var hosts = document.querySelectorAll("[data-flexlmn-badge]");
    for (var i = 0; i < hosts.length; i += 1) {
      render(hosts[i]);
    }
  }

  window.FlexLMN = window.FlexLMN || {};
  window.FlexLMN.renderBadges = renderAll;

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
