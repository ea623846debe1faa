//! Arbitrary bytes never make the decoders panic.

mod common;

use common::*;
use proptest::prelude::*;
use ser_audio::decode;

/// Valid-looking prefixes, so that random tails reach deep into each parser.
fn prefixes() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"RIFF\xff\xff\xff\xffWAVE".to_vec(),
        riff(&[chunk(b"fmt ", &fmt_body(PCM, 2, 16_000, 16))]),
        riff(&[chunk(b"fmt ", &fmt_extensible(1, 48_000, 24, 20, PCM))]),
        b"fLaC".to_vec(),
        std::fs::read(fixture("tone_440hz_16k_mono.flac")).expect("fixture")[..42].to_vec(),
        b"OggS\0\x02".to_vec(),
        std::fs::read(fixture("tone_440hz_16k_mono.ogg")).expect("fixture")[..200].to_vec(),
        vec![0xFF, 0xFB, 0x90, 0x64],
        vec![0xFF, 0xF3, 0x88, 0xC4],
        b"ID3\x03\0\0\0\0\0\x02\0\0".to_vec(),
        b"FORM\0\0\0\0AIFF".to_vec(),
        // AIFF, 1 channel, 16 frames of 16 bits at 16 kHz, then the SSND header.
        b"FORM\0\0\0\x2eAIFFCOMM\0\0\0\x12\0\x01\0\0\0\x10\0\x10\x40\x0c\xfa\0\0\0\0\0\0\0SSND\0\0\0\x28\0\0\0\0\0\0\0\0"
            .to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_never_panics(prefix in prop::sample::select(prefixes()), tail in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = prefix;
        bytes.extend(tail);
        match decode(&bytes, "fuzz.bin") {
            Ok(audio) => {
                prop_assert!(!audio.samples.is_empty());
                prop_assert!(audio.samples.iter().all(|s| s.is_finite()));
                prop_assert!(audio.channels > 0);
            }
            Err(err) => prop_assert!(err.to_string().contains("fuzz.bin"), "{}", err),
        }
    }

    #[test]
    fn corrupting_a_real_file_never_panics(
        which in 0_usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let name = ["tone_440hz_16k_mono.flac", "tone_440hz_8k_stereo24.flac", "tone_440hz_16k_mono.ogg", "tone_440hz_16k_mono.mp3"][which];
        let mut bytes = std::fs::read(fixture(name)).expect("fixture");
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        if let Err(err) = decode(&bytes, "fuzz.bin") {
            prop_assert!(err.to_string().contains("fuzz.bin"), "{}", err);
        }
    }
}
