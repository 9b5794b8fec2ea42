/* The account page: "Load more" fetches the next page of the timeline and appends it in place. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-timeline-more]");
    if (!link || !window.crmpm) return;
    event.preventDefault();
    var item = link.closest("li.more");
    var list = item.parentElement;
    link.setAttribute("aria-busy", "true");
    window.crmpm.request(link.getAttribute("href"))
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        item.remove();
        list.appendChild(template.content);
      })
      .catch(function () {
        link.removeAttribute("aria-busy");
        link.classList.add("danger");
      });
  });
})();
