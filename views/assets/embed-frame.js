// Inside a partner's frame (embed.js): tell the page around it how tall this page is, whenever that
// changes, so that it shows all of it. Only a number is sent, to whichever site frames us ('*'):
// nothing in it is private, and the page around checks that the message comes from us.
(function () {
  'use strict';
  if (window.parent === window) return;
  var last = 0;
  function post() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage(height, '*');
  }
  if (window.ResizeObserver) new window.ResizeObserver(post).observe(document.documentElement);
  window.addEventListener('load', post);
  post();
})();
