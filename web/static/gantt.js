/* The Gantt chart: scrolled to the data date, a row's label and bar lit together, and for an editor the bars
 * can be changed with the mouse or the keyboard:
 * - drag a bar: a "start on or after" constraint at the day it is dropped on (after a confirmation);
 * - drag a bar's right edge: its original duration, up to the day it now ends;
 * - drag a round handle onto another bar: a link (from the finish handle FS, from the start handle SS);
 * - keyboard: Tab / arrow keys between bars, Shift+←/→ move the start, Alt+←/→ change the duration, Enter
 *   confirms, Escape cancels, E opens the forms below the chart (link to an activity by code or name).
 * Each change is POSTed with crmpm.request; the server stores it, reschedules and the chart is redrawn. */
(function () {
  "use strict";

  var DAY = 86400000;

  function $(root, selector) { return root.querySelector(selector); }
  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  function locale() { return document.documentElement.lang || undefined; }

  function dayIndexToIso(gantt, index) {
    var start = gantt.getAttribute("data-scale-start").split("-");
    var when = new Date(Date.UTC(+start[0], +start[1] - 1, +start[2]) + index * DAY);
    return when.toISOString().slice(0, 10);
  }

  function isoToDayIndex(gantt, iso) {
    var start = gantt.getAttribute("data-scale-start").split("-");
    var p = iso.slice(0, 10).split("-");
    return Math.round((Date.UTC(+p[0], +p[1] - 1, +p[2]) - Date.UTC(+start[0], +start[1] - 1, +start[2])) / DAY);
  }

  function shown(iso) {
    var p = iso.split("-");
    return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: "UTC" })
      .format(new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])));
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) { return key in values ? values[key] : match; });
  }

  function status(area, text, failed) {
    var line = $(area, "[data-gantt-status]");
    if (!line) return;
    line.textContent = text || "";
    line.classList.toggle("error", !!failed);
  }

  /** Ask with the page's <dialog>; resolves true on confirm. */
  function confirmWith(area, text) {
    var dialog = $(area, "#pm-gantt-confirm");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(text));
    $(dialog, "[data-confirm-text]").textContent = text;
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok");
      });
      dialog.returnValue = "";
      dialog.showModal();
      $(dialog, "[data-confirm-ok]").focus();
    });
  }

  /** POST ``data`` to ``url``; on success redraw the chart (or follow the scheduling job), else say why. */
  function send(area, url, data, focusId) {
    var gantt = $(area, "[data-gantt]");
    var body = new FormData();
    Object.keys(data).forEach(function (key) { body.append(key, data[key]); });
    status(area, gantt.getAttribute("data-msg-busy"));
    area.setAttribute("aria-busy", "true");
    return window.crmpm.request(url, { method: "POST", body: body, headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.job_url) { window.location.assign(answer.job_url); return; }
        return redraw(area, answer.message, focusId);
      })
      .catch(function (error) {
        area.removeAttribute("aria-busy");
        var fallback = gantt.getAttribute("data-msg-failed");
        if (error.response && (error.response.headers.get("Content-Type") || "").indexOf("json") !== -1) {
          return error.response.json().then(function (answer) {
            status(area, answer.message || fallback, true);
            restore(area, focusId);
          });
        }
        status(area, fallback, true);
        restore(area, focusId);
      });
  }

  /** Put every bar back where the server drew it (after a cancelled or refused change). */
  function restore(area, focusId) {
    all(area, "g.pm-row").forEach(function (row) { reset(row); });
    focusBar(area, focusId);
  }

  function redraw(area, message, focusId) {
    return window.crmpm.request(window.location.href, { headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("pm-gantt-area");
        if (!fresh) { window.location.reload(); return; }
        var scroll = $(area, ".pm-gantt-chart").scrollLeft;
        area.replaceWith(fresh);
        init(fresh, scroll);
        status(fresh, message);
        focusBar(fresh, focusId);
      });
  }

  /** The URL of a change to ``row``'s activity: the chart holds each URL once, for activity 0. */
  function urlOf(row, kind) {
    var gantt = row.closest("[data-gantt]");
    var url = gantt && gantt.getAttribute("data-" + kind + "-url");
    return url ? url.replace("/activities/0/", "/activities/" + row.getAttribute("data-activity") + "/") : null;
  }

  function editable(row) {
    var gantt = row.closest("[data-gantt]");
    return !!gantt && gantt.hasAttribute("data-editable") && row.hasAttribute("tabindex");
  }

  function bars(area) { return all(area, "g.pm-row[tabindex]"); }

  function focusBar(area, id) {
    var bar = id && $(area, 'g.pm-row[data-activity="' + id + '"][tabindex]');
    if (bar) bar.focus();
  }

  // --- shapes while dragging -----------------------------------------------------------------------------

  function shapes(row) {
    return all(row, ".bar, .done, .milestone, .pm-resize, .pm-link-handle, .pm-focus, .float");
  }

  function shift(row, dx) {
    shapes(row).forEach(function (shape) { shape.setAttribute("transform", "translate(" + dx + " 0)"); });
    row.classList.add("pm-moving");
  }

  function stretch(row, dx) {
    var bar = $(row, ".bar");
    if (!bar) return;
    if (!bar.hasAttribute("data-width")) bar.setAttribute("data-width", bar.getAttribute("width"));
    bar.setAttribute("width", Math.max(2, parseFloat(bar.getAttribute("data-width")) + dx));
    all(row, ".pm-resize, .pm-link-handle[data-end=finish]").forEach(function (shape) {
      shape.setAttribute("transform", "translate(" + dx + " 0)");
    });
    row.classList.add("pm-moving");
  }

  function reset(row) {
    shapes(row).forEach(function (shape) { shape.removeAttribute("transform"); });
    var bar = $(row, ".bar");
    if (bar && bar.hasAttribute("data-width")) {
      bar.setAttribute("width", bar.getAttribute("data-width"));
      bar.removeAttribute("data-width");
    }
    row.classList.remove("pm-moving");
    row.removeAttribute("data-pending-days");
    row.removeAttribute("data-pending-end");
  }

  // --- the three changes ---------------------------------------------------------------------------------

  function startDayOf(row) { return isoToDayIndex(row.closest("[data-gantt]"), row.getAttribute("data-start")); }

  function lastDayOf(row) {
    // The day the bar ends on: its finish, or the day before when it finishes at midnight.
    var finish = row.getAttribute("data-finish");
    var index = isoToDayIndex(row.closest("[data-gantt]"), finish);
    return finish.slice(11) === "00:00" && finish !== row.getAttribute("data-start") ? index - 1 : index;
  }

  function askMove(area, row, days) {
    var gantt = $(area, "[data-gantt]");
    if (!days) { reset(row); return; }
    var iso = dayIndexToIso(gantt, startDayOf(row) + days);
    var id = row.getAttribute("data-activity");
    confirmWith(area, fill(gantt.getAttribute("data-msg-confirm"), { code: row.getAttribute("data-code"), date: shown(iso) }))
      .then(function (ok) {
        if (!ok) { reset(row); focusBar(area, id); return; }
        send(area, urlOf(row, "move"), { start: iso }, id);
      });
  }

  function askDuration(area, row, days) {
    var gantt = $(area, "[data-gantt]");
    if (!days) { reset(row); return; }
    var last = Math.max(lastDayOf(row) + days, startDayOf(row));
    send(area, urlOf(row, "duration"), { finish: dayIndexToIso(gantt, last) },
         row.getAttribute("data-activity"));
  }

  function askLink(area, row, target, fromStart) {
    send(area, urlOf(row, "links"),
         { successor: target.getAttribute("data-activity"), type: fromStart ? "SS" : "FS" },
         row.getAttribute("data-activity"));
  }

  // --- mouse ---------------------------------------------------------------------------------------------

  function pointerDown(area, event) {
    var gantt = $(area, "[data-gantt]");
    var row = event.target.closest("g.pm-row[tabindex]");
    if (!row || event.button !== 0 || !editable(row)) return;
    var kind = event.target.classList.contains("pm-link-handle") ? "link"
      : event.target.classList.contains("pm-resize") ? "duration"
      : event.target.matches(".bar, .done, .milestone, .pm-focus") ? "move" : null;
    if (!kind) return;
    event.preventDefault();
    var perDay = parseFloat(gantt.getAttribute("data-px-per-day"));
    var x0 = event.clientX;
    var svg = row.ownerSVGElement;
    var draft = $(svg, ".pm-draft-link");
    var handle = event.target;
    var moved = false;

    function at(e) {
      var box = svg.getBoundingClientRect();
      return { x: e.clientX - box.left, y: e.clientY - box.top };
    }

    function onMove(e) {
      var dx = e.clientX - x0;
      if (Math.abs(dx) > 2 || Math.abs(e.clientY - event.clientY) > 2) moved = true;
      if (kind === "move") shift(row, dx);
      else if (kind === "duration") stretch(row, dx);
      else {
        var p = at(e);
        draft.setAttribute("d", "M " + handle.getAttribute("cx") + " " + handle.getAttribute("cy") + " L " + p.x + " " + p.y);
        draft.removeAttribute("hidden");
      }
    }

    function onUp(e) {
      document.removeEventListener("pointermove", onMove);
      document.removeEventListener("pointerup", onUp);
      var dx = e.clientX - x0;
      if (kind === "link") {
        draft.setAttribute("hidden", "");
        var under = document.elementFromPoint(e.clientX, e.clientY);
        var target = under && under.closest("g.pm-row[data-activity][tabindex]");
        if (moved && target && target !== row) askLink(area, row, target, handle.getAttribute("data-end") === "start");
        return;
      }
      if (!moved) { reset(row); row.focus(); return; }
      var days = Math.round(dx / perDay);
      if (kind === "move") askMove(area, row, days);
      else askDuration(area, row, days);
    }

    document.addEventListener("pointermove", onMove);
    document.addEventListener("pointerup", onUp);
  }

  // --- keyboard ------------------------------------------------------------------------------------------

  function keyDown(area, event) {
    var row = event.target.closest && event.target.closest("g.pm-row[tabindex]");
    if (!row) return;
    var list = bars(area);
    var index = list.indexOf(row);
    var canEdit = editable(row);
    var perDay = parseFloat($(area, "[data-gantt]").getAttribute("data-px-per-day"));
    var key = event.key;
    if ((key === "ArrowDown" || key === "ArrowUp") && !event.shiftKey && !event.altKey) {
      var next = list[index + (key === "ArrowDown" ? 1 : -1)];
      if (next) { reset(row); next.focus(); }
      event.preventDefault();
    } else if (canEdit && (key === "ArrowLeft" || key === "ArrowRight") && (event.shiftKey || event.altKey)) {
      var step = key === "ArrowRight" ? 1 : -1;
      if (event.shiftKey) {
        var days = (+row.getAttribute("data-pending-days") || 0) + step;
        reset(row);
        row.setAttribute("data-pending-days", days);
        shift(row, days * perDay);
      } else if (!row.hasAttribute("data-milestone")) {
        var end = (+row.getAttribute("data-pending-end") || 0) + step;
        reset(row);
        row.setAttribute("data-pending-end", end);
        stretch(row, end * perDay);
      }
      event.preventDefault();
    } else if (key === "Enter" || key === " ") {
      event.preventDefault();
      if (row.hasAttribute("data-pending-days")) askMove(area, row, +row.getAttribute("data-pending-days"));
      else if (row.hasAttribute("data-pending-end")) askDuration(area, row, +row.getAttribute("data-pending-end"));
      else if (canEdit) openForms(area, row);
    } else if (key === "Escape") {
      reset(row);
    } else if ((key === "e" || key === "E") && canEdit) {
      event.preventDefault();
      openForms(area, row);
    }
  }

  // --- the forms below the chart -------------------------------------------------------------------------

  function choose(area, row) {
    var panel = $(area, "#pm-gantt-edit");
    if (!panel || !editable(row)) return null;
    panel.setAttribute("data-activity", row.getAttribute("data-activity"));
    var label = $(area, '.pm-gantt-label[data-activity="' + row.getAttribute("data-activity") + '"] a');
    $(panel, "[data-edit-code]").textContent = label ? label.textContent : row.getAttribute("data-code");
    $(panel, '[data-gantt-form="move"]').action = urlOf(row, "move");
    $(panel, '[data-gantt-form="duration"]').action = urlOf(row, "duration");
    $(panel, '[data-gantt-form="link"]').action = urlOf(row, "links");
    $(panel, '[name="start"]').value = row.getAttribute("data-start").slice(0, 10);
    $(panel, '[name="days"]').value = row.getAttribute("data-days");
    return panel;
  }

  function openForms(area, row) {
    var panel = choose(area, row);
    if (!panel) return;
    panel.scrollIntoView({ block: "nearest" });
    $(panel, '[name="start"]').focus();
  }

  function submitForm(area, event) {
    var form = event.target.closest("form[data-gantt-form]");
    if (!form) return;
    event.preventDefault();
    var panel = $(area, "#pm-gantt-edit");
    var id = panel.getAttribute("data-activity");
    var row = $(area, 'g.pm-row[data-activity="' + id + '"]');
    var kind = form.getAttribute("data-gantt-form");
    if (kind === "move") {
      var iso = form.elements.start.value;
      if (!iso) { form.reportValidity(); return; }
      var gantt = $(area, "[data-gantt]");
      confirmWith(area, fill(gantt.getAttribute("data-msg-confirm"), { code: row ? row.getAttribute("data-code") : "", date: shown(iso) }))
        .then(function (ok) { if (ok) send(area, form.action, { start: iso }, id); });
    } else if (kind === "duration") {
      send(area, form.action, { days: form.elements.days.value }, id);
    } else {
      send(area, form.action, { other: form.elements.other.value, type: form.elements.type.value }, id);
    }
  }

  // --- set-up --------------------------------------------------------------------------------------------

  function init(area, scroll) {
    var root = $(area, "[data-gantt]");
    if (!root) return;
    var chart = $(root, ".pm-gantt-chart");
    var line = $(root, "g.data-date line");
    if (typeof scroll === "number") chart.scrollLeft = scroll;
    else if (chart && line) {
      // Only when the data date would be off to the right: otherwise the project's start stays in view.
      var x = parseFloat(line.getAttribute("x1"));
      if (x > chart.clientWidth * 0.85) chart.scrollLeft = Math.max(0, x - chart.clientWidth / 3);
    }
    var labels = all(root, ".pm-gantt-label");
    // Labels and chart rows are drawn in the same order; pair them by position.
    var rows = all(root, "svg > g.pm-row, svg > g.pm-wbs-row");
    labels.forEach(function (label, index) {
      var shape = rows[index];
      if (!shape) return;
      function on() { label.classList.add("hover"); shape.classList.add("hover"); }
      function off() { label.classList.remove("hover"); shape.classList.remove("hover"); }
      label.addEventListener("mouseenter", on);
      label.addEventListener("mouseleave", off);
      shape.addEventListener("mouseenter", on);
      shape.addEventListener("mouseleave", off);
      shape.addEventListener("focus", function () { on(); choose(area, shape); });
      shape.addEventListener("blur", off);
    });
    if (root.hasAttribute("data-editable")) {
      root.addEventListener("pointerdown", function (event) { pointerDown(area, event); });
      area.addEventListener("submit", function (event) { submitForm(area, event); });
    }
    root.addEventListener("keydown", function (event) { keyDown(area, event); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("pm-gantt-area");
    if (area) init(area);
  });
})();
