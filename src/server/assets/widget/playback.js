  // ---- Playing: the plan, one sentence at a time, and recovery ---------

  W.bindAudio = function () {
    var self = this, a = this.audio;
    function mine() { return self.srcIndex === self.cur && self.srcIndex >= 0; }
    a.addEventListener('loadedmetadata', function () {
      if (!mine()) return;
      if (isFinite(a.duration) && a.duration > 0) { self.durs[self.cur] = a.duration * 1000; self.known[self.cur] = true; self.learnRate(); }
      if (self.pendingSeek > 0) { a.currentTime = Math.min(self.pendingSeek / 1000, Math.max(0, a.duration - 0.05)); self.pendingSeek = 0; }
      a.playbackRate = self.rate;
      self.progress();
    });
    a.addEventListener('playing', function () {
      if (!mine()) return;
      // Stopped or paused meanwhile: WebKit can still start a play() that
      // was pending when pause() ran. Hold it, so ▶ goes on from here.
      if (!self.playing) { a.pause(); return; }
      if (self.recoveredOnce || self.live.classList.contains('loa-err') || self.live.textContent === MSG.preparing) self.status('');
      self.recoveredOnce = false;
      self.prefetch(self.cur + 1);
      self.position();
    });
    a.addEventListener('timeupdate', function () { if (mine()) self.progress(); });
    a.addEventListener('ended', function () {
      if (!mine() || !self.playing) return;
      var i = self.cur, n = self.plan.sentences.length;
      self.offset = 0;
      self.retry = self.loadFails = 0; // a whole sentence played: the trouble is over
      if (i + 1 >= n) { self.finish(); return; }
      var wait = (self.pauses[i] || 0) / self.rate, seq = self.seq;
      // The pause after a sentence, as in the article's MP3.
      if (wait > 0) self.timer = setTimeout(function () { if (seq === self.seq) self.playAt(i + 1, 0); }, wait);
      else self.playAt(i + 1, 0);
    });
    a.addEventListener('error', function () {
      if (!mine() || !self.playing) return;
      self.recover(self.cur, self.offsetNow());
    });
    // Paused from outside (headphones unplugged, the system's controls).
    a.addEventListener('pause', function () {
      if (mine() && self.playing && !a.ended && a.readyState >= 2 && !self.switching) { self.playing = false; self.offset = self.offsetNow(); self.refresh(); self.save(); }
    });
  };

  W.offsetNow = function () {
    return this.srcIndex === this.cur && this.audio.currentTime > 0 ? this.audio.currentTime * 1000 : this.offset;
  };

  // Within the click itself: iOS only lets an element that started during
  // a user gesture play later on its own.
  W.unlock = function () {
    if (this.unlocked) return;
    this.unlocked = true;
    this.srcIndex = -1;
    this.audio.src = SILENT_WAV;
    var p = this.audio.play();
    if (p) p.catch(function () {});
  };

  // Only one reader plays at a time.
  W.claim = function () {
    if (R.active && R.active !== this) R.active.pause();
    R.active = this;
    this.session();
  };

  W.toggle = function () {
    if (this.playing || this.loading) { this.pause(); return; }
    this.resume();
  };

  W.resume = function () {
    var self = this;
    this.unlock();
    this.claim();
    this.retry = this.loadFails = 0;
    this.miniClosed = false;
    this.resumeBox.hidden = true;
    this.player.hidden = false;
    this.playing = true;
    var saved = this.saved;
    this.saved = null;
    if (!this.plan) {
      this.fetchPlan(0).then(function () {
        if (!self.playing) return;
        var n = self.plan.sentences.length;
        if (saved && saved.i < n) self.playAt(saved.i, saved.ms || 0, true);
        else self.playAt(0, 0, true);
      }, function (err) { self.fail(err); });
      this.refresh();
      return;
    }
    var n = this.plan.sentences.length;
    if (this.cur < 0 || this.cur >= n) this.playAt(0, 0, true);
    else if (this.srcIndex === this.cur && this.audio.ended) this.playAt(this.cur + 1, 0, true);
    else if (this.srcIndex === this.cur && !this.audio.error && this.audio.readyState >= 1) {
      this.seq++;
      var seq = this.seq, p = this.audio.play();
      if (p) p.catch(function (e) { self.playFailed(e, seq); });
      this.refresh();
    } else this.playAt(this.cur, this.offset, true);
  };

  W.pause = function () {
    this.seq++;
    clearTimeout(this.timer);
    clearTimeout(this.commitTimer);
    this.offset = this.offsetNow();
    this.playing = false; this.loading = false; this.recovering = false;
    this.audio.pause();
    if (this.live.textContent === MSG.retrying || this.live.textContent === MSG.preparing) this.status('');
    this.refresh();
    this.save();
  };

  W.stop = function () {
    if (!this.playing && !this.loading) return;
    this.pause();
    this.miniClosed = true;
    this.status(MSG.stopped);
    this.place();
  };

  // Ask for the plan: sentences, their audio URLs, pauses and known
  // durations. `attempts` retries are made for network errors and 5xx.
  // The words come from the page (`text`, signed when data-signature is
  // given) or, when the service reads only pages it fetches itself
  // (data-mode="url", or its 403 text_not_accepted), from the page's URL;
  // sentences are then highlighted by finding their text in the page.
  W.requestPlan = function () {
    var self = this, o = this.opts, body = { format: 'mp3', response: 'plan' };
    if (o.voice) body.voice = o.voice;
    function send() {
      return fetch(o.api + '/v1/speech', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
        .then(readJson);
    }
    if (o.mode === 'url') {
      body.url = o.url || String(window.location.href).split('#')[0];
      return send();
    }
    var given = o.text && document.querySelector(o.text);
    body.text = given ? given.textContent : this.ex.text;
    if (o.signature) body.signature = o.signature;
    return send().then(null, function (err) {
      if (err instanceof ServiceError && err.code === 'text_not_accepted') { o.mode = 'url'; return self.requestPlan(); }
      throw err;
    });
  };

  W.fetchPlan = function (attempt) {
    var self = this;
    this.loading = true;
    this.status(MSG.preparing);
    return this.requestPlan().then(function (p) {
      self.loading = false;
      self.adopt(p);
      return p;
    }, function (err) {
      if (!self.loading) throw err;
      if (retryable(err) && attempt < PLAN_RETRY_MS.length) {
        return new Promise(function (ok) { setTimeout(ok, Math.max(err.after || 0, PLAN_RETRY_MS[attempt])); })
          .then(function () { if (!self.loading) throw err; return self.fetchPlan(attempt + 1); });
      }
      self.loading = false;
      throw err;
    });
  };

  function message(err) {
    if (!(err instanceof ServiceError)) return MSG.offline;
    if (err.status === 503 || err.status === 429) return MSG.busy;
    return 'Dịch vụ đọc báo lỗi: ' + err.message;
  }

  W.fail = function (err) {
    this.playing = false; this.loading = false; this.recovering = false;
    this.audio.pause();
    this.player.hidden = false;
    this.status(typeof err === 'string' ? err : message(err), true);
    this.refresh();
  };

  // Take a (new) plan; an old position maps to the sentence at the same
  // place in the article.
  W.adopt = function (p) {
    var old = this.plan, self = this;
    this.plan = p;
    if (!old || old.key !== p.key) {
      if (old) { unwrap(this.roots); this.ex = extract(this.roots, this.opts); }
      this.spans = wrap(this.ex, p.sentences);
      if (old && this.cur >= 0 && old.sentences[this.cur]) {
        var at = old.sentences[this.cur].start, k = 0;
        while (k + 1 < p.sentences.length && p.sentences[k + 1].start <= at) k++;
        this.cur = k;
      }
    }
    this.pauses = p.sentences.map(function (s) { return s.pause_after_ms || 0; });
    this.known = p.sentences.map(function (s) { return s.duration_ms != null; });
    this.durs = p.sentences.map(function (s) { return s.duration_ms != null ? s.duration_ms : 0; });
    this.learnRate();
    this.prefetched = {};
    if (p.ready) this.showDownload();
    this.ui.range.max = Math.max(0, p.sentences.length - 1);
    this.roots.forEach(function (r) { r.classList.add('loa-read'); });
    if (self.cur >= p.sentences.length) self.cur = p.sentences.length - 1;
  };

  W.showDownload = function () {
    this.ui.dl.href = this.opts.api + this.plan.audio_url + '?download=1';
    this.ui.dl.hidden = false;
  };

  W.playAt = function (i, offMs, force) {
    var p = this.plan, self = this;
    if (!p) return;
    var n = p.sentences.length;
    if (i < 0) i = 0;
    if (i >= n) { this.finish(); return; }
    clearTimeout(this.timer);
    this.seq++;
    this.recovering = false;
    this.cur = i;
    this.offset = offMs || 0;
    this.playing = true;
    this.mark(i, force);
    this.srcIndex = i;
    this.pendingSeek = offMs || 0;
    this.switching = true;
    this.audio.defaultPlaybackRate = this.rate;
    this.audio.src = this.opts.api + p.sentences[i].url;
    this.audio.playbackRate = this.rate;
    this.switching = false;
    var seq = this.seq, pr = this.audio.play();
    if (pr) pr.catch(function (e) { self.playFailed(e, seq); });
    this.refresh();
    this.progress();
    this.save();
    if (i === n - 1 && !p.ready) this.checkReady();
  };

  W.playFailed = function (e, seq) {
    if (seq !== this.seq || !e) return;
    if (e.name === 'AbortError') return;
    if (e.name === 'NotAllowedError') {
      this.playing = false;
      this.refresh();
      this.status(MSG.blocked);
      return;
    }
    if (this.playing) this.recover(this.cur, this.offsetNow());
  };

  // Any failed load: find out why, wait, ask for a new plan when the
  // service forgot this one (it restarted), and go on at the same
  // sentence and offset. Gives up, saying so, after its retry schedule
  // (opts.retryMs: data-retry-ms, else RETRY_MS) runs out.
  W.recover = function (i, offMs) {
    if (this.recovering) return;
    var self = this, seq = ++this.seq, url = this.opts.api + this.plan.sentences[i].url;
    this.recovering = true;
    this.recoveredOnce = true;
    this.offset = offMs;
    this.status(MSG.retrying);
    function again(after) {
      if (seq !== self.seq) return;
      var waits = self.opts.retryMs || RETRY_MS;
      if (self.retry >= waits.length) {
        self.recovering = false;
        self.retry = 0;
        self.fail(MSG.gaveUp);
        return;
      }
      setTimeout(attempt, Math.max(after || 0, waits[self.retry++]));
    }
    function attempt() {
      if (seq !== self.seq) return;
      // From the service itself, not the browser cache: a cached copy
      // says nothing about whether the service is back.
      fetch(url, { mode: 'cors', credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
        if (seq !== self.seq) return;
        if (res.ok) {
          return res.arrayBuffer().then(function () {
            if (seq !== self.seq) return;
            // It loads now; a second failure right after is the browser's.
            if (self.loadFails++ >= 3) { self.recovering = false; self.fail(MSG.unplayable); return; }
            self.playAt(i, offMs);
          });
        }
        return res.json().catch(function () { return {}; }).then(function (j) {
          if (seq !== self.seq) return;
          var err = new ServiceError(res, j);
          if (res.status === 404 && (j.code === 'unknown_plan' || j.code === 'no_such_sentence')) {
            return self.requestPlan().then(function (p) {
              if (seq !== self.seq) return;
              self.adopt(p);
              self.playAt(self.cur, offMs);
            }, function (e) { if (retryable(e)) again(e.after); else { self.recovering = false; self.fail(e); } });
          }
          if (retryable(err)) { again(err.after); return; }
          self.recovering = false;
          self.fail(err);
        });
      }, function () { again(0); });
    }
    attempt();
  };

  // Load sentence j into the browser cache (the whole body, so the audio
  // element finds it complete). A forgotten plan is replaced right away.
  W.prefetch = function (j) {
    var p = this.plan, self = this;
    if (!p || j >= p.sentences.length || this.prefetched[j]) return;
    this.prefetched[j] = true;
    fetch(this.opts.api + p.sentences[j].url, { mode: 'cors', credentials: 'same-origin' }).then(function (res) {
      if (res.ok) return res.arrayBuffer();
      if (self.plan === p) delete self.prefetched[j];
      return res.json().catch(function () { return {}; }).then(function (b) {
        if (res.status === 404 && b.code === 'unknown_plan' && self.plan === p && !self.recovering) {
          self.requestPlan().then(function (np) { if (self.plan === p) { self.adopt(np); self.prefetch(j); } }, function () {});
        }
      });
    }).catch(function () { if (self.plan === p) delete self.prefetched[j]; });
  };

  // The whole article's MP3 exists once the plan says `ready`.
  W.checkReady = function () {
    var self = this, p = this.plan;
    if (this.readyAsked === p.key) return;
    this.readyAsked = p.key;
    setTimeout(function () {
      self.requestPlan().then(function (np) { if (self.plan === p && np.key === p.key && np.ready) { p.ready = true; self.showDownload(); } }, function () {});
    }, 1000);
  };

  W.finish = function () {
    var n = this.plan.sentences.length;
    this.seq++;
    clearTimeout(this.timer);
    this.playing = false;
    this.cur = n;
    this.offset = 0;
    this.mark(-1);
    this.showFollow(false);
    this.ui.range.value = n - 1;
    this.showPosition(n - 1, this.total());
    this.status(MSG.done);
    store.del(this.key);
    this.refresh();
    if (!this.plan.ready) this.checkReady();
  };

  // Go to sentence i (buttons, clicks, slider, keys, lock screen).
  W.go = function (i) {
    if (!this.plan) return;
    var n = this.plan.sentences.length;
    if (i < 0 || i >= n) return;
    clearTimeout(this.commitTimer);
    this.retry = this.loadFails = 0;
    if (R.active !== this) this.claim();
    this.unlock();
    this.player.hidden = false;
    this.playAt(i, 0, true);
  };

  W.setRate = function (r, quiet) {
    if (!(r > 0)) return;
    this.rate = r;
    this.ui.speed.value = String(r);
    this.audio.defaultPlaybackRate = r;
    this.audio.playbackRate = r;
    if (!quiet) { this.save(); this.position(); }
  };

  W.learnRate = function () {
    var ms = 0, ch = 0, s = this.plan.sentences;
    for (var i = 0; i < s.length; i++) if (this.known[i]) { ms += this.durs[i]; ch += s[i].spoken.length || 1; }
    if (ch > 0) this.msPerChar = ms / ch;
    for (var k = 0; k < s.length; k++) if (!this.known[k]) this.durs[k] = (s[k].spoken.length || 1) * this.msPerChar;
  };

  // Article time: sentences and the pauses after them.
  W.before = function (i) { var t = 0; for (var k = 0; k < i; k++) t += this.durs[k] + (this.pauses[k] || 0); return t; };
  W.total = function () { return this.before(this.durs.length); };

  W.progress = function () {
    if (!this.plan || this.cur < 0 || this.cur >= this.plan.sentences.length) return;
    var t = this.srcIndex === this.cur ? this.audio.currentTime * 1000 : this.offset;
    this.showPosition(this.cur, this.before(this.cur) + t);
  };

  W.seekTo = function (ms) {
    if (!this.plan) return;
    var t = 0, n = this.durs.length;
    for (var i = 0; i < n; i++) {
      var len = this.durs[i] + (this.pauses[i] || 0);
      if (ms < t + len || i === n - 1) { this.claim(); this.playAt(i, Math.max(0, Math.min(ms - t, this.durs[i] - 50)), true); return; }
      t += len;
    }
  };

  // Remember where the reader is, per article.
  W.save = function () {
    if (!this.plan) return;
    var n = this.plan.sentences.length;
    if (this.cur < 0 || this.cur >= n) return;
    var off = this.offsetNow();
    if (this.cur === 0 && off < 1000) { store.del(this.key); return; }
    store.set(this.key, { i: this.cur, ms: Math.round(off), rate: this.rate, n: n, at: Date.now() });
  };

  // The lock screen and the system's media controls.
  W.session = function () {
    var ms = navigator.mediaSession, self = this;
    if (!ms) return;
    try {
      var site = document.querySelector('meta[property="og:site_name"]');
      ms.metadata = new window.MediaMetadata({ title: this.title, artist: (site && site.content) || location.hostname, album: LABEL });
    } catch (e) { /* no MediaMetadata */ }
    var h = {
      play: function () { self.resume(); },
      pause: function () { self.pause(); },
      stop: function () { self.stop(); },
      previoustrack: function () { self.go(self.cur - 1); },
      nexttrack: function () { self.go(self.cur + 1); },
      seekto: function (d) { self.seekTo(d.seekTime * 1000); },
      seekbackward: function (d) { self.seekTo(self.before(self.cur) + self.offsetNow() - (d.seekOffset || 10) * 1000); },
      seekforward: function (d) { self.seekTo(self.before(self.cur) + self.offsetNow() + (d.seekOffset || 10) * 1000); }
    };
    for (var k in h) { try { ms.setActionHandler(k, h[k]); } catch (e) { /* action not supported */ } }
  };

  W.position = function () {
    var ms = navigator.mediaSession;
    if (!ms || !ms.setPositionState || R.active !== this || !this.plan || this.cur < 0) return;
    var total = this.total() / 1000, pos = (this.before(this.cur) + this.offsetNow()) / 1000;
    try { ms.setPositionState({ duration: total, position: Math.min(pos, total), playbackRate: this.rate }); } catch (e) { /* bad state */ }
  };
