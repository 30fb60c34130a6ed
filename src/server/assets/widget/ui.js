  // ---- The player: controls, live region, mini-player, resume offer ----

  var CSS = '.loa-s{cursor:pointer;border-radius:2px;transition:background-color .2s}' +
    '.loa-s:hover{background:rgba(255,213,79,.3)}' +
    '.loa-s.loa-on{background:#ffe082;box-shadow:0 0 0 2px #ffe082}' +
    '.loa-btn{min-height:44px;min-width:44px;box-sizing:border-box}' +
    '.loa-ind{display:inline-block;margin-right:.4em;vertical-align:-.15em;line-height:0}.loa-ind svg{width:1em;height:1em}' +
    '.loa-ui{box-sizing:border-box;color:#222;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:left}' +
    '.loa-ui *{box-sizing:border-box}' +
    '.loa-player{margin:.5em 0;padding:.4em .5em;border:1px solid #bbb;border-radius:8px;background:#fafafa}' +
    '.loa-row{display:flex;flex-wrap:wrap;align-items:center;gap:.3em .5em}.loa-row+.loa-row{margin-top:.3em}' +
    '.loa-ui button,.loa-ui select{min-width:44px;min-height:44px;margin:0;padding:0 .6em;font:inherit;color:#222;' +
    'background:#fff;border:1px solid #767676;border-radius:6px;cursor:pointer;line-height:1.2}' +
    '.loa-ui button:hover{background:#f0f0f0}.loa-ui svg{width:20px;height:20px;vertical-align:middle}' +
    '.loa-ui .loa-icon{padding:0;width:44px}' +
    '.loa-range{flex:1 1 8em;min-width:6em;height:44px;margin:0;accent-color:#a50e0e;cursor:pointer}' +
    '.loa-time{font-variant-numeric:tabular-nums;white-space:nowrap}' +
    '.loa-ui label{display:inline-flex;align-items:center;gap:.35em}' +
    '.loa-dl{display:inline-flex;align-items:center;min-height:44px;padding:0 .4em;color:#0b57d0}' +
    '.loa-keys{font-size:13px;color:#555}' +
    '.loa-ui :focus-visible,.loa-btn:focus-visible{outline:3px solid #1a56db;outline-offset:2px}' +
    '.loa-live{display:block;margin:.25em 0;font:14px/1.4 system-ui,sans-serif;color:#333}' +
    '.loa-live:empty{margin:0}.loa-live.loa-err{color:#b00020;font-weight:600}' +
    '.loa-resume{margin:.4em 0;padding:.4em .5em;border-left:4px solid #a50e0e;background:#fff8e1}' +
    '.loa-resume span{margin-right:.5em}' +
    '.loa-mini{position:fixed;z-index:2147483000;left:0;right:0;bottom:0;margin:0 auto;max-width:40em;display:flex;' +
    'align-items:center;gap:.4em;padding:.3em .5em calc(.3em + env(safe-area-inset-bottom,0px));background:#fafafa;' +
    'border:1px solid #bbb;border-bottom:0;border-radius:10px 10px 0 0;box-shadow:0 -2px 12px rgba(0,0,0,.18)}' +
    '.loa-mini .loa-title{flex:1 1 auto;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:14px}' +
    '.loa-ui [hidden],.loa-ui[hidden]{display:none!important}' +
    '.loa-mini .loa-follow{white-space:nowrap}' +
    '@media (max-width:480px){.loa-keys{display:none}.loa-mini.loa-following .loa-title{display:none}.loa-mini .loa-follow{flex:1 1 auto}}' +
    '@media (prefers-reduced-motion:reduce){.loa-s{transition:none}}';

  var ICONS = { play: 'M8 5v14l11-7z', pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
    prev: 'M6 6h2v12H6zm3.5 6 8.5 6V6z', next: 'M6 18l8.5-6L6 6zM16 6h2v12h-2z',
    close: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z' };
  function icon(d) {
    return '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="' + d + '"/></svg>';
  }

  function Widget(roots, button, opts) {
    this.roots = roots; this.button = button; this.opts = opts;
    this.n = ++R.n;
    this.plan = null; this.cur = -1; this.offset = 0; this.playing = false; this.loading = false;
    this.rate = 1; this.durs = []; this.known = []; this.pauses = []; this.msPerChar = 65;
    this.seq = 0; this.retry = 0; this.loadFails = 0; this.recovering = false; this.timer = 0; this.commitTimer = 0;
    this.prefetched = {}; this.spans = []; this.srcIndex = -1; this.pendingSeek = 0; this.unlocked = false;
    this.title = headline(roots);
    this.ex = extract(roots, opts);
    this.key = 'loa:' + hash(this.ex.text + '\u0000' + (opts.voice || ''));
    R.all.push(this);
    this.build();
    this.offerResume();
  }
  var W = Widget.prototype;

  W.build = function () {
    var self = this, n = this.n, b = this.button;
    var pid = 'loa-player-' + n, kid = 'loa-keys-' + n;
    b.classList.add('loa-btn');
    b.setAttribute('aria-controls', pid);
    b.setAttribute('aria-pressed', 'false');
    b.setAttribute('aria-describedby', kid);
    this.ind = el('span', { className: 'loa-ind', 'aria-hidden': 'true', html: icon(ICONS.play) });
    b.insertBefore(this.ind, b.firstChild);

    var p = this.player = el('div', { className: 'loa-ui loa-player', id: pid, hidden: true, role: 'region',
      'aria-label': 'Trình đọc: ' + this.title.slice(0, 80), 'data-loa-ui': '' });
    var row = el('div', { className: 'loa-row' }, p);
    var ui = this.ui = {};
    ui.prev = el('button', { type: 'button', className: 'loa-icon', html: icon(ICONS.prev), 'aria-label': 'Câu trước', title: 'Câu trước (←)' }, row);
    ui.play = el('button', { type: 'button', className: 'loa-icon', html: icon(ICONS.play), 'aria-label': 'Phát', title: 'Phát / tạm dừng' }, row);
    ui.next = el('button', { type: 'button', className: 'loa-icon', html: icon(ICONS.next), 'aria-label': 'Câu sau', title: 'Câu sau (→)' }, row);
    ui.range = el('input', { type: 'range', className: 'loa-range', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'Câu đang đọc' }, row);
    ui.time = el('span', { className: 'loa-time', text: '0:00 / 0:00', 'aria-hidden': 'true' }, row);
    var row2 = el('div', { className: 'loa-row' }, p);
    var lab = el('label', { text: 'Tốc độ' }, row2);
    ui.speed = el('select', {}, lab);
    SPEEDS.forEach(function (s) { el('option', { value: String(s), text: String(s).replace('.', ',') + '×' }, ui.speed); });
    ui.speed.value = '1';
    ui.follow = el('button', { type: 'button', className: 'loa-follow', text: 'Về câu đang đọc', hidden: true }, row2);
    ui.dl = el('a', { className: 'loa-dl', text: 'Tải MP3', hidden: true, download: '' }, row2);
    ui.keys = el('span', { className: 'loa-keys', id: kid, text: MSG.keys }, row2);
    this.audio = el('audio', { preload: 'auto' }, p);
    // The same request mode as the prefetch (a CORS request without
    // cookies), so a prefetched sentence is found in the browser cache.
    this.audio.crossOrigin = 'anonymous';

    // The status: a polite live region that is always in the page.
    this.live = el('div', { className: 'loa-ui loa-live', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-loa-ui': '' });
    this.resumeBox = el('div', { className: 'loa-ui loa-resume', hidden: true, role: 'group', 'aria-label': 'Nghe tiếp', 'data-loa-ui': '' });

    var anchor = b, box = b.parentNode;
    if (box && box !== document.body && box.nodeType === 1 && /flex|grid/.test(getComputedStyle(box).display) && !this.roots.some(function (r) { return box.contains(r); })) anchor = box;
    anchor.insertAdjacentElement('afterend', this.live);
    anchor.insertAdjacentElement('afterend', p);
    anchor.insertAdjacentElement('afterend', this.resumeBox);

    // The mini-player: shown while reading when the player is out of view.
    var m = this.mini = el('div', { className: 'loa-ui loa-mini', hidden: true, role: 'group', 'aria-label': 'Trình đọc thu gọn', 'data-loa-ui': '' });
    ui.mprev = el('button', { type: 'button', className: 'loa-icon', html: icon(ICONS.prev), 'aria-label': 'Câu trước' }, m);
    ui.mplay = el('button', { type: 'button', className: 'loa-icon', html: icon(ICONS.play), 'aria-label': 'Phát' }, m);
    ui.mnext = el('button', { type: 'button', className: 'loa-icon', html: icon(ICONS.next), 'aria-label': 'Câu sau' }, m);
    el('span', { className: 'loa-title', text: this.title }, m);
    ui.mfollow = el('button', { type: 'button', className: 'loa-follow', text: 'Về câu đang đọc', hidden: true }, m);
    ui.mclose = el('button', { type: 'button', className: 'loa-icon', html: icon(ICONS.close), 'aria-label': 'Dừng đọc' }, m);
    document.body.appendChild(m);

    function click(e, f) { e.addEventListener('click', function (ev) { ev.preventDefault(); f(); }); }
    click(b, function () { self.toggle(); });
    click(ui.play, function () { self.toggle(); });
    click(ui.mplay, function () { self.toggle(); });
    click(ui.prev, function () { self.go(self.cur - 1); });
    click(ui.mprev, function () { self.go(self.cur - 1); });
    click(ui.next, function () { self.go(self.cur + 1); });
    click(ui.mnext, function () { self.go(self.cur + 1); });
    click(ui.follow, function () { self.scrollToCurrent(); });
    click(ui.mfollow, function () { self.scrollToCurrent(); });
    click(ui.mclose, function () { self.stop(); });
    ui.speed.addEventListener('change', function () { self.setRate(+ui.speed.value); });
    this.bindRange();
    [p, m].forEach(function (c) {
      c.addEventListener('keydown', function (e) {
        if (e.target === ui.range || e.target === ui.speed || e.altKey || e.ctrlKey || e.metaKey) return;
        if (e.key === 'ArrowLeft') { self.go(self.cur - 1); e.preventDefault(); }
        else if (e.key === 'ArrowRight') { self.go(self.cur + 1); e.preventDefault(); }
      });
    });
    this.roots.forEach(function (r) {
      r.addEventListener('click', function (e) {
        var s = e.target.closest ? e.target.closest('.loa-s') : null;
        if (!s || !self.plan || e.target.closest('a')) return;
        self.go(+s.getAttribute('data-loa-i'));
      });
    });
    this.bindAudio();
  };

  // The slider moves by sentence: keys and drags only show where they
  // land; the audio is loaded once the thumb rests.
  W.bindRange = function () {
    var self = this, r = this.ui.range;
    function preview(i) {
      if (!self.plan) return;
      var n = self.plan.sentences.length;
      i = Math.max(0, Math.min(n - 1, i));
      r.value = i;
      self.showPosition(i, self.before(i));
      self.mark(i, true);
      clearTimeout(self.commitTimer);
      self.commitTimer = setTimeout(function () { self.go(i); }, 400);
    }
    r.addEventListener('keydown', function (e) {
      if (!self.plan || e.altKey || e.ctrlKey || e.metaKey) return;
      var v = +r.value, n = self.plan.sentences.length, to = null;
      switch (e.key) {
        case 'ArrowLeft': case 'ArrowDown': to = v - 1; break;
        case 'ArrowRight': case 'ArrowUp': to = v + 1; break;
        case 'PageDown': to = v - Math.max(1, Math.round(n / 10)); break;
        case 'PageUp': to = v + Math.max(1, Math.round(n / 10)); break;
        case 'Home': to = 0; break;
        case 'End': to = n - 1; break;
        default: return;
      }
      e.preventDefault();
      preview(to);
    });
    r.addEventListener('input', function () { preview(+r.value); });
  };

  W.status = function (msg, isErr) {
    if (this.live.textContent !== msg) this.live.textContent = msg;
    this.live.classList.toggle('loa-err', !!isErr);
  };

  // Buttons, slider and time as the state says.
  W.refresh = function () {
    var on = this.playing, ui = this.ui, n = this.plan ? this.plan.sentences.length : 0;
    this.button.setAttribute('aria-pressed', on ? 'true' : 'false');
    this.ind.innerHTML = icon(on ? ICONS.pause : ICONS.play);
    [ui.play, ui.mplay].forEach(function (b) {
      b.innerHTML = icon(on ? ICONS.pause : ICONS.play);
      b.setAttribute('aria-label', on ? 'Tạm dừng' : 'Phát');
    });
    ui.prev.disabled = ui.mprev.disabled = !n || this.cur <= 0;
    ui.next.disabled = ui.mnext.disabled = !n || this.cur >= n - 1;
    ui.range.max = Math.max(0, n - 1);
    if (this.cur >= 0 && this.cur < n) ui.range.value = this.cur;
    if (navigator.mediaSession && R.active === this) {
      try { navigator.mediaSession.playbackState = on ? 'playing' : (this.cur >= 0 && this.cur < n ? 'paused' : 'none'); } catch (e) { /* old API */ }
    }
    this.place();
  };

  W.showPosition = function (i, pos) {
    var n = this.plan ? this.plan.sentences.length : 0, t = this.total();
    this.ui.time.textContent = fmt(pos) + ' / ' + fmt(t);
    this.ui.range.setAttribute('aria-valuetext', 'Câu ' + (i + 1) + ' trên ' + n + ', ' + fmt(pos) + ' trên ' + fmt(t));
  };

  // Highlight sentence i. The page scrolls to it only when the reader is
  // following along (the previous sentence was in view) or asked for it.
  W.mark = function (i, force) {
    var old = this.spans[this.markedIndex] || [], following = force || !old.length || inView(old);
    old.forEach(function (s) { s.classList.remove('loa-on'); s.removeAttribute('aria-current'); });
    this.markedIndex = i;
    var now = this.spans[i] || [];
    now.forEach(function (s) { s.classList.add('loa-on'); s.setAttribute('aria-current', 'true'); });
    if (!now.length) { this.showFollow(false); return; }
    if (following) {
      if (!fullyInView(now[0])) now[0].scrollIntoView({ block: 'center', behavior: reducedMotion() ? 'auto' : 'smooth' });
      this.showFollow(false);
    } else {
      this.showFollow(true);
    }
  };

  W.scrollToCurrent = function () {
    var s = this.spans[this.cur] || [];
    if (s[0]) s[0].scrollIntoView({ block: 'center', behavior: reducedMotion() ? 'auto' : 'smooth' });
    this.showFollow(false);
    if (s[0]) { s[0].setAttribute('tabindex', '-1'); s[0].focus({ preventScroll: true }); }
  };

  W.showFollow = function (show) {
    this.ui.follow.hidden = !show;
    this.ui.mfollow.hidden = !show;
    this.mini.classList.toggle('loa-following', !!show);
  };

  function inView(spans) {
    var h = window.innerHeight || document.documentElement.clientHeight;
    for (var i = 0; i < spans.length; i++) {
      var r = spans[i].getBoundingClientRect();
      if (r.bottom > 0 && r.top < h && (r.width || r.height)) return true;
    }
    return false;
  }
  function fullyInView(e) {
    var r = e.getBoundingClientRect(), h = window.innerHeight || document.documentElement.clientHeight;
    return r.top >= 0 && r.bottom <= h - 72; // clear of the mini-player
  }

  // On scroll: the mini-player while the player is out of view, and "về
  // câu đang đọc" while the sentence being read is.
  W.place = function () {
    var active = R.active === this && this.plan && this.cur >= 0 && this.cur < this.plan.sentences.length &&
      (this.playing || this.loading || this.recovering || this.offset > 0 || this.audio.currentTime > 0);
    var r = this.player.getBoundingClientRect(), h = window.innerHeight || 0;
    var out = this.player.hidden || r.bottom < 0 || r.top > h;
    this.mini.hidden = !(active && out && !this.miniClosed);
    if (active && this.spans[this.cur] && this.spans[this.cur].length) this.showFollow(!inView(this.spans[this.cur]));
  };

  // A saved position for this article: offer to go on from there.
  W.offerResume = function () {
    var s = store.get(this.key), self = this;
    if (!s || !(s.i > 0)) return;
    this.saved = s;
    if (s.rate) this.setRate(s.rate, true);
    var box = this.resumeBox;
    box.innerHTML = '';
    el('span', { text: 'Lần trước bạn đã nghe đến câu ' + (s.i + 1) + (s.n ? ' trên ' + s.n : '') + '.' }, box);
    var go = el('button', { type: 'button', text: 'Nghe tiếp' }, box);
    var restart = el('button', { type: 'button', text: 'Đọc từ đầu' }, box);
    go.addEventListener('click', function () { self.toggle(); });
    restart.addEventListener('click', function () { self.saved = null; store.del(self.key); self.offset = 0; self.cur = -1; self.toggle(); });
    box.hidden = false;
  };
