/*
 * A petition's sign form on another site: a frame of our /embed/petitions/<slug> page, as tall as
 * its content. On the partner's page, where the form should appear:
 *
 *   <script src="https://OUR-SITE/embed.js" data-petition="SLUG" async></script>
 *
 * or, with the script once anywhere on the page, one element per form:
 *
 *   <div data-undersigned-petition="SLUG" data-lang="fr" data-title="…"></div>
 *
 * data-lang (en, fr) chooses the language, else the visitor's browser does; data-title names the
 * frame for screen readers. Signatures made there are counted with the source embed-<this host>.
 *
 * The frame tells this page its height with postMessage, a bare number; a message is believed only
 * when it comes from our origin (the one this script was loaded from) and from this very frame.
 * No dependency, no cookie, nothing stored.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src || !window.URL) return;
  var origin = new URL(script.src, window.location.href).origin;

  function mount(slot, slug, lang, title) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug || '') || slot.getAttribute('data-undersigned-mounted')) return;
    slot.setAttribute('data-undersigned-mounted', 'true');
    var src = new URL('/embed/petitions/' + slug, origin);
    if (lang === 'en' || lang === 'fr') src.searchParams.set('lang', lang);
    if (window.location.hostname) src.searchParams.set('source', 'embed-' + window.location.hostname);
    var frame = document.createElement('iframe');
    frame.src = src.href;
    frame.title = title || 'Sign the petition';
    frame.setAttribute('loading', 'lazy');
    // The frame may run its own scripts and forms, and open links in a new tab; it may not navigate
    // this page. (allow-same-origin: it stays our origin, so that its form is a same-origin POST.)
    frame.setAttribute(
      'sandbox',
      'allow-forms allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox',
    );
    frame.style.cssText = 'display:block;width:100%;max-width:40rem;height:40rem;border:0';
    slot.appendChild(frame);
    window.addEventListener('message', function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      var height = event.data;
      if (typeof height !== 'number' || !window.isFinite(height)) return;
      frame.style.height = Math.min(Math.max(Math.ceil(height), 80), 10000) + 'px';
    });
  }

  var own = script.getAttribute('data-petition');
  if (own) {
    var slot = document.createElement('div');
    slot.className = 'undersigned-embed';
    script.parentNode.insertBefore(slot, script.nextSibling);
    mount(slot, own, script.getAttribute('data-lang'), script.getAttribute('data-title'));
  }
  function mountAll() {
    var slots = document.querySelectorAll('[data-undersigned-petition]');
    for (var i = 0; i < slots.length; i++) {
      var el = slots[i];
      mount(
        el,
        el.getAttribute('data-undersigned-petition'),
        el.getAttribute('data-lang'),
        el.getAttribute('data-title'),
      );
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
})();
