//! The PNG drawing backend: plotters' bitmap backend with better text.
//!
//! plotters' `ab_glyph` text renderer (0.3.7) ignores each glyph's left
//! side bearing and rounds the baseline per glyph, so letters are unevenly
//! spaced ("Shor t") and small glyphs such as `.` float. [`PngCanvas`]
//! delegates every primitive to [`BitMapBackend`] but lays text out itself
//! with `ab_glyph`: pen positions with kerning, sub-pixel glyph origins and
//! one shared baseline, inside the same layout box that plotters uses to
//! measure text (so margins computed by plotters stay valid).

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// An RGB bitmap backend whose text is drawn by [`PngCanvas::draw_text`].
pub(crate) struct PngCanvas<'a> {
    inner: BitMapBackend<'a, RGBPixel>,
    font: &'static FontRef<'static>,
}

impl<'a> PngCanvas<'a> {
    /// Wraps a bitmap backend; `font` renders all text.
    pub(crate) fn new(inner: BitMapBackend<'a, RGBPixel>, font: &'static FontRef<'static>) -> Self {
        Self { inner, font }
    }
}

/// Height of plotters' text layout box for a font of `size` (see
/// `plotters::style::font::ab_glyph::estimate_layout`).
fn layout_height(size: f32) -> f32 {
    size / 1.24
}

type BackendResult =
    Result<(), DrawingErrorKind<<BitMapBackend<'static, RGBPixel> as DrawingBackend>::ErrorType>>;

impl DrawingBackend for PngCanvas<'_> {
    type ErrorType = <BitMapBackend<'static, RGBPixel> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> BackendResult {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> BackendResult {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> BackendResult {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> BackendResult {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> BackendResult {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> BackendResult {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> BackendResult {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> BackendResult {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> BackendResult {
        self.inner.blit_bitmap(pos, (iw, ih), src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> BackendResult {
        let color = style.color();
        if color.alpha <= 0.0 || text.is_empty() {
            return Ok(());
        }
        let scale = PxScale::from(style.size() as f32);
        let scaled = self.font.as_scaled(scale);

        // Pen position of every glyph (the advance + kerning sum plotters measures).
        let mut glyphs = Vec::with_capacity(text.len());
        let mut pen = 0.0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            glyphs.push((id, pen));
            pen += scaled.h_advance(id);
            prev = Some(id);
        }
        let (width, height) = (pen, layout_height(scale.y));
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        // Centre the capital height in the layout box.
        let cap_height = self
            .font
            .outline_glyph(scaled.glyph_id('H').with_scale(scale))
            .map_or(scale.y * 0.63, |g| -g.px_bounds().min.y);
        let baseline = (height + cap_height) / 2.0;

        let transform = style.transform();
        let mut coverage = Vec::new();
        for (id, x) in glyphs {
            let glyph = id.with_scale_and_position(scale, point(x + dx, baseline + dy));
            let Some(outlined) = self.font.outline_glyph(glyph) else {
                continue; // Whitespace has no outline.
            };
            let bounds = outlined.px_bounds();
            coverage.clear();
            outlined.draw(|gx, gy, c| coverage.push((gx, gy, c)));
            for &(gx, gy, c) in &coverage {
                let (px, py) = (
                    bounds.min.x as i32 + gx as i32,
                    bounds.min.y as i32 + gy as i32,
                );
                let (tx, ty) = transform.transform(px, py);
                self.inner.draw_pixel(
                    (pos.0 + tx, pos.1 + ty),
                    BackendColor {
                        alpha: color.alpha * f64::from(c.clamp(0.0, 1.0)),
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    use super::*;
    use crate::style::{INK, text};

    const SIZE: u32 = 120;

    /// Draws `s` (20 px) at the canvas centre; returns the ink mask (`true` = dark).
    fn ink(s: &str, size: f64, pos: Pos, transform: FontTransform) -> Vec<bool> {
        assert!(crate::font::ensure_registered());
        let font = crate::font::glyph_font().unwrap();
        let mut rgb = vec![0u8; (SIZE * SIZE * 3) as usize];
        {
            let bitmap =
                BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (SIZE, SIZE)).unwrap();
            let root = PngCanvas::new(bitmap, font).into_drawing_area();
            root.fill(&WHITE).unwrap();
            let c = SIZE as i32 / 2;
            root.draw(&Text::new(
                s,
                (c, c),
                text(size, &INK).transform(transform).pos(pos),
            ))
            .unwrap();
            root.present().unwrap();
        }
        rgb.chunks_exact(3).map(|p| p[0] < 128).collect()
    }

    /// The inked bounding box `(x0, y0, x1, y1)` of `s` drawn at 20 px.
    fn ink_box(s: &str, pos: Pos, transform: FontTransform) -> (u32, u32, u32, u32) {
        let mask = ink(s, 20.0, pos, transform);
        let (mut x0, mut y0, mut x1, mut y1) = (SIZE, SIZE, 0, 0);
        for y in 0..SIZE {
            for x in 0..SIZE {
                if mask[(y * SIZE + x) as usize] {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                }
            }
        }
        (x0, y0, x1, y1)
    }

    #[test]
    fn centred_text_is_centred() {
        let centre = Pos::new(HPos::Center, VPos::Center);
        let (x0, y0, x1, y1) = ink_box("HHH", centre, FontTransform::None);
        let (cx, cy) = ((x0 + x1) as f64 / 2.0, (y0 + y1) as f64 / 2.0);
        assert!(
            (cx - 60.0).abs() <= 1.5 && (cy - 60.0).abs() <= 1.5,
            "{x0},{y0} {x1},{y1}"
        );
        assert!(x1 - x0 > 30 && y1 - y0 > 10);
    }

    #[test]
    fn anchors_and_rotation() {
        // Right-anchored text ends at the anchor.
        let (_, _, x1, _) = ink_box(
            "HH",
            Pos::new(HPos::Right, VPos::Center),
            FontTransform::None,
        );
        assert!((55..=60).contains(&x1), "right edge {x1}");
        // Rotated 270 degrees and right-anchored, it ends at the anchor and runs downwards.
        let (x0, y0, x1, y1) = ink_box(
            "HHHH",
            Pos::new(HPos::Right, VPos::Center),
            FontTransform::Rotate270,
        );
        assert!(y1 - y0 > x1 - x0, "vertical: {x0},{y0} {x1},{y1}");
        assert!((60..=64).contains(&y0), "ends at the anchor: {y0}");
    }

    #[test]
    fn letters_keep_their_side_bearings() {
        // plotters' own renderer drops side bearings and draws "rt" with a
        // visible 3-pixel gap ("Shor t"); DejaVu's r and t almost touch.
        let mask = ink(
            "rt",
            26.0,
            Pos::new(HPos::Center, VPos::Center),
            FontTransform::None,
        );
        let inked_column = |x: u32| (0..SIZE).any(|y| mask[(y * SIZE + x) as usize]);
        let columns: Vec<u32> = (0..SIZE).filter(|&x| inked_column(x)).collect();
        let (first, last) = (columns[0], columns[columns.len() - 1]);
        let blank_inside = (first..=last).filter(|&x| !inked_column(x)).count();
        assert!(
            blank_inside <= 1,
            "{blank_inside} blank columns between r and t"
        );
    }
}
