/* The PM's plan pages: the relationship picker's suggestions (activities by code or name, from the project's
 * JSON list) in the input's <datalist>. Typing a code works without it; the arrow keys pick a suggestion. */
(function () {
  "use strict";

  function picker(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-find-url");
    var exclude = input.getAttribute("data-exclude");
    var timer = null;
    var last = null;

    function fill(items) {
      list.textContent = "";
      items.forEach(function (item) {
        if (item.code === exclude) { return; }
        var option = document.createElement("option");
        option.value = item.code;
        option.label = item.name;
        option.textContent = item.name;
        list.appendChild(option);
      });
    }

    function look() {
      var text = input.value.trim();
      if (text === last) { return; }
      last = text;
      window.crmpm.request(url + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) { if (input.value.trim() === text) { fill(data.items); } })
        .catch(function () { /* the typed code still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(look, 150);
    });
    input.addEventListener("focus", look);
  }

  document.querySelectorAll("input[data-find-url][list]").forEach(picker);
})();
