/* A job's page: polls its status every second while it runs and updates the bar, the message and the links. */
(function () {
  "use strict";

  function update(card, state) {
    card.querySelectorAll("[data-job-field]").forEach(function (node) {
      var value = state[node.getAttribute("data-job-field")];
      node.textContent = value === null || value === undefined ? "" : value;
      if (node.getAttribute("data-job-field") === "error") { node.hidden = !value; }
    });
    var bar = card.querySelector(".job-bar");
    bar.setAttribute("aria-valuenow", state.percent);
    bar.querySelector("i").style.width = state.percent + "%";
    card.querySelectorAll("[data-job-link]").forEach(function (node) {
      var url = state[node.getAttribute("data-job-link")];
      node.hidden = !url;
      if (url) { node.querySelector("a").setAttribute("href", url); }
    });
    card.querySelectorAll(".job-status").forEach(function (node) {
      node.className = "job-status job-" + state.status;
    });
  }

  function poll(card) {
    var url = card.getAttribute("data-job-status-url");
    window.crmpm.request(url).then(function (response) { return response.json(); }).then(function (state) {
      update(card, state);
      if (state.done) {
        card.setAttribute("data-done", "true");
        if (state.status === "failed") { window.location.reload(); }
        return;
      }
      window.setTimeout(function () { poll(card); }, 1000);
    }).catch(function () {
      window.setTimeout(function () { poll(card); }, 5000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-status-url]").forEach(function (card) {
      if (card.getAttribute("data-done") !== "true") { poll(card); }
    });
  });
})();
