// Flex Shop enhancements; every form also works without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.querySelectorAll("[data-autosubmit]").forEach(function (field) {
    field.addEventListener("change", function () {
      var value = parseInt(field.value, 10);
      if (field.type === "number" && (isNaN(value) || value < 1 || value > 99)) {
        field.reportValidity();
        return;
      }
      if (field.form) {
        field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
      }
    });
  });
})();
