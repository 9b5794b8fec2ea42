/* The EPS page: drag a node or a project onto another node to move it there (the "Move" form does the same
   from the keyboard). The move is the form's POST, sent with crmpm.request; the page reloads to show it. */
(function () {
  "use strict";

  var tree = document.querySelector(".eps-root[data-move-url]");
  if (!tree) return;
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
        function () { return tree.getAttribute("data-error"); });
    }
    return Promise.resolve(tree.getAttribute("data-error"));
  }

  function move(item, parent) {
    var body = new FormData();
    body.append("item", item);
    body.append("parent", parent);
    tree.classList.add("saving");
    return window.crmpm.request(tree.getAttribute("data-move-url"), {
      method: "POST", body: body, headers: { Accept: "application/json" }
    }).then(function (response) { return response.json(); })
      .then(function (data) { say(data.message, false); window.location.reload(); })
      .catch(function (error) { return errorText(error).then(function (text) { say(text, true); }); })
      .finally(function () { tree.classList.remove("saving"); });
  }

  tree.addEventListener("dragstart", function (event) {
    var row = event.target.closest && event.target.closest(".eps-row[draggable=true]");
    if (!row) return;
    dragged = row;
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.getAttribute("data-item"));
  });

  tree.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    Array.prototype.forEach.call(tree.querySelectorAll(".drop-over"), function (el) { el.classList.remove("drop-over"); });
  });

  function targetOf(event) {
    var row = event.target.closest && event.target.closest(".eps-row[data-drop-parent]");
    return row && row !== dragged ? row : null;
  }

  tree.addEventListener("dragover", function (event) {
    var row = targetOf(event);
    if (!row || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    row.classList.add("drop-over");
  });

  tree.addEventListener("dragleave", function (event) {
    var row = targetOf(event);
    if (row && !row.contains(event.relatedTarget)) row.classList.remove("drop-over");
  });

  tree.addEventListener("drop", function (event) {
    var row = targetOf(event);
    if (!row) return;
    event.preventDefault();
    row.classList.remove("drop-over");
    var item = event.dataTransfer.getData("text/plain") || (dragged && dragged.getAttribute("data-item"));
    if (item) move(item, row.getAttribute("data-drop-parent"));
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
