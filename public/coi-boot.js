// Static hosts without COOP/COEP headers: a service worker adds them, then the page reloads once, isolated.
if (!window.crossOriginIsolated && window.isSecureContext && 'serviceWorker' in navigator && !sessionStorage.getItem('coi-reloaded')) {
  navigator.serviceWorker.register(new URL('coi-sw.js', document.baseURI)).then((registration) => {
    const reload = () => {
      sessionStorage.setItem('coi-reloaded', '1');
      location.reload();
    };
    if (navigator.serviceWorker.controller) reload();
    else navigator.serviceWorker.addEventListener('controllerchange', reload, { once: true });
  }, () => undefined);
}
