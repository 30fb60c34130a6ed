#!/usr/bin/env python3
"""The longer runs of the hostile-load issue, against the release binary on
loopback (the short versions are tests/it/reliability.rs). Each check prints
its figures and PASS or FAIL; the exit status is 1 if any check failed.

  kills     kill -9 of `loa generate` and of `loa serve` at KILLS random
            moments: 0 corrupt objects (`loa cache verify`), 0 temp files
            after the next start, the final rerun byte-identical to a clean run
  flood     CONCURRENT distinct articles at once: accepted ones complete, the
            rest 503 with Retry-After, peak RSS (server + its synthesis
            workers) under 300 MB
  slow      SLOW connections that never finish their headers: all closed by
            the server within the header timeout, /healthz p99 < 50 ms meanwhile
  rss       peak RSS of one long WAV article of SHORT_MIN and of LONG_MIN
            minutes of audio, with the built-in voice and with the command
            voice: the longer may exceed the shorter by a few MB only

Usage: scripts/reliability [kills|flood|slow|rss ...]   (default: all)
Environment: LOA_BIN, KILLS (10), CONCURRENT (200), SLOW (500),
SHORT_MIN (60), LONG_MIN (180).
"""

import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOA = os.environ.get("LOA_BIN", str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release/loa"))
SEED = (ROOT / "tests/samples/cao-loc-2021.txt").read_text(encoding="utf-8")
FAILED = []


def check(name, ok, detail):
    print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
    if not ok:
        FAILED.append(name)


def env(cache, **extra):
    e = dict(os.environ)
    for k in [k for k in e if k.startswith("LOA_")]:
        del e[k]
    e.update(LOA_CONFIG="/dev/null", LOA_CACHE_DIR=str(cache), LOA_VOICES_DIR=str(ROOT / "voices"))
    # Every request here comes from one loopback client: per-client limits
    # (the trust issue) would answer 429 long before the server is loaded.
    e.update(LOA_SERVER_LIMITS_SYNTHESES_PER_MINUTE="0", LOA_SERVER_LIMITS_REQUESTS_PER_MINUTE="0",
             LOA_SERVER_LIMITS_JOBS_PER_CLIENT="0")
    e.update({k: str(v) for k, v in extra.items()})
    return e


def article(n, paragraphs=None):
    """The seed article with every sentence made distinct by a number."""
    paras = [p for p in SEED.split("\n") if p.strip()]
    if paragraphs is not None:
        paras = paras[:paragraphs]
    out = []
    for p in paras:
        out.append(p.rstrip().rstrip(".").replace(". ", f" số {n}. ") + f" số {n}.")
    return "\n\n".join(out) + "\n"


def temp_files(*dirs):
    found = []
    for d in dirs:
        for p in Path(d).rglob("*"):
            if p.is_file() and (".part" in p.name or p.name.startswith(".loa-tmp-")):
                found.append(p)
    return found


def verify(cache):
    r = subprocess.run([LOA, "cache", "verify", "--cache-dir", str(cache)], capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip().splitlines()


def outputs(out):
    """The audio and timings files (manifest.json names its run: left out)."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(Path(out).rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, cache, **extra):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [LOA, "serve"],
            env=env(cache, LOA_SERVER_ADDRESS=f"127.0.0.1:{self.port}", **extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("loa serve did not answer /healthz within 30 s")

    def conn(self, timeout=600):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path):
        c = self.conn(10)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def post(self, path, doc, timeout=600):
        c = self.conn(timeout)
        c.request("POST", path, body=json.dumps(doc).encode(), headers={"content-type": "application/json"})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, dict(r.getheaders()), body

    def peak_rss_kb(self):
        """VmHWM of the server plus that of each of its child processes."""
        total = 0
        pids = [self.proc.pid]
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            pids += [int(k) for k in kids]
        except OSError:
            pass
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def kills(work, rounds):
    print(f"== kill -9 at {rounds} random moments ==", flush=True)
    arts = work / "articles"
    arts.mkdir()
    for i in range(6):
        (arts / f"bai-{i}.txt").write_text(article(i, 4), encoding="utf-8")

    def generate(cache, out):
        return subprocess.Popen(
            [LOA, "generate", str(arts), "--out", str(out), "--jobs", "2"],
            env=env(cache),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    t = time.time()
    clean = generate(work / "clean-cache", work / "clean-out")
    clean.wait()
    took = time.time() - t
    reference = outputs(work / "clean-out")
    cache, out = work / "gen-cache", work / "gen-out"
    corrupt, leftovers, temps_seen = 0, 0, 0
    for _ in range(rounds):
        p = generate(cache, out)
        time.sleep(random.uniform(0.05, max(0.1, took * 0.9)))
        p.send_signal(signal.SIGKILL)
        p.wait()
        temps_seen += len(temp_files(cache, out))
        rc, lines = verify(cache)  # opening the store is a "next start"
        corrupt += rc != 0
        leftovers += len(temp_files(cache))
    generate(cache, out).wait()
    leftovers += len(temp_files(cache, out))
    got = outputs(out)
    same = got == reference
    if not same:
        differ = sorted(k for k in set(got) | set(reference) if got.get(k) != reference.get(k))
        print(f"    differing outputs: {differ[:6]}", flush=True)
    check(
        "generate kill -9",
        corrupt == 0 and leftovers == 0 and same,
        f"{rounds} kills (clean run {took:.1f} s), {temps_seen} temp files seen right after the kills, "
        f"{corrupt} verify failures, {leftovers} temp files after the next start, rerun identical: {same}",
    )

    cache = work / "serve-cache"
    corrupt, leftovers, answered = 0, 0, 0
    for k in range(rounds):
        s = Server(cache)
        stop = threading.Event()

        def client(j):
            n = 0
            while not stop.is_set():
                try:
                    s.post("/v1/speech", {"text": article(1000 * k + 10 * j + n, 2), "format": "mp3"}, 30)
                except OSError:
                    return
                n += 1

        threads = [threading.Thread(target=client, args=(j,), daemon=True) for j in range(4)]
        for th in threads:
            th.start()
        time.sleep(random.uniform(0.2, 2.0))
        s.stop(signal.SIGKILL)
        stop.set()
        for th in threads:
            th.join(5)
        s2 = Server(cache)  # the next start
        answered += s2.get("/healthz")[0] == 200
        leftovers += len(temp_files(cache))
        s2.stop()
        rc, _ = verify(cache)
        corrupt += rc != 0
    check(
        "serve kill -9",
        corrupt == 0 and leftovers == 0 and answered == rounds,
        f"{rounds} kills under load, {corrupt} verify failures, {leftovers} temp files after restart, "
        f"{answered}/{rounds} restarts healthy",
    )


def flood(work, n):
    print(f"== {n} concurrent distinct articles ==", flush=True)
    s = Server(work / "flood-cache")
    results = [None] * n
    start = threading.Barrier(n)

    def one(i):
        start.wait()
        t = time.time()
        try:
            status, headers, body = s.post("/v1/speech", {"text": article(i, 2), "format": "mp3"})
            results[i] = (status, headers, len(body), time.time() - t)
        except OSError as e:
            results[i] = ("error", {}, str(e), time.time() - t)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.time() - t0
    rss = s.peak_rss_kb()
    s.stop()
    ok = [r for r in results if r[0] == 200 and r[2] > 0]
    busy = [r for r in results if r[0] == 503 and any(k.lower() == "retry-after" for k in r[1])]
    other = [r for r in results if r not in ok and r not in busy]
    check(
        "flood",
        not other and rss < 300 * 1024 and ok,
        f"{len(ok)} completed (slowest {max((r[3] for r in ok), default=0):.1f} s), {len(busy)} × 503 with "
        f"Retry-After, {len(other)} other {[r[0] for r in other][:5]}, in {took:.1f} s; "
        f"peak RSS {rss / 1024:.0f} MB (server + workers; goal < 300)",
    )


def slow(work, n, header_timeout=10):
    print(f"== {n} slow-header connections (header timeout {header_timeout} s) ==", flush=True)
    s = Server(work / "slow-cache", LOA_SERVER_HEADER_TIMEOUT_SECS=header_timeout)
    socks = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(c)
    opened = time.time()
    lat = []
    while time.time() - opened < header_timeout - 1:
        t = time.time()
        status = s.get("/healthz")[0]
        lat.append((time.time() - t) * 1000 if status == 200 else 1e9)
        time.sleep(0.02)
    still_open = 0
    for c in socks:
        c.settimeout(max(0.1, header_timeout + 3 - (time.time() - opened)))
        try:
            data = c.recv(256)
            # The server may answer 408 before closing: then read to the end.
            while data:
                data = c.recv(256)
        except socket.timeout:
            still_open += 1
        except OSError:
            pass
        c.close()
    closed_after = time.time() - opened
    s.stop()
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    check(
        "slow headers",
        still_open == 0 and p99 < 50,
        f"{n - still_open}/{n} closed by the server, all within {closed_after:.1f} s; /healthz over "
        f"{len(lat)} probes: median {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms (goal < 50)",
    )


def rss(work, short_min, long_min):
    print(f"== peak RSS: {short_min} min vs {long_min} min of WAV audio ==", flush=True)
    # One seed article is about SEED_SECS of audio: measure it once.
    probe = work / "probe.json"
    subprocess.run(
        [LOA, "speak", "-", "-o", str(work / "probe.wav"), "--timings", str(probe)],
        input=article(0).encode(),
        env=env(work / "probe-cache"),
        check=True,
        capture_output=True,
    )
    seed_secs = json.loads(probe.read_text())["duration_ms"] / 1000
    for voice in ["vi-espeak", "vi-espeak-cli"]:
        peaks = []
        for minutes in (short_min, long_min):
            copies = max(1, round(minutes * 60 / seed_secs))
            text = "".join(article(10_000 + i) for i in range(copies))
            path = work / f"long-{voice}-{minutes}.txt"
            path.write_text(text, encoding="utf-8")
            out = work / f"long-{voice}-{minutes}.wav"
            t = time.time()
            r = subprocess.run(
                ["/usr/bin/time", "-f", "%M", LOA, "speak", str(path), "-o", str(out), "--voice", voice],
                env=env(
                    work / f"rss-cache-{voice}-{minutes}",
                    LOA_SPEECH_MAX_ARTICLE_SECS=long_min * 60 * 2,
                    LOA_SPEECH_MAX_SENTENCES=10_000_000,
                    LOA_CACHE_MAX_BYTES=20 << 30,
                ),
                capture_output=True,
                text=True,
            )
            took = time.time() - t
            if r.returncode != 0:
                check(f"rss {voice} {minutes} min", False, r.stderr.strip().splitlines()[-3:])
                peaks.append(None)
                continue
            peak = int(r.stderr.strip().splitlines()[-1])
            audio_min = (out.stat().st_size - 44) / 2 / 22050 / 60
            print(f"    {voice}: {audio_min:.0f} min of audio ({out.stat().st_size >> 20} MB WAV) "
                  f"in {took:.0f} s, peak RSS {peak / 1024:.1f} MB", flush=True)
            peaks.append(peak)
            out.unlink()
            shutil.rmtree(work / f"rss-cache-{voice}-{minutes}", ignore_errors=True)
        if None not in peaks:
            grew = (peaks[1] - peaks[0]) / 1024
            check(f"rss {voice}", grew < 8, f"{long_min} min peak − {short_min} min peak = {grew:+.1f} MB (goal: a few MB)")


def main():
    which = sys.argv[1:] or ["kills", "flood", "slow", "rss"]
    unknown = set(which) - {"kills", "flood", "slow", "rss"}
    if unknown:
        sys.exit(f"unknown check(s) {sorted(unknown)}; see {__file__} --help" if "--help" not in which else __doc__)
    if not os.access(LOA, os.X_OK):
        sys.exit(f"{LOA} is not built (scripts/reliability builds it)")
    work = Path(tempfile.mkdtemp(prefix="loa-reliability-"))
    try:
        if "kills" in which:
            kills(work, int(os.environ.get("KILLS", 10)))
        if "flood" in which:
            flood(work, int(os.environ.get("CONCURRENT", 200)))
        if "slow" in which:
            slow(work, int(os.environ.get("SLOW", 500)))
        if "rss" in which:
            rss(work, int(os.environ.get("SHORT_MIN", 60)), int(os.environ.get("LONG_MIN", 180)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("all passed" if not FAILED else f"FAILED: {', '.join(FAILED)}")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
