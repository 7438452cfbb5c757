// The error summary takes focus when the page loads, so a screen reader reads it first and the
// keyboard starts from it; each of its links then moves focus to the field it names.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) {
      return;
    }
    // A group of boxes (vehicles) links to its wrapper: focus its first box that can be used.
    if (!target.matches("input, select, textarea")) {
      target = target.querySelector("input:not([disabled]), select, textarea");
    }
    if (target) {
      event.preventDefault();
      target.focus();
      var label = document.querySelector("label[for='" + target.id + "']");
      (label || target).scrollIntoView();
    }
  });
})();
