//! Recognises the container from its first bytes (never from the file name).

use std::path::Path;

use crate::compressed::Compressed;
use crate::error::AudioError;

/// What the bytes are, and where the part to decode starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// RIFF/WAVE, read by our own parser.
    Wav,
    /// A format read through symphonia (AIFF/AIFC or a compressed one), starting at the
    /// given byte offset (past an ID3v2 tag, if there was one).
    Compressed(Compressed, usize),
}

/// Size of an ID3v2 header (and of its optional footer).
const ID3V2_HEADER_BYTES: usize = 10;

/// Renders the first few bytes for an error message: hex, then the printable text.
fn magic_text(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    let text: String = head
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    format!("bytes {} ({text:?})", hex.join(" "))
}

/// Whether `b` starts with an MPEG audio frame header of layer I, II or III.
fn is_mpeg_audio_sync(b: &[u8]) -> bool {
    b.len() >= 2
        && b[0] == 0xFF
        && b[1] & 0xE0 == 0xE0
        && (b[1] >> 3) & 0b11 != 0b01 // reserved MPEG version
        && (b[1] >> 1) & 0b11 != 0b00 // layer 0 is reserved (ADTS AAC uses it)
}

/// Whether `b` starts with an ADTS (raw AAC) header.
fn is_adts(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0xFF && b[1] & 0xF6 == 0xF0
}

/// Identifies the container of `bytes`, or explains why it cannot be read.
pub(crate) fn sniff(bytes: &[u8], path: &Path) -> Result<Container, AudioError> {
    sniff_at(bytes, 0, path)
}

fn sniff_at(all: &[u8], offset: usize, path: &Path) -> Result<Container, AudioError> {
    let bytes = &all[offset..];
    let unsupported = |container| AudioError::UnsupportedContainer {
        path: path.to_path_buf(),
        container,
    };
    if all.is_empty() {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let at8 = |magic: &[u8]| bytes.get(8..12) == Some(magic);
    if starts(b"RIFF") && (bytes.len() < 12 || at8(b"WAVE")) {
        // Too short to say more: the WAV reader reports the truncated header.
        return Ok(Container::Wav);
    }
    if starts(b"RIFF") {
        return Err(unsupported("a RIFF file that is not WAVE (e.g. AVI)"));
    }
    if starts(b"RIFX") || starts(b"RIFY") {
        return Err(unsupported("big-endian WAV (RIFX)"));
    }
    if starts(b"RF64") || starts(b"BW64") {
        return Err(unsupported("RF64/BW64 (64-bit WAV)"));
    }
    if starts(b"FORM") && (at8(b"AIFF") || at8(b"AIFC")) {
        return Ok(Container::Compressed(Compressed::Aiff, offset));
    }
    if starts(b"fLaC") {
        return Ok(Container::Compressed(Compressed::Flac, offset));
    }
    if starts(b"OggS") {
        return Ok(Container::Compressed(Compressed::Ogg, offset));
    }
    if starts(b"ID3") && offset == 0 {
        // ID3v2: 10-byte header, synchsafe size, optional 10-byte footer.
        if bytes.len() < ID3V2_HEADER_BYTES {
            return Err(AudioError::Truncated {
                path: path.to_path_buf(),
                chunk: "ID3v2 tag header".to_owned(),
                offset: 0,
                claimed_bytes: ID3V2_HEADER_BYTES as u64,
                available_bytes: bytes.len() as u64,
            });
        }
        let size = bytes[6..10]
            .iter()
            .fold(0_usize, |acc, &b| (acc << 7) | usize::from(b & 0x7F));
        let footer = if bytes[5] & 0x10 != 0 {
            ID3V2_HEADER_BYTES
        } else {
            0
        };
        let tag_bytes = ID3V2_HEADER_BYTES + size + footer;
        if tag_bytes == bytes.len() {
            return Err(AudioError::ZeroSamples {
                path: path.to_path_buf(),
            });
        }
        if tag_bytes > bytes.len() {
            return Err(AudioError::Truncated {
                path: path.to_path_buf(),
                chunk: "ID3v2 tag".to_owned(),
                offset: 0,
                claimed_bytes: tag_bytes as u64,
                available_bytes: bytes.len() as u64,
            });
        }
        return match sniff_at(all, tag_bytes, path) {
            // Whatever follows the tag that is not another container is taken as MPEG audio
            // (padding between the tag and the first frame is allowed by the format).
            Err(AudioError::UnrecognisedFormat { .. }) => {
                Ok(Container::Compressed(Compressed::Mp3, tag_bytes))
            }
            other => other,
        };
    }
    if is_mpeg_audio_sync(bytes) {
        return Ok(Container::Compressed(Compressed::Mp3, offset));
    }
    if is_adts(bytes) {
        return Err(unsupported("AAC (ADTS)"));
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        return Err(unsupported("MP4/M4A"));
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Err(unsupported("Matroska/WebM"));
    }
    if starts(b"caff") {
        return Err(unsupported("Core Audio Format (CAF)"));
    }
    if starts(b".snd") {
        return Err(unsupported("Sun/NeXT AU"));
    }
    Err(AudioError::UnrecognisedFormat {
        path: path.to_path_buf(),
        magic: magic_text(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(bytes: &[u8]) -> Result<Container, AudioError> {
        sniff(bytes, Path::new("t"))
    }

    #[test]
    fn recognises_magic_bytes() {
        assert_eq!(kind(b"RIFF\0\0\0\0WAVEfmt ").ok(), Some(Container::Wav));
        assert_eq!(
            kind(b"fLaC\0\0\0\x22").ok(),
            Some(Container::Compressed(Compressed::Flac, 0))
        );
        assert_eq!(
            kind(b"OggS\0\x02").ok(),
            Some(Container::Compressed(Compressed::Ogg, 0))
        );
        assert_eq!(
            kind(&[0xFF, 0xFB, 0x90, 0x64]).ok(),
            Some(Container::Compressed(Compressed::Mp3, 0))
        );
        assert_eq!(
            kind(b"FORM\0\0\0\x10AIFFCOMM").ok(),
            Some(Container::Compressed(Compressed::Aiff, 0))
        );
        assert_eq!(
            kind(b"FORM\0\0\0\x10AIFCFVER").ok(),
            Some(Container::Compressed(Compressed::Aiff, 0))
        );
    }

    #[test]
    fn skips_id3v2_tag() {
        let mut b = b"ID3\x04\x00\x00\x00\x00\x01\x00".to_vec(); // size 128
        b.extend(std::iter::repeat_n(0_u8, 128));
        b.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        assert_eq!(
            kind(&b).ok(),
            Some(Container::Compressed(Compressed::Mp3, 138))
        );
        b.truncate(100);
        assert!(matches!(kind(&b), Err(AudioError::Truncated { .. })));
    }

    #[test]
    fn names_unsupported_containers() {
        assert!(matches!(
            kind(&[0xFF, 0xF1, 0x50, 0x80]),
            Err(AudioError::UnsupportedContainer {
                container: "AAC (ADTS)",
                ..
            })
        ));
        assert!(matches!(
            kind(b"\0\0\0\x20ftypM4A "),
            Err(AudioError::UnsupportedContainer { .. })
        ));
    }

    #[test]
    fn text_is_unrecognised_and_shown() {
        let err = kind(b"hello world\n").expect_err("text");
        assert!(err.to_string().contains("\"hello wo\""), "{err}");
        assert!(matches!(kind(b""), Err(AudioError::Empty { .. })));
    }
}
