/* The EPS page: drag a node or a project onto another node to move it there (the "Move to" form of a row does
   the same from the keyboard). The move is the form's POST, sent with crmpm.request; the page reloads to show it.
   A row's forms are fetched for that row into the page's dialog ("Change…"); without scripts the link opens the
   row's own page, which has the same forms. Expanding nodes is app.js's, as on the budget tree. */
(function () {
  "use strict";

  var root = document.querySelector(".eps-root[data-move-url]");
  if (!root) return;
  var status = document.getElementById("eps-status");
  var dragged = null;

  function say(text, isError) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("negative", !!isError);
  }

  function errorText(error) {
    if (error && error.response) {
      return error.response.json().then(function (data) { return data.message; },
        function () { return root.getAttribute("data-error"); });
    }
    return Promise.resolve(root.getAttribute("data-error"));
  }

  function move(item, parent) {
    var body = new FormData();
    body.append("item", item);
    body.append("parent", parent);
    root.classList.add("saving");
    return window.crmpm.request(root.getAttribute("data-move-url"), {
      method: "POST", body: body, headers: { Accept: "application/json" }
    }).then(function (response) { return response.json(); })
      .then(function (data) { say(data.message, false); window.location.reload(); })
      .catch(function (error) { return errorText(error).then(function (text) { say(text, true); }); })
      .finally(function () { root.classList.remove("saving"); });
  }

  root.addEventListener("dragstart", function (event) {
    var row = event.target.closest && event.target.closest("[data-item][draggable=true]");
    if (!row) return;
    dragged = row;
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.getAttribute("data-item"));
  });

  root.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    Array.prototype.forEach.call(root.querySelectorAll(".drop-over"), function (el) { el.classList.remove("drop-over"); });
  });

  function targetOf(event) {
    var row = event.target.closest && event.target.closest("[data-drop-parent]");
    return row && row !== dragged ? row : null;
  }

  root.addEventListener("dragover", function (event) {
    var row = targetOf(event);
    if (!row || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    row.classList.add("drop-over");
  });

  root.addEventListener("dragleave", function (event) {
    var row = targetOf(event);
    if (row && !row.contains(event.relatedTarget)) row.classList.remove("drop-over");
  });

  root.addEventListener("drop", function (event) {
    var row = targetOf(event);
    if (!row) return;
    event.preventDefault();
    row.classList.remove("drop-over");
    var item = event.dataTransfer.getData("text/plain") || (dragged && dragged.getAttribute("data-item"));
    if (item) move(item, row.getAttribute("data-drop-parent"));
  });

  // "Change…": the row's forms, fetched into the dialog; they post as ordinary forms and come back here.
  var dialog = document.getElementById("eps-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var body = dialog.querySelector(".eps-dialog-body");
  var title = document.getElementById("eps-dialog-title");
  var opener = null;

  root.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.eps-open[data-forms]");
    if (!link) return;
    event.preventDefault();
    var url = link.getAttribute("data-forms") + "?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    link.setAttribute("aria-busy", "true");
    window.crmpm.request(url)
      .then(function (response) { return response.text(); })
      .then(function (html) {
        body.innerHTML = html;
        var forms = body.querySelector(".eps-forms");
        title.textContent = forms ? forms.getAttribute("data-title") : link.textContent;
        opener = link;
        dialog.showModal();
        var first = body.querySelector("input:not([type=hidden])");
        if (first) first.focus();
      })
      .catch(function () { window.location.assign(link.href); })
      .finally(function () { link.removeAttribute("aria-busy"); });
  });

  dialog.addEventListener("click", function (event) {
    if (event.target.closest("[data-close]") || event.target === dialog) dialog.close();
  });

  dialog.addEventListener("close", function () {
    body.innerHTML = "";
    if (opener) opener.focus();
    opener = null;
  });
})();

/* The new project's form: the code field shows the code the name would get, until the user types one. */
(function () {
  "use strict";

  var form = document.getElementById("new-project");
  if (!form) return;
  var name = document.getElementById("new-name");
  var code = document.getElementById("new-code");
  var typed = code.value !== "";
  var timer = null;

  code.addEventListener("input", function () { typed = code.value !== ""; });
  name.addEventListener("input", function () {
    if (typed) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var url = form.getAttribute("data-suggest-url") + "?name=" + encodeURIComponent(name.value);
      window.crmpm.request(url, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) { if (!typed) code.value = data.code; })
        .catch(function () { /* the server makes the code on saving anyway */ });
    }, 250);
  });
})();
