//! Tiny generated corpora for the integration tests (WAV files in a temp dir).
#![allow(dead_code)]

use std::f64::consts::TAU;
use std::fs;
use std::path::{Path, PathBuf};

use ser_data::corpus::{EmoDbId, EmoDbLabel};
use ser_data::{Corpus, CorpusKind, Emotion, Gender, SpeakerId, Utterance, UtteranceMeta};
use ser_features::FeatureConfig;

/// Sample rate of generated files.
pub const SR: u32 = 16_000;

/// A short tone whose pitch depends on `seed` (so files differ), with a little harmonic.
pub fn tone(seed: u32, duration_s: f64) -> Vec<f32> {
    let n = (duration_s * f64::from(SR)) as usize;
    let f0 = 150.0 + 37.0 * f64::from(seed % 29);
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(SR);
            (0.3 * (TAU * f0 * t).sin() + 0.1 * (TAU * 2.7 * f0 * t).sin()) as f32
        })
        .collect()
}

/// Writes a tone WAV, creating folders.
pub fn write_wav(path: &Path, seed: u32) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    ser_audio::write_wav_i16(path, &tone(seed, 0.25), SR).expect("write wav");
}

/// A RAVDESS tree (`Actor_NN/03-01-EE-II-01-01-NN.wav`) with `emotions` per actor for actors
/// 1..=24, plus one song file, one badly named file, and a text file named like a RAVDESS file.
pub fn ravdess(dir: &Path, emotions: &[u8]) -> PathBuf {
    let root = dir.join("ravdess");
    for actor in 1..=24u32 {
        for &e in emotions {
            let name = format!("Actor_{actor:02}/03-01-{e:02}-01-01-01-{actor:02}.wav");
            write_wav(&root.join(name), actor * 10 + u32::from(e));
        }
    }
    write_wav(&root.join("Actor_01/03-02-03-01-01-01-01.wav"), 7);
    write_wav(&root.join("Actor_01/03-01-09-01-01-01-01.wav"), 8);
    fs::write(root.join("Actor_02/03-01-03-02-01-01-02.wav"), "not audio").expect("txt");
    fs::write(root.join("README.txt"), "ignored").expect("readme");
    root
}

/// An EmoDB tree (`wav/SSTNNEV.wav`) with every speaker, `texts` texts, every emotion letter
/// (boredom included), plus a bad name and a text file.
pub fn emodb(dir: &Path, texts: &[&str]) -> PathBuf {
    let root = dir.join("emodb");
    let speakers = [3u32, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    for s in speakers {
        for (t, text) in texts.iter().enumerate() {
            for (k, letter) in ['W', 'L', 'E', 'A', 'F', 'T', 'N'].into_iter().enumerate() {
                let name = format!("wav/{s:02}{text}{letter}a.wav");
                write_wav(&root.join(name), s * 31 + t as u32 * 7 + k as u32);
            }
        }
    }
    write_wav(&root.join("wav/01a01Fa.wav"), 1);
    fs::write(root.join("wav/03b09Nc.wav"), "not audio").expect("txt");
    // Files outside wav/ are ignored when wav/ exists.
    fs::create_dir_all(root.join("silb")).expect("mkdir");
    write_wav(&root.join("silb/whatever.wav"), 2);
    root
}

/// A TESS tree with both speakers, mixed folder case, both pleasant-surprise spellings, the
/// `OA_` file, a bad name and a text file.
pub fn tess(dir: &Path, words: &[&str]) -> PathBuf {
    let root = dir.join("tess");
    let emotions = [
        ("angry", "angry"),
        ("disgust", "disgust"),
        ("Fear", "fear"),
        ("happy", "happy"),
        ("neutral", "neutral"),
        ("Pleasant_surprise", "ps"),
        ("Sad", "sad"),
    ];
    for (s, speaker) in ["OAF", "YAF"].into_iter().enumerate() {
        for (e, (folder, token)) in emotions.iter().enumerate() {
            let folder = if speaker == "YAF" && *token == "ps" {
                "pleasant_surprised".to_owned()
            } else {
                (*folder).to_owned()
            };
            for (w, word) in words.iter().enumerate() {
                let name = format!("{speaker}_{folder}/{speaker}_{word}_{token}.wav");
                write_wav(&root.join(name), (s * 100 + e * 10 + w) as u32);
            }
        }
    }
    write_wav(&root.join("OAF_neutral/OA_bite_neutral.wav"), 3);
    write_wav(&root.join("OAF_angry/OAF_back.wav"), 4);
    fs::write(root.join("YAF_Sad/YAF_fake_sad.wav"), "not audio").expect("txt");
    root
}

/// A small, fast feature configuration at 16 kHz.
pub fn small_features() -> FeatureConfig {
    FeatureConfig {
        n_frames: 20,
        ..FeatureConfig::speech16k()
    }
}

/// An in-memory corpus (no files) with the given (speaker number, gender, clips) triples,
/// clips cycling through the emotions.
pub fn synthetic(speakers: &[(u8, Gender, usize)]) -> Corpus {
    let mut items = Vec::new();
    for &(s, gender, clips) in speakers {
        for c in 0..clips {
            let emotion = Emotion::ALL[c % Emotion::COUNT];
            items.push(Utterance {
                path: PathBuf::from(format!("/synthetic/{s:03}_{c:03}.wav")),
                corpus: CorpusKind::EmoDb,
                speaker: SpeakerId::new(CorpusKind::EmoDb, &format!("{s:03}")),
                gender,
                emotion,
                meta: UtteranceMeta::EmoDb(EmoDbId {
                    speaker: s,
                    text: "a01".into(),
                    label: EmoDbLabel::Neutral,
                    version: 'a',
                    gender,
                }),
            });
        }
    }
    items.sort_by(|a, b| a.path.cmp(&b.path));
    Corpus {
        kind: CorpusKind::EmoDb,
        root: PathBuf::from("/synthetic"),
        items,
        skipped: Vec::new(),
    }
}
