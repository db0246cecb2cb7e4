// shopguard console: progressive enhancement only; every page works without it.
// Served as a static file (the Content-Security-Policy allows no inline script).
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
