//! The embedded font.
//!
//! Plots must render on machines without any system font, so DejaVu Sans
//! (Bitstream Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`) is
//! compiled into the crate and registered with plotters' `ab_glyph` font
//! backend under the family name `sans-serif`. SVG files reference the
//! same generic family, which every SVG viewer can resolve.

use std::sync::OnceLock;

use ab_glyph::FontRef;
use plotters::style::{FontStyle, register_font};

/// Font family used by every plot.
pub(crate) const FAMILY: &str = "sans-serif";

/// DejaVu Sans 2.37.
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font once; returns whether it is available.
pub(crate) fn ensure_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // Other styles (bold, italic) fall back to this normal face.
        register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
    })
}

/// The embedded font for direct glyph rendering (see `raster.rs`).
pub(crate) fn glyph_font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok())
        .as_ref()
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_font_registers() {
        assert!(super::ensure_registered());
        assert!(super::glyph_font().is_some());
        assert!(
            super::DEJAVU_SANS.starts_with(&[0, 1, 0, 0]),
            "TrueType signature"
        );
    }
}
