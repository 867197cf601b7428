// Starts Swagger UI on this deployment's OpenAPI document. A file of its own, served by us: the
// page's Content-Security-Policy allows scripts from this origin only, never inline ones.
"use strict";

const root = document.getElementById("reference");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapi,
  domNode: root,
  deepLinking: true,
  // No badge from the public validator: nothing leaves this origin.
  validatorUrl: null,
  persistAuthorization: false,
  displayRequestDuration: true,
});
