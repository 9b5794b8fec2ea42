/* The search box in every page's header: "/" (outside a field) or Ctrl+K (Cmd+K) puts the cursor in it; Escape
   leaves it. The form itself is plain HTML (GET /search?q=…) and works without this file. */
(function () {
  "use strict";

  function box() {
    return document.getElementById("site-search-q");
  }

  function typingInField(target) {
    if (!target || target === document.body) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    var input = box();
    if (!input || event.defaultPrevented || event.isComposing) return;
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingInField(event.target);
    var ctrlK = (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K");
    if (slash || ctrlK) {
      event.preventDefault();
      // On a phone the box sits in the top bar's folded panel: open it first (static/app.js).
      var toggle = document.querySelector(".menu-toggle[aria-expanded=false]");
      if (toggle && !input.getClientRects().length) toggle.click();
      input.focus();
      input.select();
    } else if (event.key === "Escape" && event.target === input) {
      input.blur();
    }
  });
})();
