// Show only the fieldsets that fit the chosen kind of profile (person or company).
(function () {
  function sync(select) {
    document.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind") !== select.value;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("select[name=kind]");
    if (!select) return;
    sync(select);
    select.addEventListener("change", function () { sync(select); });
  });
})();

// "Add a row" under a table of form rows: copy the last row with its inputs emptied.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-add-row]");
  if (!button) return;
  var body = document.querySelector(button.getAttribute("data-add-row"));
  if (!body || !body.lastElementChild) return;
  var row = body.lastElementChild.cloneNode(true);
  row.classList.remove("has-error");
  row.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
  row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
  body.appendChild(row);
  var first = row.querySelector("input");
  if (first) first.focus();
});
