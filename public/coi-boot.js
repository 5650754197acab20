// Registers the built studio's service worker (sw.js: works offline after the first visit; adds COOP/COEP on static
// hosts that send no headers, then reloads once, isolated). The dev server has none: it sends the headers itself.
// An external script, as the CSP allows no inline one.
(function () {
  var meta = document.querySelector('meta[name="cstudio-service-worker"]');
  if (!meta || !window.isSecureContext || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register(new URL(meta.content, document.baseURI)).then(
    function () {
      if (window.crossOriginIsolated || sessionStorage.getItem('coi-reloaded')) return;
      var reload = function () {
        sessionStorage.setItem('coi-reloaded', '1');
        location.reload();
      };
      if (navigator.serviceWorker.controller) reload();
      else navigator.serviceWorker.addEventListener('controllerchange', reload, { once: true });
    },
    function () {},
  );
})();
