  // ---- Start: one reader per article this script tag names -----------

  var me = document.currentScript;

  // The site's "Đọc nội dung" button nearest to the article (or the one
  // data-button names), not taken by another reader; else a new one.
  function findButton(roots, sel) {
    var cands = [], all = sel ? document.querySelectorAll(sel) : document.querySelectorAll('button,[role=button]');
    var want = LABEL.normalize('NFC').toLowerCase();
    for (var i = 0; i < all.length; i++) {
      var b = all[i];
      if (b.classList.contains('loa-btn') || b.closest('[data-loa-ui]')) continue;
      if (sel || b.textContent.trim().normalize('NFC').toLowerCase() === want) cands.push(b);
    }
    for (var a = roots[0]; a; a = a.parentElement) {
      for (var k = 0; k < cands.length; k++) if (a.contains(cands[k])) return cands[k];
    }
    var made = el('button', { type: 'button', text: LABEL }), r = roots[0];
    if (r === document.body) r.insertBefore(made, r.firstChild);
    else r.parentNode.insertBefore(made, r);
    return made;
  }

  function once() {
    if (R.listening) return;
    R.listening = true;
    el('style', { text: CSS, 'data-loa-ui': '' }, document.head || document.documentElement);
    document.addEventListener('keydown', function (e) {
      var w = R.active;
      if (!w || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || editable(e.target)) return;
      if (e.key === 'Escape' && (w.playing || w.loading)) { w.stop(); e.preventDefault(); return; }
      // ←/→ in the article being read, once it has been started.
      var inside = w.roots.some(function (r) { return r.contains(e.target); });
      if (inside && w.plan && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
        w.go(w.cur + (e.key === 'ArrowLeft' ? -1 : 1));
        e.preventDefault();
      }
    });
    var queued = false;
    function onScroll() {
      if (queued) return;
      queued = true;
      (window.requestAnimationFrame || setTimeout)(function () {
        queued = false;
        R.all.forEach(function (w) { w.place(); });
      });
    }
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    window.addEventListener('pagehide', function () { R.all.forEach(function (w) { w.save(); }); });
  }

  function init() {
    var script = me;
    function attr(n) { return script ? script.getAttribute(n) : null; }
    var api = (attr('data-api') || (script && script.src ? new URL('.', script.src).href : '/')).replace(/\/+$/, '');
    var opts = { api: api, voice: attr('data-voice'), skip: attr('data-skip'), button: attr('data-button'),
      // Text policy of the service (server.text_input): 'url' sends the
      // page's address; data-signature (with data-text, the element holding
      // exactly the signed text) is for 'signed'.
      mode: attr('data-mode'), url: attr('data-url'), signature: attr('data-signature'), text: attr('data-text'),
      retryMs: retrySchedule(attr('data-retry-ms')) };
    var target = attr('data-target'), groups = [];
    if (target) {
      var found = document.querySelectorAll(target);
      for (var i = 0; i < found.length; i++) {
        if (R.bound.has(found[i]) || found[i].closest('[data-loa-ui]')) continue;
        // An article inside another one this tag names is read with it.
        var nested = false;
        for (var j = 0; j < found.length; j++) if (j !== i && found[j].contains(found[i])) nested = true;
        if (!nested) groups.push([found[i]]);
      }
      if (!found.length && window.console) console.warn('loa: no element matches ' + target);
    } else {
      var auto = autoRoots();
      if (auto) groups.push(auto);
    }
    if (!groups.length) return;
    once();
    groups.forEach(function (roots) {
      roots.forEach(function (r) { R.bound.add(r); });
      new Widget(roots, findButton(roots, opts.button), opts);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
