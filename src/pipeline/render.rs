//! Producing audio: one sentence's object (cached, or synthesized once,
//! levelled and encoded once), a whole article assembled from those
//! objects in order into a temporary file, and the same pieces as a live
//! MP3 stream.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::StreamExt;

use super::{
    Engine, InFlight, Job, PipelineError, Plan, Rendered, SentenceAudio, TimedSentence, Timings, blocking,
};
use crate::audio::mp3::{ArticleWriter, Piece, pause_frames, silence_frame};
use crate::audio::{self, Format, Pcm, WavWriter};
use crate::cache::{Class, Ext, Payload, Put};
use crate::tts::TtsError;

/// A render stops once its audio passes this many times the longest
/// article allowed (`speech.max_article_secs`): the estimate is checked
/// before synthesis, this bounds what a voice far slower than estimated
/// can produce.
const OVERRUN: u64 = 2;

/// Duration of one sentence object.
pub(super) fn duration_ms(bytes: &[u8], format: Format) -> Result<u64, PipelineError> {
    Ok(match format {
        Format::Mp3 => {
            let p = Piece::parse(bytes)?;
            p.decoded_samples() * 1000 / p.header.sample_rate as u64
        }
        Format::Wav => audio::read_wav(bytes)?.duration_ms(),
    })
}

/// Sentences of one article in flight per synthesis slot (see `render`).
const IN_FLIGHT_PER_SLOT: usize = 8;
/// Most sentences of one article in flight at once.
const MAX_IN_FLIGHT: usize = 64;

impl Engine {
    /// Sentence `index`'s audio bytes: from the cache, or synthesized once
    /// (single-flight per key). Returns whether it was synthesized.
    /// `slots`, when given, bounds the syntheses running at once (a
    /// render's own limit; a permit is held only while synthesizing).
    pub(super) async fn sentence_object(
        &self,
        plan: &Plan,
        index: usize,
        job: &Job,
        slots: Option<&tokio::sync::Semaphore>,
    ) -> Result<(Bytes, bool), PipelineError> {
        let s = plan.get(index).ok_or(PipelineError::NoSuchSentence { index, len: plan.len() })?;
        let ext: Ext = plan.format().into();
        let cache = &self.inner.cache;
        // A cache hit: counted, and kept as pre-generated when the job is.
        let hit = |bytes: Bytes| async move {
            self.inner.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
            if job.class() == Class::Pregenerated {
                cache.put(Class::Pregenerated, &s.key, ext, Payload::Bytes(bytes.clone())).await?;
            }
            Ok::<_, PipelineError>((bytes, false))
        };
        if let Some(b) = cache.read(&s.key, ext).await? {
            return hit(b).await;
        }
        job.check()?;
        let _guard = self.inner.locks.lock(s.key.as_str()).await;
        if let Some(b) = cache.read(&s.key, ext).await? {
            return hit(b).await;
        }
        job.check()?;
        self.inner.metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
        let rate = plan.sample_rate();
        let mut pcm = if s.spoken.trim().is_empty() {
            Pcm { sample_rate: rate, samples: Vec::new() }
        } else {
            let backend = self.backend(plan.voice())?;
            let permit = match slots {
                None => None,
                Some(s) => tokio::select! {
                    p = s.acquire() => Some(p.map_err(|_| PipelineError::Cancelled)?),
                    () = job.cancel.cancelled() => return Err(PipelineError::Cancelled),
                },
            };
            let m = &self.inner.metrics;
            let started = std::time::Instant::now();
            let in_flight = InFlight::new(&m.in_flight);
            let result = crate::tts::synthesize_long(backend.as_ref(), &s.spoken, rate, &job.cancel).await;
            drop(in_flight);
            drop(permit);
            m.syntheses.fetch_add(1, Ordering::Relaxed);
            m.synthesis_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            let voice = plan.voice().to_string();
            metrics::histogram!("loa_synthesis_duration_seconds", "voice" => voice.clone())
                .record(started.elapsed().as_secs_f64());
            let status = if result.is_ok() { "ok" } else { "error" };
            metrics::counter!("loa_voice_syntheses_total", "voice" => voice, "status" => status).increment(1);
            result.map_err(|e| match e {
                TtsError::Unavailable(m) => PipelineError::VoiceUnavailable(m),
                TtsError::Cancelled => PipelineError::Cancelled,
                TtsError::Timeout(_) => PipelineError::Timeout { index, sentence: s.text.clone() },
                other => {
                    PipelineError::Backend { index, sentence: s.text.clone(), message: other.to_string() }
                }
            })?
        };
        let (format, kbps) = (plan.format(), plan.mp3_kbps());
        let bytes = blocking(move || {
            audio::level(&mut pcm);
            Ok(Bytes::from(audio::encode(&pcm, format, kbps)?))
        })
        .await?;
        let bytes = match cache.put(job.class(), &s.key, ext, Payload::Bytes(bytes.clone())).await? {
            Put::Created => bytes,
            // Another writer (another instance) stored it first: use its
            // bytes, so an article assembled here matches the stored sentence.
            Put::Exists => cache.read(&s.key, ext).await?.unwrap_or(bytes),
        };
        tracing::debug!(index, key = %s.key, "sentence synthesized");
        Ok((bytes, true))
    }

    /// One sentence's audio object, from the cache or synthesized once.
    pub async fn sentence(
        &self,
        plan: &Plan,
        index: usize,
        job: &Job,
    ) -> Result<SentenceAudio, PipelineError> {
        let (bytes, synthesized) = self.sentence_object(plan, index, job, None).await?;
        let key = plan.sentences()[index].key.clone();
        Ok(SentenceAudio { key, duration_ms: duration_ms(&bytes, plan.format())?, synthesized })
    }

    /// The whole article: audio and timings in the cache under `plan.key()`
    /// (single-flight; nothing partial is cached). Returns only when every
    /// synthesis it started has ended, even when it fails or is cancelled.
    pub async fn render(&self, plan: &Plan, job: &Job) -> Result<Rendered, PipelineError> {
        let n = plan.len();
        let progress = |done: usize| {
            if let Some(p) = &job.progress {
                p(done)
            }
        };
        if let Some(r) = self.cached_render(plan).await? {
            if job.class() == Class::Pregenerated {
                self.promote(plan).await?;
            }
            progress(n);
            return Ok(r);
        }
        job.check()?;
        let _guard = self.inner.locks.lock(plan.key().as_str()).await;
        if let Some(r) = self.cached_render(plan).await? {
            progress(n);
            return Ok(r);
        }
        // Sentences in flight: eight per synthesis slot of the backend (at
        // most 64). A sentence stays in this ordered window until it is
        // levelled, encoded and durably stored, and a store's fsync often
        // takes longer than an eSpeak sentence's synthesis, so with fewer
        // the workers wait (with twice the slots ~17% of the CPU was idle in
        // `generate`; eight gained ~7% throughput, sixteen little more).
        // This bounds memory; `synthesizing` bounds synthesis.
        let slots = self.backend(plan.voice())?.max_concurrency().max(1);
        let concurrency = slots.saturating_mul(IN_FLIGHT_PER_SLOT).min(MAX_IN_FLIGHT);
        // Syntheses at once in this render: the voice's `concurrency` (a
        // backend without its own limit, such as `command`, would
        // otherwise run as many as the window holds).
        let synthesizing = tokio::sync::Semaphore::new(slots);
        let max_samples =
            self.inner.config.speech.max_article_secs.saturating_mul(OVERRUN) * plan.sample_rate() as u64;
        let tmp = self.inner.cache.temp_file()?;
        let mut asm = Some(Assembler::new(plan, tmp, max_samples)?);
        // Sentences stop starting once `inner` fires (after a failure or
        // when the job is cancelled); the stream is drained either way so
        // no synthesis outlives this call.
        let inner = job.cancel.child_token();
        let sub = Job { class: job.class, cancel: inner.clone(), progress: None };
        let mut stream = futures::stream::iter(0..n)
            .map(|i| {
                let sub = &sub;
                let synthesizing = &synthesizing;
                async move { (i, self.sentence_object(plan, i, sub, Some(synthesizing)).await) }
            })
            .buffered(concurrency);
        let (mut first_err, mut synthesized, mut done) = (None::<PipelineError>, 0usize, 0usize);
        while let Some((i, result)) = stream.next().await {
            if first_err.is_some() {
                continue;
            }
            let outcome = match result {
                Ok((bytes, fresh)) => {
                    synthesized += fresh as usize;
                    let pause = plan.sentences()[i].pause_after_ms;
                    let mut a = asm.take().ok_or_else(|| PipelineError::Internal("assembler lost".into()))?;
                    blocking(move || a.push(&bytes, pause).map(|()| a)).await.map(|a| asm = Some(a))
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => {
                    done += 1;
                    progress(done);
                }
                Err(e) => {
                    first_err = Some(if job.cancel.is_cancelled() { PipelineError::Cancelled } else { e });
                    inner.cancel();
                }
            }
        }
        drop(stream);
        if let Some(e) = first_err {
            return Err(e);
        }
        let asm = asm.ok_or_else(|| PipelineError::Internal("assembler lost".into()))?;
        let (tmp, starts, total) = blocking(move || asm.finish()).await?;
        let rate = plan.sample_rate() as u64;
        let ms = |samples: u64| samples * 1000 / rate;
        let duration_ms = ms(total);
        let timings = Timings {
            key: plan.key().to_string(),
            voice: plan.voice().to_string(),
            format: plan.format(),
            duration_ms,
            sentences: plan
                .sentences()
                .iter()
                .enumerate()
                .map(|(index, s)| TimedSentence {
                    index,
                    text: s.text.clone(),
                    spoken: s.spoken.clone(),
                    start_byte: s.span.start,
                    end_byte: s.span.end,
                    start_ms: ms(starts[index]),
                    end_ms: starts.get(index + 1).map_or(duration_ms, |&x| ms(x)),
                    paragraph_start: s.paragraph_start,
                    audio_key: s.key.to_string(),
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&timings).map_err(|e| PipelineError::Internal(e.to_string()))?;
        // Timings first: cached audio implies its timings.
        let cache = &self.inner.cache;
        cache.put(job.class(), plan.key(), Ext::Json, Payload::Bytes(json.into())).await?;
        cache.put(job.class(), plan.key(), plan.format().into(), Payload::File(tmp)).await?;
        Ok(Rendered {
            key: plan.key().clone(),
            format: plan.format(),
            from_cache: false,
            duration_ms,
            synthesized,
        })
    }

    /// Sentence `index` as a piece of a live MP3 stream of the article:
    /// its audio frames (no Info frame) and the pause after it as silent
    /// frames, the same pieces the cached article is made of. The sentence
    /// is synthesized (and cached) if needed.
    pub async fn stream_chunk(&self, plan: &Plan, index: usize, job: &Job) -> Result<Bytes, PipelineError> {
        if plan.format() != Format::Mp3 {
            return Err(PipelineError::Config("streaming is available for mp3 only".into()));
        }
        let (bytes, _) = self.sentence_object(plan, index, job, None).await?;
        let pause = plan.sentences()[index].pause_after_ms as u64 * plan.sample_rate() as u64 / 1000;
        let piece = Piece::parse(&bytes)?;
        let header: [u8; 4] = [piece.frames[0], piece.frames[1], piece.frames[2], piece.frames[3]];
        let silence = silence_frame(&piece.header, header);
        let n = pause_frames(&piece, pause) as usize;
        let mut out = Vec::with_capacity(piece.frames.len() + n * silence.len());
        out.extend_from_slice(piece.frames);
        for _ in 0..n {
            out.extend_from_slice(&silence);
        }
        Ok(Bytes::from(out))
    }
}

/// Appends sentence objects to the article file in order.
struct Assembler {
    tmp: tempfile::NamedTempFile,
    kind: Kind,
    rate: u32,
    starts: Vec<u64>,
    max_samples: u64,
}

enum Kind {
    /// MP3 before the first sentence (whose Info frame is the template).
    Mp3Pending(Option<std::fs::File>),
    Mp3(Box<ArticleWriter<std::fs::File>>),
    Wav(WavWriter<std::fs::File>),
}

impl Assembler {
    fn new(plan: &Plan, tmp: tempfile::NamedTempFile, max_samples: u64) -> Result<Assembler, PipelineError> {
        let file =
            tmp.as_file().try_clone().map_err(|e| PipelineError::Internal(format!("temporary file: {e}")))?;
        let kind = match plan.format() {
            Format::Mp3 => Kind::Mp3Pending(Some(file)),
            Format::Wav => Kind::Wav(WavWriter::new(file, plan.sample_rate())?),
        };
        Ok(Assembler {
            tmp,
            kind,
            rate: plan.sample_rate(),
            starts: Vec::with_capacity(plan.len()),
            max_samples,
        })
    }

    fn push(&mut self, bytes: &[u8], pause_ms: u32) -> Result<(), PipelineError> {
        let pause = pause_ms as u64 * self.rate as u64 / 1000;
        let total = match &mut self.kind {
            Kind::Mp3Pending(file) => {
                let piece = Piece::parse(bytes)?;
                let file = file.take().ok_or_else(|| PipelineError::Internal("article file lost".into()))?;
                let mut w = Box::new(ArticleWriter::new(file, &piece)?);
                self.starts.push(w.push_piece(&piece)?);
                w.push_silence(pause_frames(&piece, pause))?;
                let t = w.decoded_samples();
                self.kind = Kind::Mp3(w);
                t
            }
            Kind::Mp3(w) => {
                let piece = Piece::parse(bytes)?;
                if piece.header.sample_rate != self.rate {
                    return Err(PipelineError::Internal("a sentence has another sample rate".into()));
                }
                self.starts.push(w.push_piece(&piece)?);
                w.push_silence(pause_frames(&piece, pause))?;
                w.decoded_samples()
            }
            Kind::Wav(w) => {
                let start = w.position();
                let same_rate = |rate: u32| {
                    (rate == self.rate)
                        .then_some(())
                        .ok_or_else(|| PipelineError::Internal("a sentence has another sample rate".into()))
                };
                // loa's own sentence WAVs are copied as stored; others decoded.
                match audio::wav_data(bytes) {
                    Some((rate, data)) => {
                        same_rate(rate)?;
                        w.push_data(data)?;
                    }
                    None => {
                        let pcm = audio::read_wav(bytes)?;
                        same_rate(pcm.sample_rate)?;
                        w.push(&pcm.samples)?;
                    }
                }
                self.starts.push(start);
                w.push_silence(pause)?;
                w.position()
            }
        };
        if total > self.max_samples {
            return Err(PipelineError::TooLong(format!(
                "the audio ran past {} min, twice the longest article allowed; stopped",
                self.max_samples / self.rate as u64 / 60
            )));
        }
        Ok(())
    }

    /// The filled file, each sentence's start and the total, in samples.
    fn finish(self) -> Result<(tempfile::NamedTempFile, Vec<u64>, u64), PipelineError> {
        let total = match self.kind {
            Kind::Mp3Pending(_) => return Err(PipelineError::EmptyText),
            Kind::Mp3(w) => {
                let t = w.decoded_samples();
                w.finish()?.sync_data().map_err(|e| PipelineError::Internal(format!("article file: {e}")))?;
                t
            }
            Kind::Wav(w) => {
                let t = w.position();
                w.finish()?.sync_data().map_err(|e| PipelineError::Internal(format!("article file: {e}")))?;
                t
            }
        };
        Ok((self.tmp, self.starts, total))
    }
}
