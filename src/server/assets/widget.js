/*! loa widget: the "Đọc nội dung" button. Reads an element of the page aloud
 * through a loa service, highlighting the sentence being read.
 * <script src="https://loa.example/widget.js" data-target=".news-detail"></script>
 * Optional: data-button (selector of an existing button), data-voice,
 * data-skip (selector of parts not to read), data-api (service base URL).
 * Licence: GPL-3.0-or-later. */
(function () {
  'use strict';
  var me = document.currentScript;
  function attr(n) { return me ? me.getAttribute(n) : null; }
  var api = (attr('data-api') || (me && me.src ? new URL('.', me.src).href : '/')).replace(/\/+$/, '');
  var cfg = {
    target: attr('data-target') || 'article',
    button: attr('data-button'),
    voice: attr('data-voice'),
    skip: attr('data-skip')
  };
  var LABEL = 'Đọc nội dung';
  var SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  var BLOCK = /^(P|DIV|H[1-6]|LI|UL|OL|TABLE|TR|TD|TH|FIGURE|FIGCAPTION|BLOCKQUOTE|SECTION|ARTICLE|HEADER|FOOTER|ASIDE|PRE|BR|HR|DL|DT|DD|MAIN|NAV)$/;
  var SKIP = /^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE|BUTTON|SELECT|TEXTAREA|INPUT|AUDIO|VIDEO|IFRAME|SVG|CANVAS|OBJECT|IMG)$/;
  var CSS = '.loa-s{cursor:pointer;border-radius:2px;transition:background-color .2s}' +
    '.loa-s:hover{background:rgba(255,213,79,.3)}' +
    '.loa-s.loa-on{background:#ffe082;box-shadow:0 0 0 2px #ffe082}' +
    '.loa-player{display:flex;flex-wrap:wrap;align-items:center;gap:.5em;margin:.5em 0;padding:.5em .75em;' +
    'border:1px solid #bbb;border-radius:6px;background:#fafafa;color:#222;font:14px/1.4 system-ui,sans-serif}' +
    '.loa-player[hidden]{display:none}' +
    '.loa-player button,.loa-player select{font:inherit;padding:.2em .6em;cursor:pointer;line-height:1}' +
    '.loa-player svg{vertical-align:middle}' +
    '.loa-player :focus-visible,.loa-btn:focus-visible{outline:3px solid #1a56db;outline-offset:2px}' +
    '.loa-range{flex:1 1 10em;min-width:8em}.loa-time{font-variant-numeric:tabular-nums}' +
    '.loa-status:empty{display:none}.loa-status.loa-err{color:#b00020;font-weight:600}';

  var ICONS = { play: 'M8 5v14l11-7z', pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
    prev: 'M6 6h2v12H6zm3.5 6 8.5 6V6z', next: 'M6 18l8.5-6L6 6zM16 6h2v12h-2z' };
  function icon(d) {
    return '<svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="' + d + '"/></svg>';
  }
  var target, button, player, audio, ui = {};
  var plan = null, cur = -1, playing = false, loading = false, wrapped = false;
  var durs = [], known = [], msPerChar = 65, rate = 1, pendingSeek = 0, retries = 0, seeking = false;

  function el(tag, props, parent) {
    var e = document.createElement(tag);
    for (var k in props) {
      if (k === 'text') e.textContent = props[k];
      else if (k.indexOf('aria-') === 0 || k.indexOf('data-') === 0 || k === 'role') e.setAttribute(k, props[k]);
      else e[k] = props[k];
    }
    if (parent) parent.appendChild(e);
    return e;
  }

  function init() {
    target = document.querySelector(cfg.target);
    if (!target) { if (window.console) console.warn('loa: no element matches ' + cfg.target); return; }
    el('style', { text: CSS }, document.head);
    button = cfg.button ? document.querySelector(cfg.button) : null;
    if (!button) {
      var all = document.querySelectorAll('button,[role=button]');
      for (var i = 0; i < all.length && !button; i++) {
        if (all[i].textContent.trim().normalize('NFC').toLowerCase() === LABEL.normalize('NFC').toLowerCase()) button = all[i];
      }
    }
    if (!button) {
      button = el('button', { type: 'button', text: LABEL });
      target.parentNode.insertBefore(button, target);
    }
    button.classList.add('loa-btn');
    button.setAttribute('aria-controls', 'loa-player');
    buildPlayer();
    button.addEventListener('click', function (e) { e.preventDefault(); start(); });
    target.addEventListener('click', function (e) {
      var s = e.target.closest ? e.target.closest('.loa-s') : null;
      if (!s || !plan || e.target.closest('a')) return;
      seekSentence(+s.getAttribute('data-loa-i'));
    });
  }

  function buildPlayer() {
    player = el('div', { className: 'loa-player', id: 'loa-player', hidden: true, role: 'region', 'aria-label': 'Trình đọc nội dung' });
    ui.prev = el('button', { type: 'button', innerHTML: icon(ICONS.prev), title: 'Câu trước', 'aria-label': 'Câu trước' }, player);
    ui.play = el('button', { type: 'button', innerHTML: icon(ICONS.play), 'aria-label': 'Phát' }, player);
    ui.next = el('button', { type: 'button', innerHTML: icon(ICONS.next), title: 'Câu sau', 'aria-label': 'Câu sau' }, player);
    ui.range = el('input', { type: 'range', min: 0, max: 1000, step: 1, value: 0, className: 'loa-range', 'aria-label': 'Vị trí đọc' }, player);
    ui.time = el('span', { className: 'loa-time', text: '0:00 / 0:00', 'aria-hidden': 'true' }, player);
    var lab = el('label', { text: 'Tốc độ ' }, player);
    ui.speed = el('select', { 'aria-label': 'Tốc độ đọc' }, lab);
    SPEEDS.forEach(function (s) { el('option', { value: s, text: s + '×', selected: s === 1 }, ui.speed); });
    ui.dl = el('a', { text: 'Tải MP3', hidden: true, download: '' }, player);
    ui.status = el('span', { className: 'loa-status', role: 'status', 'aria-live': 'polite' }, player);
    audio = el('audio', { preload: 'auto' }, player);
    var anchor = button, box = button.parentNode;
    if (box && box !== document.body && /flex|grid/.test(getComputedStyle(box).display)) anchor = box;
    anchor.insertAdjacentElement('afterend', player);

    ui.play.addEventListener('click', function () { start(); });
    ui.prev.addEventListener('click', function () { if (plan) seekSentence(Math.max(0, cur - 1)); });
    ui.next.addEventListener('click', function () { if (plan && cur + 1 < plan.sentences.length) seekSentence(cur + 1); });
    ui.speed.addEventListener('change', function () { rate = +ui.speed.value; audio.playbackRate = rate; });
    ui.range.addEventListener('input', function () { seeking = true; showTime(+ui.range.value / 1000 * total()); });
    ui.range.addEventListener('change', function () { seeking = false; seekTo(+ui.range.value / 1000 * total()); });
    player.addEventListener('keydown', function (e) {
      if (e.target === ui.range || e.target === ui.speed) return;
      if (e.key === 'ArrowLeft') { ui.prev.click(); e.preventDefault(); }
      if (e.key === 'ArrowRight') { ui.next.click(); e.preventDefault(); }
    });
    audio.addEventListener('loadedmetadata', function () {
      if (isFinite(audio.duration)) { durs[cur] = audio.duration * 1000; known[cur] = true; learnRate(); }
      if (pendingSeek > 0) { audio.currentTime = Math.min(pendingSeek / 1000, Math.max(0, audio.duration - 0.05)); pendingSeek = 0; }
      audio.playbackRate = rate;
    });
    audio.addEventListener('playing', function () { retries = 0; status(''); });
    audio.addEventListener('timeupdate', progress);
    audio.addEventListener('ended', function () { if (playing) playAt(cur + 1, 0); });
    audio.addEventListener('error', function () {
      if (!plan || !audio.getAttribute('src')) return;
      if (retries++ < 3) {
        status('Đang tải lại âm thanh…');
        var i = cur, off = audio.currentTime * 1000;
        setTimeout(function () { if (plan && cur === i && playing) playAt(i, off); }, 1500 * retries);
      } else {
        fail('Không tải được âm thanh từ dịch vụ đọc. Vui lòng thử lại sau.');
        plan = null;
      }
    });
  }

  function status(msg, isErr) {
    ui.status.textContent = msg;
    ui.status.classList.toggle('loa-err', !!isErr);
    ui.status.setAttribute('role', isErr ? 'alert' : 'status');
  }

  function fail(msg) {
    playing = false; loading = false;
    audio.pause();
    player.hidden = false;
    status(msg, true);
    buttons();
  }

  function buttons() {
    var label = playing ? 'Tạm dừng' : (plan && cur >= 0 ? 'Tiếp tục đọc' : LABEL);
    button.textContent = label;
    button.setAttribute('aria-pressed', playing ? 'true' : 'false');
    ui.play.innerHTML = icon(playing ? ICONS.pause : ICONS.play);
    ui.play.setAttribute('aria-label', playing ? 'Tạm dừng' : 'Phát');
  }

  // The readable text of the target and where each piece of it lives.
  function extract(root) {
    var text = '', segs = [];
    function sep() { if (text && !/\n\n$/.test(text)) text += /\n$/.test(text) ? '\n' : '\n\n'; }
    (function walk(node) {
      for (var c = node.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) {
          var d = c.data.replace(/[\t\n\r\f\v]/g, ' ');
          segs.push({ node: c, start: text.length, len: d.length });
          text += d;
        } else if (c.nodeType === 1) {
          if (SKIP.test(c.tagName) || c === player || c.hidden || c.getAttribute('aria-hidden') === 'true' ||
              (cfg.skip && c.matches(cfg.skip))) continue;
          var block = BLOCK.test(c.tagName);
          if (block) sep();
          walk(c);
          if (block) sep();
        }
      }
    })(root);
    return { text: text, segs: segs };
  }

  // Wrap each sentence's text in <span class="loa-s">, last sentence first
  // so that splitting text nodes never moves an earlier sentence's text.
  function wrap(ex, sentences) {
    var cursor = 0, ranges = sentences.map(function (s) {
      var a = s.start, b = s.end;
      if (ex.text.slice(a, b) !== s.text) {
        var k = ex.text.indexOf(s.text, cursor);
        if (k < 0) return null;
        a = k; b = k + s.text.length;
      }
      cursor = b;
      return [a, b];
    });
    for (var i = sentences.length - 1; i >= 0; i--) {
      if (!ranges[i]) continue;
      for (var k = ex.segs.length - 1; k >= 0; k--) {
        var sg = ex.segs[k], lo = Math.max(ranges[i][0], sg.start) - sg.start,
          hi = Math.min(ranges[i][1], sg.start + sg.len) - sg.start;
        if (hi <= lo || !/\S/.test(sg.node.data.slice(lo, hi))) continue;
        var mid = lo > 0 ? sg.node.splitText(lo) : sg.node;
        if (hi - lo < mid.data.length) mid.splitText(hi - lo);
        var span = el('span', { className: 'loa-s', 'data-loa-i': i });
        mid.parentNode.insertBefore(span, mid);
        span.appendChild(mid);
      }
    }
    wrapped = true;
  }

  function start() {
    if (loading) return;
    if (plan) { toggle(); return; }
    loading = true;
    player.hidden = false;
    status('Đang chuẩn bị…');
    var ex = extract(target);
    var body = { text: ex.text, format: 'mp3', response: 'plan' };
    if (cfg.voice) body.voice = cfg.voice;
    fetch(api + '/v1/speech', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (j) {
          if (!res.ok) throw new Error(j.message || ('HTTP ' + res.status));
          return j;
        });
      })
      .then(function (p) {
        loading = false;
        plan = p;
        if (!wrapped) wrap(ex, p.sentences);
        durs = p.sentences.map(function (s) { return s.spoken.length * msPerChar; });
        known = [];
        playAt(0, 0);
        pollTimings(0);
      })
      .catch(function (err) {
        var msg = err instanceof TypeError ? 'Không kết nối được dịch vụ đọc. Vui lòng thử lại sau.'
          : 'Dịch vụ đọc báo lỗi: ' + err.message;
        fail(msg);
      });
  }

  function toggle() {
    if (playing) { playing = false; audio.pause(); }
    else if (cur < 0 || cur >= plan.sentences.length) playAt(0, 0);
    else { playing = true; var p = audio.play(); if (p) p.catch(blocked); }
    buttons();
  }

  function blocked(e) {
    if (e && e.name === 'AbortError') return;
    playing = false; buttons();
    status('Trình duyệt chặn tự phát: bấm ▶ để nghe.');
  }

  function playAt(i, offMs) {
    if (i >= plan.sentences.length) { finish(); return; }
    cur = i;
    highlight(i);
    audio.src = api + plan.sentences[i].url;
    pendingSeek = offMs;
    audio.playbackRate = rate;
    playing = true;
    var p = audio.play();
    if (p) p.catch(blocked);
    buttons();
    progress();
    if (i + 1 < plan.sentences.length) fetch(api + plan.sentences[i + 1].url).catch(function () {});
  }

  function finish() {
    playing = false; cur = -1;
    highlight(-1);
    buttons();
    ui.range.value = 1000;
    button.textContent = LABEL;
  }

  function highlight(i) {
    var on = target.querySelectorAll('.loa-on');
    for (var k = 0; k < on.length; k++) { on[k].classList.remove('loa-on'); on[k].removeAttribute('aria-current'); }
    if (i < 0) return;
    var parts = target.querySelectorAll('.loa-s[data-loa-i="' + i + '"]');
    for (var j = 0; j < parts.length; j++) { parts[j].classList.add('loa-on'); parts[j].setAttribute('aria-current', 'true'); }
    if (parts[0]) {
      var r = parts[0].getBoundingClientRect();
      if (r.top < 0 || r.bottom > (window.innerHeight || 0)) parts[0].scrollIntoView({ block: 'center', behavior: 'smooth' });
    }
  }

  function learnRate() {
    var ms = 0, ch = 0;
    for (var i = 0; i < durs.length; i++) if (known[i]) { ms += durs[i]; ch += plan.sentences[i].spoken.length || 1; }
    if (ch > 0) msPerChar = ms / ch;
    for (var k = 0; k < durs.length; k++) if (!known[k]) durs[k] = (plan.sentences[k].spoken.length || 1) * msPerChar;
  }

  function total() { var t = 0; for (var i = 0; i < durs.length; i++) t += durs[i]; return t; }
  function before(i) { var t = 0; for (var k = 0; k < i; k++) t += durs[k]; return t; }

  function fmt(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
  }

  function showTime(pos) {
    ui.time.textContent = fmt(pos) + ' / ' + fmt(total());
    ui.range.setAttribute('aria-valuetext', fmt(pos) + ' trên ' + fmt(total()));
  }

  function progress() {
    if (!plan || cur < 0 || seeking) return;
    var pos = before(cur) + audio.currentTime * 1000, t = total();
    ui.range.value = t > 0 ? Math.round(pos / t * 1000) : 0;
    showTime(pos);
  }

  function seekSentence(i) { playAt(i, 0); }

  function seekTo(ms) {
    if (!plan) return;
    var t = 0;
    for (var i = 0; i < durs.length; i++) {
      if (ms < t + durs[i] || i === durs.length - 1) { playAt(i, Math.max(0, ms - t)); return; }
      t += durs[i];
    }
  }

  // The whole article's MP3 (for download) exists once its timings do.
  function pollTimings(n) {
    var p = plan;
    if (!p || n > 300) return;
    fetch(api + p.timings_url).then(function (res) {
      if (!res.ok) throw new Error('not yet');
      ui.dl.href = api + p.audio_url;
      ui.dl.hidden = false;
    }).catch(function () { setTimeout(function () { if (plan === p) pollTimings(n + 1); }, 2000); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
