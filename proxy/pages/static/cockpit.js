// Live figures without a reload: every element with data-live is re-fetched from its
// URL (an HTML fragment rendered by the server) every data-every seconds. No framework,
// no inline script (the page's CSP allows only this file).
(function () {
  "use strict";
  function refresh(element) {
    var url = element.getAttribute("data-live");
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        // Keep the keyboard focus where it was when the focused control is re-rendered.
        var focused = document.activeElement && document.activeElement.id;
        element.innerHTML = html;
        element.setAttribute("data-refreshed", new Date().toISOString());
        if (focused) {
          var again = document.getElementById(focused);
          if (again) { again.focus(); }
        }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }
  function start() {
    var live = document.querySelectorAll("[data-live]");
    Array.prototype.forEach.call(live, function (element) {
      var every = Math.max(2, parseInt(element.getAttribute("data-every") || "10", 10)) * 1000;
      window.setInterval(function () {
        if (!document.hidden) { refresh(element); }
      }, every);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
