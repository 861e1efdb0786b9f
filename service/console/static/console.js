// Haze Response console: the few behaviours htmx does not give (no inline scripts: CSP).
(function () {
  "use strict";
  var body = document.body;

  // Every htmx request carries the CSRF token as a header.
  body.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = body.dataset.csrf || "";
  });

  // A form or button with data-confirm asks before it is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var ask = form.getAttribute("data-confirm");
    if (ask && !window.confirm(ask)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  body.addEventListener("htmx:confirm", function (event) {
    var ask = event.target.getAttribute("data-confirm");
    if (!ask) return;
    event.preventDefault();
    if (window.confirm(ask)) event.detail.issueRequest(true);
  });

  // An upload form with data-progress="<id of a <progress>>" shows how much was sent.
  body.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest("[data-progress]");
    if (!form || !event.detail.lengthComputable) return;
    var bar = document.getElementById(form.getAttribute("data-progress"));
    if (bar) {
      bar.hidden = false;
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });

  // An element with data-swap-errors shows an answer htmx would drop for its status (422 with
  // the problems beside the fields, 413 for a file too large): it is the page to read.
  body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && event.detail.elt.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // [data-print] prints the page (the print stylesheet keeps only the notice).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (button) window.print();
  });
})();
