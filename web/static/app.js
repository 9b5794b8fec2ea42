/* crmpm pages: a CSRF-aware fetch helper, the expandable budget tree, small conveniences. No framework. */
(function () {
  "use strict";

  /** The session's CSRF token, from <meta name="csrf-token">. */
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /**
   * fetch() for the pages: same-origin cookies, the CSRF token on every state-changing request,
   * and a rejected promise (with .status) for any answer that is not 2xx.
   */
  function request(url, options) {
    options = Object.assign({ method: "GET", credentials: "same-origin" }, options || {});
    var headers = new Headers(options.headers || {});
    if (!/^(GET|HEAD|OPTIONS)$/i.test(options.method)) {
      headers.set("X-CSRFToken", csrfToken());
    }
    headers.set("X-Requested-With", "fetch");
    options.headers = headers;
    return fetch(url, options).then(function (response) {
      if (response.redirected && new URL(response.url).pathname === "/login") {
        // The session ended meanwhile: go and log in, then come back here.
        window.location.assign(response.url.split("?")[0] + "?next=" + encodeURIComponent(window.location.pathname + window.location.search));
        throw new Error("logged out");
      }
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        error.response = response;
        throw error;
      }
      return response;
    });
  }

  window.crmpm = { request: request, csrfToken: csrfToken };

  // The budget tree: children are fetched when a node is expanded and removed when it is collapsed.

  function descendantsOf(row) {
    var id = row.getAttribute("data-id");
    var found = [];
    var next = row.nextElementSibling;
    while (next) {
      var ancestors = (next.getAttribute("data-ancestors") || "").split(" ");
      if (ancestors.indexOf(id) === -1) break;
      found.push(next);
      next = next.nextElementSibling;
    }
    return found;
  }

  function insertRows(afterRow, html, parentRow) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var chain = parentRow ? ((parentRow.getAttribute("data-ancestors") || "") + " " + parentRow.getAttribute("data-id")).trim() : "";
    var rows = Array.prototype.slice.call(template.content.querySelectorAll("tr"));
    var anchor = afterRow;
    rows.forEach(function (row) {
      if (chain) row.setAttribute("data-ancestors", chain);
      anchor.after(row);
      anchor = row;
    });
  }

  function showError(row, error) {
    var cell = row.querySelector("td");
    var note = document.createElement("span");
    note.className = "negative small";
    note.textContent = " ⚠ " + (error.status === 404 ? "not found" : "could not load");
    cell.appendChild(note);
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("button.toggle");
    if (toggle) {
      var row = toggle.closest("tr");
      if (toggle.getAttribute("aria-expanded") === "true") {
        descendantsOf(row).forEach(function (r) { r.remove(); });
        toggle.setAttribute("aria-expanded", "false");
        return;
      }
      toggle.setAttribute("aria-busy", "true");
      request(toggle.getAttribute("data-url"))
        .then(function (response) { return response.text(); })
        .then(function (html) {
          insertRows(row, html, row);
          toggle.setAttribute("aria-expanded", "true");
        })
        .catch(function (error) { showError(row, error); })
        .finally(function () { toggle.removeAttribute("aria-busy"); });
      return;
    }
    // "Show more" is a button, or a link to the next page that works without scripts (the EPS tree).
    var more = event.target.closest("button.more, a.more[data-url]");
    if (more) {
      event.preventDefault();
      if (more.getAttribute("aria-disabled") === "true") return;
      var moreRow = more.closest("tr");
      var parentId = moreRow.getAttribute("data-parent");
      var parentRow = parentId ? document.querySelector('tr.tree-row[data-kind="node"][data-id="' + parentId + '"]') : null;
      more.disabled = true;
      more.setAttribute("aria-disabled", "true");
      request(more.getAttribute("data-url"))
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var chain = moreRow.getAttribute("data-ancestors");
          var template = document.createElement("template");
          template.innerHTML = html.trim();
          var anchor = moreRow;
          Array.prototype.slice.call(template.content.querySelectorAll("tr")).forEach(function (r) {
            if (chain) r.setAttribute("data-ancestors", chain);
            anchor.after(r);
            anchor = r;
          });
          moreRow.remove();
        })
        .catch(function (error) { more.disabled = false; more.removeAttribute("aria-disabled"); showError(moreRow, error); });
      return;
    }
    var exportLink = event.target.closest("a[data-export-tree]");
    if (exportLink) {
      // Export what is on screen: the expanded nodes travel with the link.
      var open = Array.prototype.map.call(
        document.querySelectorAll('table[data-tree] button.toggle[aria-expanded="true"]'),
        function (b) { return b.closest("tr").getAttribute("data-id"); });
      var url = new URL(exportLink.href, window.location.href);
      url.searchParams.set("open", open.join(","));
      exportLink.href = url.toString();
    }
  });

  // Forms that ask before doing something hard to undo.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // The menu button of the phone layout: opens and closes the top bar's panel (the menu, language and user);
  // Escape closes it and gives the focus back to the button.
  var menuButton = document.querySelector(".menu-toggle[aria-controls]");
  if (menuButton) {
    var setMenu = function (open) { menuButton.setAttribute("aria-expanded", open ? "true" : "false"); };
    menuButton.addEventListener("click", function () {
      setMenu(menuButton.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || menuButton.getAttribute("aria-expanded") !== "true") return;
      setMenu(false);
      menuButton.focus();
    });
  }

  // Tables shown as cards on a phone (app.css): each cell is labelled with its column heading. A template may
  // set data-label itself; otherwise the <th> text is copied, following colspans, also into rows added later.
  function labelCells(table) {
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) return;
    var headings = [];
    Array.prototype.forEach.call(headRow.cells, function (th) {
      var text = (th.getAttribute("data-label") || th.textContent).replace(/\s+/g, " ").trim();
      for (var i = 0; i < (th.colSpan || 1); i++) headings.push(text);
    });
    Array.prototype.forEach.call(table.querySelectorAll(":scope > tbody > tr, :scope > tfoot > tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        var span = cell.colSpan || 1;
        if (!cell.hasAttribute("data-label") && span < headings.length) cell.setAttribute("data-label", headings[column] || "");
        column += span;
      });
    });
  }
  var labelled = "table.list, table.tree, table.table";
  document.querySelectorAll(labelled).forEach(labelCells);
  if (window.MutationObserver) {
    new MutationObserver(function (changes) {
      var tables = new Set();
      changes.forEach(function (change) {
        var table = change.target.closest && change.target.closest(labelled);
        if (table) tables.add(table);
      });
      tables.forEach(labelCells);
    }).observe(document.body, { childList: true, subtree: true });
  }

  // Selects that apply themselves.
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });
})();
