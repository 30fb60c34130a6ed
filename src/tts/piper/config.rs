//! A Piper model's config (`MODEL.onnx.json`): the phoneme set, the
//! phoneme-to-id map, the sample rate, speakers and the default inference
//! scales, read the way `piper-tts` 1.x reads them (`PiperConfig.from_dict`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Piper's defaults when a config has no `inference` table.
pub const DEFAULT_NOISE_SCALE: f32 = 0.667;
pub const DEFAULT_LENGTH_SCALE: f32 = 1.0;
pub const DEFAULT_NOISE_W: f32 = 0.8;
pub const DEFAULT_HOP_LENGTH: u32 = 256;

/// The special symbols of the id map.
pub const PAD: &str = "_";
pub const BOS: &str = "^";
pub const EOS: &str = "$";

#[derive(Debug, Deserialize)]
struct Raw {
    num_speakers: Option<u32>,
    audio: RawAudio,
    espeak: Option<RawEspeak>,
    phoneme_id_map: HashMap<String, Vec<i64>>,
    phoneme_type: Option<String>,
    #[serde(default)]
    speaker_id_map: BTreeMap<String, i64>,
    #[serde(default)]
    inference: RawInference,
    hop_length: Option<u32>,
    vowel_clusters: Option<Vec<Vec<String>>>,
    default_speaker_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RawAudio {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct RawEspeak {
    voice: String,
}

#[derive(Debug, Default, Deserialize)]
struct RawInference {
    noise_scale: Option<f32>,
    length_scale: Option<f32>,
    noise_w: Option<f32>,
}

/// What loa uses of a model config.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The file it was read from (named in errors).
    pub path: PathBuf,
    pub sample_rate: u32,
    pub num_speakers: u32,
    /// eSpeak NG voice for the phonemes, e.g. `vi` or `en-us`.
    pub espeak_voice: String,
    pub phoneme_id_map: HashMap<String, Vec<i64>>,
    pub speaker_id_map: BTreeMap<String, i64>,
    pub default_speaker_id: i64,
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
    /// Samples per model frame (durations are in frames).
    pub hop_length: u32,
    /// Phoneme sequences merged into one symbol, e.g. `a ɪ` → `aɪ`.
    pub vowel_clusters: HashSet<Vec<String>>,
    /// SHA-256 of the file's bytes (the phoneme map changes the sound).
    pub sha256: String,
}

impl ModelConfig {
    /// Read and check a config file; errors name the file.
    pub fn load(path: &Path) -> Result<ModelConfig, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "model config {} not found (a Piper model comes with MODEL.onnx.json beside it; \
                     or set config = \"…\" in the voice file)",
                    path.display()
                )
            } else {
                format!("cannot read model config {}: {e}", path.display())
            }
        })?;
        Self::parse(&bytes, path)
    }

    /// Parse config bytes; `path` is for messages.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<ModelConfig, String> {
        let bad = |m: String| format!("bad model config {}: {m}", path.display());
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let phoneme_type = raw.phoneme_type.as_deref().unwrap_or("espeak");
        if phoneme_type != "espeak" {
            return Err(bad(format!(
                "phoneme_type {phoneme_type:?} is not supported (loa phonemizes with eSpeak NG only)"
            )));
        }
        let espeak_voice = raw.espeak.map(|e| e.voice).ok_or_else(|| bad("no espeak.voice".into()))?;
        if espeak_voice.is_empty() || espeak_voice.contains('\0') {
            return Err(bad("espeak.voice is empty".into()));
        }
        if espeak_voice == "ar" {
            return Err(bad(
                "Arabic voices need Piper's tashkeel diacritizer, which loa does not have".into()
            ));
        }
        for symbol in [PAD, BOS, EOS] {
            if raw.phoneme_id_map.get(symbol).is_none_or(|ids| ids.is_empty()) {
                return Err(bad(format!("phoneme_id_map has no id for {symbol:?}")));
            }
        }
        if !(8000..=96000).contains(&raw.audio.sample_rate) {
            return Err(bad(format!("audio.sample_rate {} is outside 8000–96000", raw.audio.sample_rate)));
        }
        let hop_length = raw.hop_length.unwrap_or(DEFAULT_HOP_LENGTH);
        if hop_length == 0 {
            return Err(bad("hop_length is 0".into()));
        }
        let vowel_clusters: HashSet<Vec<String>> =
            raw.vowel_clusters.unwrap_or_default().into_iter().collect();
        if vowel_clusters.iter().any(|c| c.is_empty()) {
            return Err(bad("vowel_clusters has an empty cluster".into()));
        }
        use sha2::Digest;
        Ok(ModelConfig {
            path: path.to_path_buf(),
            sample_rate: raw.audio.sample_rate,
            num_speakers: raw.num_speakers.unwrap_or(1),
            espeak_voice,
            phoneme_id_map: raw.phoneme_id_map,
            speaker_id_map: raw.speaker_id_map,
            default_speaker_id: raw.default_speaker_id.unwrap_or(0),
            noise_scale: raw.inference.noise_scale.unwrap_or(DEFAULT_NOISE_SCALE),
            length_scale: raw.inference.length_scale.unwrap_or(DEFAULT_LENGTH_SCALE),
            noise_w: raw.inference.noise_w.unwrap_or(DEFAULT_NOISE_W),
            hop_length,
            vowel_clusters,
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
        })
    }

    /// Ids of a symbol of the map.
    pub fn ids(&self, symbol: &str) -> Option<&[i64]> {
        self.phoneme_id_map.get(symbol).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> String {
        format!(
            r#"{{"audio":{{"sample_rate":22050}},"espeak":{{"voice":"vi"}},"num_speakers":1,
               "phoneme_id_map":{{"_":[0],"^":[1],"$":[2],"a":[14]}}{extra}}}"#
        )
    }

    #[test]
    fn defaults_are_piper_defaults() {
        let c = ModelConfig::parse(cfg("").as_bytes(), Path::new("m.onnx.json")).unwrap();
        assert_eq!((c.noise_scale, c.length_scale, c.noise_w, c.hop_length), (0.667, 1.0, 0.8, 256));
        assert_eq!(c.espeak_voice, "vi");
        assert_eq!(c.sha256.len(), 64);
    }

    #[test]
    fn errors_name_the_file() {
        let e = ModelConfig::parse(b"{", Path::new("x/m.onnx.json")).unwrap_err();
        assert!(e.contains("x/m.onnx.json"), "{e}");
        let no_pad = cfg("").replace(r#""_":[0],"#, "");
        let e = ModelConfig::parse(no_pad.as_bytes(), Path::new("m.json")).unwrap_err();
        assert!(e.contains("\"_\"") && e.contains("m.json"), "{e}");
        let text = cfg(r#","phoneme_type":"pinyin""#);
        let e = ModelConfig::parse(text.as_bytes(), Path::new("m.json")).unwrap_err();
        assert!(e.contains("pinyin"), "{e}");
        let e = ModelConfig::load(Path::new("/nonexistent/m.onnx.json")).unwrap_err();
        assert!(e.contains("/nonexistent/m.onnx.json") && e.contains("not found"), "{e}");
    }
}
