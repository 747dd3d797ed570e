// Kept out of the page so a strict Content-Security-Policy (script-src 'self') holds.
window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#api", deepLinking: true });
