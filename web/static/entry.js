/* The new-deal form: the contact list follows the chosen account (the page for that account brings its people).
   Without this script the list holds the people of the account the page was opened for. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-deal-form]");
  if (!form) return;
  var account = form.querySelector("select[name=account_id]");
  var contact = form.querySelector("select[name=contact_id]");
  if (!account || !contact) return;

  account.addEventListener("change", function () {
    var url = form.getAttribute("data-contacts-url") + "?account_id=" + encodeURIComponent(account.value || "");
    contact.setAttribute("aria-busy", "true");
    window.crmpm.request(url)
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("form[data-deal-form] select[name=contact_id]");
        contact.replaceChildren.apply(contact, fresh ? Array.prototype.slice.call(fresh.options).map(function (o) {
          return new Option(o.text, o.value);
        }) : []);
      })
      .catch(function () { contact.replaceChildren(new Option("—", "")); })
      .finally(function () { contact.removeAttribute("aria-busy"); });
  });
})();
