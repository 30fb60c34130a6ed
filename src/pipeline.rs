//! Article → sentences → cached per-sentence audio → joined article audio.
