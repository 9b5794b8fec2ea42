/* An import job's page: follow its progress (the page's own JSON status) and reload it to show the report. */
(function () {
  "use strict";

  var box = document.querySelector("[data-import-status]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-import-status");
  var bar = box.querySelector("[data-bar]");
  var percent = box.querySelector("[data-percent]");
  var label = box.querySelector("[data-state]");
  var delay = 500;

  function show(progress) {
    var value = Math.round(progress * 100);
    bar.value = value;
    bar.textContent = value + " %";
    percent.textContent = value + " %";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        show(state.progress);
        label.textContent = state.label;
        if (state.finished) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 10000);  // the server is busy (an import holds SQLite's lock): wait longer
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
