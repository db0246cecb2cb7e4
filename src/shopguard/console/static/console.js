// shopguard console: progressive enhancement only; every page works without it.
// Served as a static file (the Content-Security-Policy allows no inline script).
"use strict";

// Ask before destructive buttons (forms with data-confirm). A form htmx submits has its
// default already prevented; htmx asks through the htmx:confirm event below instead.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented) {
    return;
  }
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("htmx:confirm", function (event) {
  var form = event.target.closest ? event.target.closest("form[data-confirm]") : null;
  if (!form) {
    return;
  }
  event.preventDefault();
  if (window.confirm(form.getAttribute("data-confirm"))) {
    event.detail.issueRequest(true);
  }
});

// After a fragment replaced the control that had focus, put keyboard users on the notice
// that says what happened instead of leaving focus on <body>.
document.addEventListener("htmx:afterSettle", function () {
  var active = document.activeElement;
  if (!active || active === document.body) {
    var notices = document.getElementById("notices");
    if (notices) {
      notices.focus();
    }
  }
});
