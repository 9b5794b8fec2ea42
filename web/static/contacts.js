/* The contact forms: "Add a phone" / "Add an e-mail" append one more row of the kind asked for. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-add-channel]");
    if (!button) return;
    var fieldset = button.closest("[data-channels]");
    var rows = fieldset.querySelector("[data-channel-rows]");
    var last = rows.querySelector("[data-channel-row]:last-of-type");
    if (!last) return;
    var index = rows.querySelectorAll("[data-channel-row]").length;
    var row = last.cloneNode(true);
    row.querySelectorAll("input, select").forEach(function (input) {
      var name = input.getAttribute("name").replace(/^channels-\d+-/, "channels-" + index + "-");
      input.setAttribute("name", name);
      input.setAttribute("id", name);
      if (input.tagName === "INPUT") input.value = "";
    });
    var type = button.getAttribute("data-add-channel");
    row.querySelector("select[name$='-type']").value = type;
    row.querySelector("select[name$='-kind']").value = type === "phone" ? "mobile" : "work";
    rows.appendChild(row);
    row.querySelector("input[name$='-value']").focus();
  });
})();
