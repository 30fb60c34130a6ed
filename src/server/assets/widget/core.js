/*! loa widget (GPL-3.0-or-later): the "Đọc nội dung" button reads an article
 * aloud, highlighting the sentence being read.
 *   <script src="…/widget.js" data-target=".news-detail"></script>
 * Optional: data-target (the article; each match gets its own reader;
 * default: found with the page hints), data-button, data-voice, data-skip
 * (selector of parts not to read), data-api (base URL of the service),
 * data-retry-ms (the waits between tries to reach the service again
 * mid-article, e.g. "500,1000,2000"; default RETRY_MS).
 * Keyboard: ←/→ previous/next sentence (in the player or the article),
 * Esc stops; the position slider moves by sentence. */
(function () {
  'use strict';
  // The page hints (config/page-hints.json), inlined by the server.
  var HINTS = /*LOA_PAGE_HINTS*/null;

  var LABEL = 'Đọc nội dung';
  var SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  // Waits (ms) between attempts to reach the service again mid-article
  // (the default; data-retry-ms sets a page's own, see retrySchedule).
  var RETRY_MS = [500, 1000, 2000, 3000, 4000, 4000, 4000, 4000, 4000, 4000];
  // data-retry-ms: 1 to 20 comma-separated whole numbers of ms, each at most
  // 60000. Anything else is ignored with a console warning (the default).
  function retrySchedule(v) {
    if (v === null || v === undefined) return RETRY_MS;
    var parts = String(v).split(','), out = [];
    for (var i = 0; i < parts.length; i++) {
      var t = parts[i].trim();
      if (!/^[0-9]{1,5}$/.test(t) || +t > 60000) { out = null; break; }
      out.push(+t);
    }
    if (out && out.length >= 1 && out.length <= 20) return out;
    if (window.console) console.warn('loa: data-retry-ms ignored (1 to 20 comma-separated ms, each at most 60000): ' + v);
    return RETRY_MS;
  }
  // Waits before asking for a plan again after the first click fails.
  var PLAN_RETRY_MS = [500, 1500];
  var SILENT_WAV = 'data:audio/wav;base64,UklGRqAAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YXwAAACAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA';
  var MSG = {
    preparing: 'Đang chuẩn bị…',
    retrying: 'Mất kết nối với dịch vụ đọc, đang thử lại…',
    gaveUp: 'Không tải được âm thanh từ dịch vụ đọc sau nhiều lần thử. Bấm ▶ để thử lại.',
    offline: 'Không kết nối được dịch vụ đọc. Vui lòng thử lại sau.',
    busy: 'Dịch vụ đọc đang bận, vui lòng thử lại sau ít phút.',
    blocked: 'Trình duyệt chặn tự phát: bấm ▶ để nghe.',
    unplayable: 'Trình duyệt không phát được âm thanh của dịch vụ đọc.',
    stopped: 'Đã dừng đọc.',
    done: 'Đã đọc hết bài.',
    keys: 'Phím tắt: ← → chuyển câu, Esc dừng đọc.'
  };

  // One registry per page, shared by every copy of this script: which
  // articles are taken, which reader is playing.
  var R = window.__loaWidgets || (window.__loaWidgets = { n: 0, all: [], active: null, styled: false });
  if (!R.bound) R.bound = typeof WeakSet === 'function' ? new WeakSet() : { has: function () { return false; }, add: function () {} };

  function el(tag, props, parent) {
    var e = document.createElement(tag);
    for (var k in props) {
      if (k === 'text') e.textContent = props[k];
      else if (k === 'html') e.innerHTML = props[k];
      else if (k === 'className' || k === 'type' || k === 'value' || k === 'hidden' || k === 'id') e[k] = props[k];
      else e.setAttribute(k, props[k]);
    }
    if (parent) parent.appendChild(e);
    return e;
  }

  function fmt(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
  }

  // Lowercased, NFC, single-spaced, without surrounding punctuation: how
  // heading texts are compared with the hints.
  function norm(s) {
    return (s || '').normalize('NFC').toLowerCase().replace(/\s+/g, ' ').replace(/^[\s:.\-–—|•·]+|[\s:.\-–—|•·]+$/g, '');
  }

  // FNV-1a of a string, as 8 hex digits: the article's storage key.
  function hash(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return ('0000000' + h.toString(16)).slice(-8);
  }

  // localStorage that never throws (private modes, blocked storage).
  var store = {
    get: function (k) {
      try { var v = window.localStorage.getItem(k); return v ? JSON.parse(v) : null; } catch (e) { return null; }
    },
    set: function (k, v) {
      try {
        window.localStorage.setItem(k, JSON.stringify(v));
        // Keep at most 50 articles' positions, the newest.
        var idx = store.get('loa:index') || [];
        idx = idx.filter(function (x) { return x !== k; });
        idx.push(k);
        while (idx.length > 50) window.localStorage.removeItem(idx.shift());
        window.localStorage.setItem('loa:index', JSON.stringify(idx));
      } catch (e) { /* storage unavailable: nothing to remember */ }
    },
    del: function (k) { try { window.localStorage.removeItem(k); } catch (e) { /* ignore */ } }
  };

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);
  }

  // True when the focus is where keys type text (never steal those keys).
  function editable(t) {
    return !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName || ''));
  }

  // An error from the service: status, code, message, Retry-After.
  function ServiceError(res, body) {
    this.status = res.status;
    this.code = body && body.code;
    this.message = (body && body.message) || 'HTTP ' + res.status;
    var ra = parseFloat(res.headers.get('Retry-After'));
    this.after = isFinite(ra) ? Math.min(ra * 1000, 30000) : 0;
  }
  function retryable(err) {
    return !(err instanceof ServiceError) || err.status === 408 || err.status === 429 || err.status >= 500;
  }
  function readJson(res) {
    return res.json().catch(function () { return {}; }).then(function (j) {
      if (!res.ok) throw new ServiceError(res, j);
      return j;
    });
  }
