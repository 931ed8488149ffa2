/* Starts Swagger UI for /api/v1/docs with the settings the page embeds as JSON (no inline script: CSP). */
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  settings.dom_id = "#swagger-ui";
  settings.presets = [window.SwaggerUIBundle.presets.apis];
  window.ui = window.SwaggerUIBundle(settings);
})();
