//! Colours, fonts and text measurement shared by the plots.

use plotters::style::text_anchor::Pos;
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, TextStyle};

use crate::font::FAMILY;

/// Near-black used for text and axes (softer than pure black).
pub(crate) const INK: RGBColor = RGBColor(33, 33, 33);
/// Grey for secondary text and reference lines.
pub(crate) const GREY: RGBColor = RGBColor(110, 110, 110);
/// Light grey for grid lines and frames.
pub(crate) const LIGHT_GREY: RGBColor = RGBColor(225, 225, 225);

/// Matplotlib's "tab10" qualitative palette (colour-blind friendlier than pure hues).
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of series `i` (cycles through tab10).
pub(crate) fn series_color(i: usize) -> RGBColor {
    TAB10[i % TAB10.len()]
}

/// ColorBrewer "Blues" (9 classes), light to dark, as used by matplotlib.
const BLUES: [RGBColor; 9] = [
    RGBColor(247, 251, 255),
    RGBColor(222, 235, 247),
    RGBColor(198, 219, 239),
    RGBColor(158, 202, 225),
    RGBColor(107, 174, 214),
    RGBColor(66, 146, 198),
    RGBColor(33, 113, 181),
    RGBColor(8, 81, 156),
    RGBColor(8, 48, 107),
];

/// The "Blues" colour map at `t` in `[0, 1]` (clamped; NaN maps to 0).
pub(crate) fn blues(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (BLUES.len() - 1) as f64;
    let i = (pos.floor() as usize).min(BLUES.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (BLUES[i], BLUES[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether white text reads better than dark text on `bg` (WCAG relative luminance).
pub(crate) fn needs_light_text(bg: RGBColor) -> bool {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(bg.0) + 0.7152 * lin(bg.1) + 0.0722 * lin(bg.2);
    // Contrast with white vs. with INK (luminance ~0.016): pick the larger.
    (1.05) / (l + 0.05) > (l + 0.05) / (0.016 + 0.05)
}

/// The plot font at `size_px`.
pub(crate) fn font(size_px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size_px, FontStyle::Normal)
}

/// Text in the plot font at `size_px`, coloured `color`.
pub(crate) fn text(size_px: f64, color: &RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: font(size_px),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// Rendered `(width, height)` of `s` in `font`, in pixels (estimated from
/// the character count should the font be unavailable).
pub(crate) fn text_size(font: &FontDesc<'_>, s: &str) -> (u32, u32) {
    font.box_size(s).unwrap_or_else(|_| {
        let size = font.get_size();
        ((s.chars().count() as f64 * size * 0.6) as u32, size as u32)
    })
}

/// `s` shortened with an ellipsis so that it fits in `max_width_px`.
pub(crate) fn fit_text(font: &FontDesc<'_>, s: &str, max_width_px: u32) -> String {
    if text_size(font, s).0 <= max_width_px {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    for keep in (1..chars.len()).rev() {
        let candidate: String = chars[..keep].iter().chain(['…'].iter()).collect();
        if text_size(font, &candidate).0 <= max_width_px {
            return candidate;
        }
    }
    "…".to_owned()
}

/// Formats a fraction as a percentage with one decimal (`0.6234` -> `62.3%`).
pub(crate) fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_map_ends_and_contrast() {
        assert_eq!(blues(0.0), BLUES[0]);
        assert_eq!(blues(1.0), BLUES[8]);
        assert_eq!(blues(f64::NAN), BLUES[0]);
        assert_eq!(blues(2.0), BLUES[8]);
        assert!(!needs_light_text(blues(0.0)));
        assert!(needs_light_text(blues(1.0)));
        assert_eq!(series_color(10), series_color(0));
    }

    #[test]
    fn text_fitting() {
        assert!(crate::font::ensure_registered());
        let f = font(16.0);
        let (w, h) = text_size(&f, "surprised");
        assert!(w > 40 && w < 120 && h > 8, "{w}x{h}");
        assert_eq!(fit_text(&f, "calm", 200), "calm");
        let short = fit_text(&f, "a very long class name indeed", 80);
        assert!(
            short.ends_with('…') && text_size(&f, &short).0 <= 80,
            "{short}"
        );
        assert_eq!(percent(0.6234), "62.3%");
    }
}
