/* The "Documents" section: files dropped on it are uploaded at once (the form's file field is the fallback). */
(function () {
  "use strict";

  function upload(form, files) {
    var status = form.querySelector("[data-upload-status]");
    var data = new FormData(form);
    data.delete("file");
    Array.prototype.forEach.call(files, function (file) { data.append("file", file, file.name); });
    if (status) { status.textContent = form.getAttribute("data-uploading") || "…"; }
    return window.crmpm.request(form.action, { method: "POST", body: data, headers: { Accept: "application/json" } })
      .then(function () { window.location.reload(); })
      .catch(function (error) {
        if (!error.response) { throw error; }
        return error.response.json().then(function (body) {
          if (status) { status.textContent = body.message || ("HTTP " + error.status); }
        }, function () {
          if (status) { status.textContent = "HTTP " + error.status; }
        });
      });
  }

  function init(section) {
    var form = section.querySelector("form[data-dropzone]");
    if (!form) { return; }
    section.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
        event.preventDefault();
        section.classList.add("dragging");
      }
    });
    section.addEventListener("dragleave", function (event) {
      if (!section.contains(event.relatedTarget)) { section.classList.remove("dragging"); }
    });
    section.addEventListener("drop", function (event) {
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      event.preventDefault();
      section.classList.remove("dragging");
      upload(form, event.dataTransfer.files);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-documents]"), init);
  });
}());
