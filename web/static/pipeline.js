/* The pipeline board: drag a card to another stage (HTML5 drag and drop), load more cards per column.
   Without this script every card keeps its Move form and the "more" links open the deal list. */
(function () {
  "use strict";

  var board = document.querySelector("[data-board]");
  if (!board) return;
  var status = document.querySelector("[data-board-status]");
  var dialog = document.querySelector("[data-lost-dialog]");
  var wonDialog = document.querySelector("[data-won-dialog]");  // only when there are templates to offer
  var dragged = null;   // the card being dragged
  var origin = null;    // where it came from: {parent, next}

  function say(text, isError) {
    if (!status) return;
    status.textContent = text || "";
    status.className = "board-status" + (isError ? " error" : text ? " ok" : "");
  }

  function columnOf(element) { return element.closest(".board-column"); }

  function askLostReason(card) {
    // The lost stage needs a reason: a small dialog; resolves to the text, or null when cancelled.
    return new Promise(function (resolve) {
      if (!dialog || typeof dialog.showModal !== "function") {
        var text = window.prompt(dialog ? dialog.querySelector("h2").textContent : "?");
        resolve(text && text.trim() ? text.trim() : null);
        return;
      }
      var input = dialog.querySelector("input[name=lost_reason]");
      var name = card.querySelector(".deal-name");
      dialog.querySelector("[data-lost-deal]").textContent = name ? name.textContent : "";
      input.value = "";
      dialog.returnValue = "";
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "confirm" && input.value.trim() ? input.value.trim() : null);
      });
      dialog.showModal();
      input.focus();
    });
  }

  function askWonTemplate(card) {
    // Won: the same choice the deal page offers, the plan from a template. Resolves to the project id ("" for
    // none), or null when cancelled. Keyboard: the dialog opens on the select; Enter confirms, Escape cancels.
    return new Promise(function (resolve) {
      if (!wonDialog || typeof wonDialog.showModal !== "function") { resolve(""); return; }
      var select = wonDialog.querySelector("select[name=template_project_id]");
      var name = card.querySelector(".deal-name");
      wonDialog.querySelector("[data-won-deal]").textContent = name ? name.textContent : "";
      select.value = "";
      wonDialog.returnValue = "";
      wonDialog.addEventListener("close", function onClose() {
        wonDialog.removeEventListener("close", onClose);
        resolve(wonDialog.returnValue === "confirm" ? select.value : null);
      });
      wonDialog.showModal();
      select.focus();
    });
  }

  function updateFigures(data) {
    data.columns.forEach(function (figures) {
      var column = board.querySelector('.board-column[data-stage="' + figures.stage_id + '"]');
      if (!column) return;
      ["count", "value", "weighted"].forEach(function (key) {
        var cell = column.querySelector('[data-figure="' + key + '"]');
        if (cell) cell.textContent = key === "count" ? String(figures.count) : figures[key];
      });
      var empty = column.querySelector(".column-empty");
      if (empty) empty.hidden = figures.count > 0;
    });
    ["count", "value", "weighted"].forEach(function (key) {
      var cell = document.querySelector('[data-total="' + key + '"]');
      if (cell) cell.textContent = String(data.totals[key]);
    });
  }

  function putBack(card) {
    if (origin && origin.parent) origin.parent.insertBefore(card, origin.next && origin.next.parentNode === origin.parent ? origin.next : null);
  }

  function errorText(error) {
    if (error.response && error.response.headers.get("Content-Type") &&
        error.response.headers.get("Content-Type").indexOf("json") !== -1) {
      return error.response.json().then(function (body) { return body.message || ("HTTP " + error.status); });
    }
    return Promise.resolve(board.getAttribute("data-error") || "HTTP " + (error.status || "?"));
  }

  function move(card, column) {
    var stageId = column.getAttribute("data-stage");
    var kind = column.getAttribute("data-kind");
    var ask = kind === "lost" ? askLostReason(card) : kind === "won" ? askWonTemplate(card) : Promise.resolve("");
    return ask.then(function (answer) {
      if (answer === null) { putBack(card); return; }
      var body = new FormData();
      body.append("stage_id", stageId);
      if (answer && kind === "lost") body.append("lost_reason", answer);
      if (answer && kind === "won") body.append("template_project_id", answer);
      body.append("owner", board.getAttribute("data-owner") || "");
      body.append("q", board.getAttribute("data-q") || "");
      card.classList.add("saving");
      return window.crmpm.request(card.getAttribute("data-move-url"), {
        method: "POST", body: body, headers: { Accept: "application/json" }
      }).then(function (response) { return response.json(); })
        .then(function (data) {
          card.setAttribute("data-stage", String(data.stage_id));
          var select = card.querySelector("select[name=stage_id]");
          if (select) select.value = String(data.stage_id);
          card.classList.toggle("compact", data.stage_kind !== "open");
          var template = card.querySelector("select[name=template_project_id]");
          if (template && data.stage_kind === "won") template.closest("label").remove();
          updateFigures(data);
          countSwitcher(data);
          say(data.message, false);
        })
        .catch(function (error) {
          putBack(card);
          return errorText(error).then(function (text) { say(text, true); });
        })
        .finally(function () { card.classList.remove("saving"); });
    });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card[draggable=true]");
    if (!card) return;
    dragged = card;
    origin = { parent: card.parentNode, next: card.nextSibling };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
    card.classList.add("dragging");
  });

  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });

  board.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var column = columnOf(event.target);
    if (!column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".drop-target").forEach(function (c) { if (c !== column) c.classList.remove("drop-target"); });
    column.classList.add("drop-target");
  });

  board.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    var card = dragged;
    dragged = null;
    if (!column || !card) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    card.classList.remove("dragging");
    if (column.getAttribute("data-stage") === card.getAttribute("data-stage")) return;
    var cards = column.querySelector("[data-cards]");
    cards.insertBefore(card, cards.firstChild);
    say("", false);
    move(card, column);
  });

  // The phone layout shows one column at a time: the switcher above the board chooses it, and the choice is
  // kept for this pipeline while the tab lives (so a Move form's reload comes back to the same column).
  var switcher = document.querySelector("[data-board-switch]");
  var chooser = switcher && switcher.querySelector("select");
  var remembered = "crmpm.board." + (board.getAttribute("data-pipeline") || "");

  function showColumn(stageId) {
    var found = board.querySelector('.board-column[data-stage="' + stageId + '"]') || board.querySelector(".board-column");
    if (!found) return;
    board.querySelectorAll(".board-column.current").forEach(function (c) { c.classList.remove("current"); });
    found.classList.add("current");
    chooser.value = found.getAttribute("data-stage");
    try { window.sessionStorage.setItem(remembered, chooser.value); } catch (e) { /* storage may be off */ }
  }

  function countSwitcher(data) {
    if (!chooser) return;
    data.columns.forEach(function (figures) {
      var option = chooser.querySelector('option[value="' + figures.stage_id + '"]');
      if (option) option.textContent = option.getAttribute("data-name") + " (" + figures.count + ")";
    });
  }

  if (chooser) {
    switcher.hidden = false;
    board.setAttribute("data-switching", "");
    var saved = null;
    try { saved = window.sessionStorage.getItem(remembered); } catch (e) { saved = null; }
    showColumn(saved || chooser.value);
    chooser.addEventListener("change", function () { showColumn(chooser.value); });
  }

  // "Show more": the next cards of the column, appended in place.
  board.addEventListener("click", function (event) {
    var more = event.target.closest("a.more[data-url]");
    if (!more) return;
    event.preventDefault();
    more.setAttribute("aria-busy", "true");
    window.crmpm.request(more.getAttribute("data-url"))
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var container = more.parentNode;
        Array.prototype.slice.call(template.content.children).forEach(function (element) {
          container.insertBefore(element, more);
        });
        more.remove();
      })
      .catch(function (error) { more.removeAttribute("aria-busy"); say(board.getAttribute("data-error") || "HTTP " + (error.status || "?"), true); });
  });
})();
