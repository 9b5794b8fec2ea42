/* The Gantt chart: open scrolled to the data date, and highlight a row's label and bar together. */
(function () {
  "use strict";

  function init(root) {
    var chart = root.querySelector(".pm-gantt-chart");
    var line = root.querySelector("g.data-date line");
    if (chart && line) {
      // Only when the data date would be off to the right: otherwise the project's start stays in view.
      var x = parseFloat(line.getAttribute("x1"));
      if (x > chart.clientWidth * 0.85) chart.scrollLeft = Math.max(0, x - chart.clientWidth / 3);
    }
    var labels = root.querySelectorAll(".pm-gantt-label");
    // Labels and chart rows are drawn in the same order; pair them by position.
    var shapes = root.querySelectorAll("svg > g.pm-row, svg > rect.pm-wbs-band");
    Array.prototype.forEach.call(labels, function (label, index) {
      var shape = shapes[index];
      if (!shape) return;
      function on() { label.classList.add("hover"); shape.classList.add("hover"); }
      function off() { label.classList.remove("hover"); shape.classList.remove("hover"); }
      label.addEventListener("mouseenter", on);
      label.addEventListener("mouseleave", off);
      shape.addEventListener("mouseenter", on);
      shape.addEventListener("mouseleave", off);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-gantt]"), init);
  });
})();
