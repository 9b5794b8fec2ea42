// The bell in the top bar: its unread count is refreshed every minute while the page is open, so a
// notification made meanwhile (a task a rule gave you, a reminder) shows without reloading.
(function () {
  "use strict";
  var REFRESH_MS = 60000;

  function show(bell, unread) {
    var count = bell.querySelector(".bell-count");
    count.textContent = unread > 99 ? "99+" : String(unread);
    count.hidden = unread === 0;
    bell.dataset.unread = String(unread);
    bell.setAttribute("aria-label", bell.dataset.label.replace("%s", String(unread)));
  }

  function refresh(bell) {
    fetch(bell.dataset.countUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && typeof body.unread === "number") { show(bell, body.unread); } })
      .catch(function () { /* the next round tries again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var bell = document.querySelector(".bell[data-count-url]");
    if (!bell) { return; }
    window.setInterval(function () { if (!document.hidden) { refresh(bell); } }, REFRESH_MS);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(bell); } });
  });
}());
