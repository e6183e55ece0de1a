/* Fetch the search index when a reader starts to search (overrides/main.html says why). */
(function () {
  "use strict";
  var INDEX = /\/search\/search_index\.json$/;
  var held = [];
  var started = new URLSearchParams(location.search).has("q");
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;

  function start() {
    if (started) return;
    started = true;
    held.splice(0).forEach(function (request) {
      send.apply(request[0], request[1]);
    });
  }

  XMLHttpRequest.prototype.open = function (method, url) {
    this.searchIndex = INDEX.test(String(url).split(/[?#]/)[0]);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.searchIndex && !started) {
      held.push([this, arguments]);
      return;
    }
    return send.apply(this, arguments);
  };

  function isSearch(target) {
    return Boolean(
      target &&
        target.closest &&
        target.closest(".md-search, label[for='__search'], #__search")
    );
  }
  ["pointerover", "pointerdown", "focusin", "change"].forEach(function (type) {
    document.addEventListener(
      type,
      function (event) {
        if (isSearch(event.target)) start();
      },
      { capture: true, passive: true }
    );
  });
})();
