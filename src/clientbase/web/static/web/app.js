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
