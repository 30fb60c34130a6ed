  // ---- What to read: the page hints, applied to the live DOM ----------
  //
  // The same policy as the server-side extractor, from the same list
  // (config/page-hints.json). In the browser, hidden means what the page
  // really renders: `hidden`, aria-hidden, and computed display:none or
  // visibility:hidden (so the hidden-class hints are left to the
  // computed style). data-loa-skip skips an element; data-loa-read reads
  // one even where a hint would skip it or its container.

  var HIDDEN_CLASSES = { hidden: 1, 'd-none': 1, hide: 1, invisible: 1 };
  // Elements that never hold text to read (or hold code).
  var NEVER = /^(script|style|noscript|template|textarea|select|option|input|button|img|picture|source|video|audio|iframe|object|embed|canvas|svg|math|map|head|title|meta|link)$/;
  var BLOCK = /^(p|div|h[1-6]|li|ul|ol|table|thead|tbody|tfoot|tr|td|th|caption|figure|figcaption|blockquote|section|article|header|footer|aside|nav|main|pre|br|hr|dl|dt|dd|address|details|summary|form|fieldset)$/;
  var BLOCK_DISPLAY = /^(block|list-item|table|table-row|table-cell|table-caption|flex|grid|flow-root)$/;
  var HEADING = /^h([1-6])$/;

  function words(name) { return name.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean); }

  var P = (function compile(h) {
    h = h || {};
    function list(xs, drop) {
      return (xs || []).filter(function (x) { return !(drop && drop[x.toLowerCase()]); }).map(words)
        .filter(function (w) { return w.length; });
    }
    function set(xs) { var s = {}; (xs || []).forEach(function (x) { s[x.toLowerCase()] = 1; }); return s; }
    if (!h.skip_classes && window.console) console.warn('loa: no page hints; reading everything in the article');
    return {
      body: list(h.body), standfirst: list(h.standfirst), classes: list(h.skip_classes, HIDDEN_CLASSES),
      tags: set(h.skip_tags), roles: set(h.skip_roles),
      texts: (h.skip_texts || []).map(norm),
      read: h.read_attribute || 'data-loa-read', skip: h.skip_attribute || 'data-loa-skip'
    };
  })(HINTS);

  // Does a class name or id of `e` contain one of `hints` as whole words
  // ('related' matches 'box-related-news')?
  function hinted(e, hints) {
    if (!hints.length) return false;
    var names = ((e.getAttribute('class') || '') + ' ' + (e.id || '')).split(/\s+/);
    for (var n = 0; n < names.length; n++) {
      if (!names[n]) continue;
      var w = words(names[n]);
      for (var k = 0; k < hints.length; k++) {
        var hw = hints[k];
        for (var s = 0; s + hw.length <= w.length; s++) {
          var j = 0;
          while (j < hw.length && w[s + j] === hw[j]) j++;
          if (j === hw.length) return true;
        }
      }
    }
    return false;
  }

  function on(e, attr) { var v = e.getAttribute(attr); return v !== null && v !== 'false'; }

  function isSkipText(t) {
    t = norm(t);
    return !!t && P.texts.indexOf(t) >= 0;
  }

  // A short line that starts with a skipped label: "Lượt xem: 1.024".
  function isLabelLine(t) {
    t = norm(t);
    if (!t || t.length > 60) return false;
    for (var i = 0; i < P.texts.length; i++) {
      var x = P.texts[i];
      if (t === x || (t.indexOf(x) === 0 && /^[\s:(]*[\d(]|^\s*:/.test(t.slice(x.length)))) return true;
    }
    return false;
  }

  // A line that is only a date, a time, a weekday and the like.
  function isDateLine(t) {
    t = (t || '').normalize('NFC').toLowerCase();
    if (t.length > 80 || !/\d{1,2}\s*[\/.\-]\s*\d{1,2}\s*[\/.\-]\s*\d{2,4}/.test(t)) return false;
    var rest = t.replace(/\d{1,2}\s*[\/.\-]\s*\d{1,2}\s*[\/.\-]\s*\d{2,4}/g, ' ')
      .replace(/\d{1,2}\s*[:h]\s*\d{2}(\s*:\s*\d{2})?(\s*(sa|ch|am|pm))?/g, ' ')
      .replace(/(gmt|utc)\s*[+\-]\s*\d{1,2}/g, ' ')
      .replace(/thứ\s+(hai|ba|tư|năm|sáu|bảy|[2-7])|chủ\s+nhật|\bcn\b|\bt[2-7]\b|ngày|lúc|cập nhật|đăng|giờ/g, ' ');
    return !/[^\s,|:()\-–—\/.·•]/.test(rest);
  }

  function firstContent(e) {
    for (var c = e.firstElementChild; c; c = c.nextElementSibling) {
      if (c.textContent.trim()) return c;
    }
    return null;
  }

  function headingLike(e) {
    return HEADING.test(e.localName) || /^(strong|b)$/.test(e.localName) ||
      e.getAttribute('role') === 'heading' || hinted(e, [['title'], ['heading'], ['header']]);
  }

  // Why `c` is not read ('' when it is). `ctx.skip` is data-skip.
  function skipReason(c, ctx) {
    var tag = c.localName;
    if (NEVER.test(tag)) return 'tag';
    if (c.hasAttribute('data-loa-ui')) return 'widget';
    if (on(c, P.skip)) return 'skip-attribute';
    if (c.hidden || c.getAttribute('aria-hidden') === 'true') return 'hidden';
    var cs = window.getComputedStyle(c);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.visibility === 'collapse') return 'hidden';
    if (on(c, P.read)) return '';
    if (ctx.skip && c.matches(ctx.skip)) return 'data-skip';
    if (P.tags[tag]) return 'tag';
    var roles = (c.getAttribute('role') || '').toLowerCase().split(/\s+/);
    for (var r = 0; r < roles.length; r++) if (P.roles[roles[r]]) return 'role';
    var text = c.textContent;
    if (!hinted(c, P.body) && !hinted(c, P.standfirst) && hinted(c, P.classes)) return 'class';
    if (HEADING.test(tag) && isSkipText(text)) return 'heading';
    var first = firstContent(c);
    if (first && first !== c && headingLike(first) && isSkipText(first.textContent)) return 'box';
    if (BLOCK.test(tag) && (isLabelLine(text) || isDateLine(text))) return 'line';
    return '';
  }

  function isBlock(c) {
    if (BLOCK.test(c.localName)) return true;
    return BLOCK_DISPLAY.test(window.getComputedStyle(c).display);
  }

  // The readable text of `roots` (blank lines between blocks) and where
  // each piece of it lives, for highlighting.
  function extract(roots, ctx) {
    var text = '', segs = [];
    function sep() { if (text && !/\n\n$/.test(text)) text += /\n$/.test(text) ? '\n' : '\n\n'; }
    function walk(node) {
      var skipBelow = 0; // after a skipped "Tin liên quan" heading: skip until a heading of this level or higher
      for (var c = node.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) {
          if (skipBelow) continue;
          var d = c.data.replace(/[\t\n\r\f\v]/g, ' ');
          segs.push({ node: c, start: text.length, len: d.length });
          text += d;
          continue;
        }
        if (c.nodeType !== 1) continue;
        var m = HEADING.exec(c.localName);
        if (skipBelow && !(m && +m[1] <= skipBelow)) { readMarked(c); continue; }
        skipBelow = 0;
        var why = skipReason(c, ctx);
        if (why === 'heading') { skipBelow = +m[1]; continue; }
        if (why) {
          if (why !== 'tag' && why !== 'hidden' && why !== 'widget' && why !== 'skip-attribute') readMarked(c);
          continue;
        }
        var block = isBlock(c);
        if (block) sep();
        walk(c);
        if (block) sep();
      }
    }
    // Inside a skipped element, only its data-loa-read parts are read.
    function readMarked(e) {
      if (!e.querySelectorAll) return;
      var marked = e.querySelectorAll('[' + P.read + ']');
      for (var i = 0; i < marked.length; i++) {
        var x = marked[i];
        if (!on(x, P.read) || (i > 0 && marked[i - 1].contains(x))) continue;
        if (skipReason(x, ctx)) continue;
        sep(); walk(x); sep();
      }
    }
    roots.forEach(function (r) { sep(); walk(r); sep(); });
    return { text: text.replace(/\s+$/, ''), segs: segs };
  }

  // Without data-target: the element the body hints name (the one with
  // the most text), inside its <article> if it has one, with the headline
  // and standfirst before it; else the longest <article>, <main>, <body>.
  function autoRoots() {
    function textLen(e) { return e.textContent.replace(/\s+/g, '').length; }
    function free(e) { return !R.bound.has(e) && !e.closest('[data-loa-ui]'); }
    var all = document.body ? document.body.getElementsByTagName('*') : [], best = null, len = 0;
    for (var i = 0; i < all.length; i++) {
      var e = all[i];
      if (!free(e) || !hinted(e, P.body)) continue;
      var n = textLen(e);
      if (n > len && window.getComputedStyle(e).display !== 'none') { best = e; len = n; }
    }
    if (best) {
      var art = best.closest('article');
      if (art && free(art)) return [art];
      var roots = [best];
      var h1s = document.getElementsByTagName('h1');
      for (var k = h1s.length - 1; k >= 0; k--) {
        var h = h1s[k];
        if (!best.contains(h) && (h.compareDocumentPosition(best) & Node.DOCUMENT_POSITION_FOLLOWING)) {
          var sapo = null;
          for (var s = 0; s < all.length; s++) {
            var x = all[s];
            if (hinted(x, P.standfirst) && !best.contains(x) && !x.contains(best) &&
                (h.compareDocumentPosition(x) & Node.DOCUMENT_POSITION_FOLLOWING) &&
                (x.compareDocumentPosition(best) & Node.DOCUMENT_POSITION_FOLLOWING)) { sapo = x; break; }
          }
          roots = sapo ? [h, sapo, best] : [h, best];
          break;
        }
      }
      return roots;
    }
    var arts = document.getElementsByTagName('article'), top = null;
    len = 0;
    for (var a = 0; a < arts.length; a++) if (free(arts[a]) && textLen(arts[a]) > len) { top = arts[a]; len = textLen(top); }
    if (top) return [top];
    var main = document.querySelector('main,[role=main]');
    if (main && free(main)) return [main];
    return document.body && free(document.body) ? [document.body] : null;
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
    var spans = sentences.map(function () { return []; });
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
        spans[i].unshift(span);
      }
    }
    return spans;
  }

  // Undo wrap(): the page's text nodes as they were (merged back).
  function unwrap(roots) {
    roots.forEach(function (r) {
      var ss = r.querySelectorAll('.loa-s');
      for (var i = 0; i < ss.length; i++) {
        var s = ss[i], parent = s.parentNode;
        while (s.firstChild) parent.insertBefore(s.firstChild, s);
        parent.removeChild(s);
        parent.normalize();
      }
    });
  }

  // The article's headline, for the player's name and the lock screen.
  function headline(roots) {
    for (var i = 0; i < roots.length; i++) {
      var h = roots[i].localName === 'h1' ? roots[i] : roots[i].querySelector('h1,h2');
      if (h && h.textContent.trim()) return h.textContent.replace(/\s+/g, ' ').trim();
    }
    return document.title;
  }
