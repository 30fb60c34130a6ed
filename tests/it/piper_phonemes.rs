//! `loa phonemes` against Piper's own phonemizer (the piper-tts package):
//! identical ids for every spoken sentence of the Vietnamese samples and
//! golden rows (a config with Piper's standard id map and the `vi` eSpeak
//! voice) and for an English article with the joe voice's config; and the
//! errors of a phoneme missing from the map.

use std::path::{Path, PathBuf};

use super::piper_support::{World, normalized, reference_ids, repo, stderr, stdout, tools};

/// The Vietnamese config: Piper's DEFAULT_PHONEME_ID_MAP, `"espeak": {"voice": "vi"}`.
fn vi_config() -> PathBuf {
    repo().join("tests/piper/vi-standard.onnx.json")
}

/// Compare loa's ids with Piper's for `lines`; panics listing mismatches.
fn compare(world: &World, voice: &str, config: &Path, lines: &[String]) {
    let input = lines.join("\n") + "\n";
    let out = world.loa(&["phonemes", "--voice", voice, "--lines", "-"], Some(input.as_bytes()));
    assert!(out.status.success(), "loa phonemes: {}", stderr(&out));
    let ours: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    let theirs = reference_ids(&world.tools, config, &input);
    assert_eq!(ours.len(), lines.len(), "loa phonemes --lines gave another number of lines");
    assert_eq!(theirs.len(), lines.len(), "the reference gave another number of lines");
    let bad: Vec<String> = (0..lines.len())
        .filter(|&i| ours[i] != theirs[i])
        .map(|i| format!("{:?}\n  loa:   {}\n  piper: {}", lines[i], ours[i], theirs[i]))
        .collect();
    let nonempty = ours.iter().filter(|l| !l.is_empty()).count();
    eprintln!(
        "{voice}: {} of {} lines identical to piper-tts ({nonempty} with phonemes)",
        lines.len() - bad.len(),
        lines.len()
    );
    assert!(bad.is_empty(), "{} lines differ, e.g.:\n{}", bad.len(), bad[..bad.len().min(5)].join("\n"));
}

#[test]
fn vietnamese_ids_are_pipers() {
    let Some(tools) = tools("piper_phonemes::vietnamese_ids_are_pipers") else { return };
    let world = World::new(&tools);
    world.voice(
        "vi-standard",
        Path::new("no-model.onnx"),
        &format!("config = {:?}\n", vi_config().display().to_string()),
        false,
    );
    // Every sample article, normalized…
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(repo().join("tests/samples")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut lines = normalized(&world, &files);
    // …and the written column of every golden row, normalized line by line.
    let mut written = String::new();
    for entry in std::fs::read_dir(repo().join("tests/golden")).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("normalize-")) {
            for row in std::fs::read_to_string(&p).unwrap().lines() {
                if let Some(w) = row.split('\t').nth(1).filter(|_| !row.starts_with('#')) {
                    written += w;
                    written.push('\n');
                }
            }
        }
    }
    let out = world.loa(&["normalize", "--lines", "-"], Some(written.as_bytes()));
    assert!(out.status.success(), "{}", stderr(&out));
    lines.extend(stdout(&out).lines().map(str::to_string));
    lines.sort();
    lines.dedup();
    lines.retain(|l| !l.trim().is_empty());
    assert!(lines.len() >= 300, "only {} Vietnamese sentences", lines.len());
    compare(&world, "vi-standard", &vi_config(), &lines);
}

#[test]
fn english_ids_are_pipers() {
    let Some(tools) = tools("piper_phonemes::english_ids_are_pipers") else { return };
    let world = World::new(&tools);
    world.joe();
    let article = repo().join("tests/piper/english-article.txt");
    // The sentences as written (capitals, quotes, brackets) and as loa speaks them.
    let out = world.loa(&["split", &article.display().to_string()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let written: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert!(written.len() >= 50, "only {} English sentences", written.len());
    let mut lines = written;
    lines.extend(normalized(&world, &[article]));
    let config = PathBuf::from(format!("{}.json", tools.joe_model.display()));
    compare(&world, "joe", &config, &lines);
}

#[test]
fn raw_phoneme_blocks_and_sentences_follow_piper() {
    let Some(tools) = tools("piper_phonemes::raw_phoneme_blocks_and_sentences_follow_piper") else { return };
    let world = World::new(&tools);
    world.joe();
    let lines: Vec<String> = [
        "Say [[ hɛˈloʊ ]] to everyone. Then stop!",
        "[[ tˈɛst ]]",
        "One, two; three: four? Five!",
        "Words (in brackets) and \"quotes\" - dashes.",
        "",
        "   padded   ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let config = PathBuf::from(format!("{}.json", tools.joe_model.display()));
    compare(&world, "joe", &config, &lines);
    // Without --lines each Piper sentence is a line.
    let out = world.loa(&["phonemes", "--voice", "joe", "--symbols", "-"], Some(b"One. Two? Three!"));
    assert!(out.status.success(), "{}", stderr(&out));
    let symbols = stdout(&out);
    assert_eq!(symbols.lines().count(), 3, "{symbols}");
    assert!(symbols.lines().next().unwrap().ends_with('.'), "{symbols}");
}

#[test]
fn a_phoneme_missing_from_the_map_is_an_error_naming_the_config() {
    let Some(tools) = tools("piper_phonemes::a_phoneme_missing_from_the_map_is_an_error_naming_the_config")
    else {
        return;
    };
    let world = World::new(&tools);
    let joe_config = PathBuf::from(format!("{}.json", tools.joe_model.display()));
    let mut config: serde_json::Value = serde_json::from_slice(&std::fs::read(&joe_config).unwrap()).unwrap();
    config["phoneme_id_map"].as_object_mut().unwrap().remove("ð").expect("joe's map has ð");
    let cut = world.path("no-eth.onnx.json");
    std::fs::write(&cut, config.to_string()).unwrap();
    world.voice("no-eth", &tools.joe_model, &format!("config = {:?}\n", cut.display().to_string()), true);
    let out = world.loa(&["phonemes", "--voice", "no-eth", "--lines", "-"], Some(b"hello\nthe end\n"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 2") && err.contains("\"ð\"") && err.contains(&cut.display().to_string()),
        "{err}"
    );
    // Speaking it fails the same way and caches nothing.
    let wav = world.path("out.wav");
    let out =
        world.loa(&["speak", "--voice", "no-eth", "-o", &wav.display().to_string(), "-"], Some(b"The end."));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("\"ð\"") && err.contains(&cut.display().to_string()), "{err}");
    assert!(!wav.exists());
    assert!(world.cached_files().is_empty(), "cached: {:?}", world.cached_files());
}
