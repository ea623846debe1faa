//! Output paths, atomic writes and rendering to PNG and SVG.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{PlotError, Result};
use crate::font;
use crate::raster::PngCanvas;

/// Where a plot is written: one PNG and one SVG file.
///
/// The folders must exist (they are not created); existing files are
/// replaced atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPaths {
    /// The raster image.
    pub png: PathBuf,
    /// The vector image.
    pub svg: PathBuf,
}

impl OutputPaths {
    /// Explicit paths for both files.
    pub fn new(png: impl Into<PathBuf>, svg: impl Into<PathBuf>) -> Self {
        Self {
            png: png.into(),
            svg: svg.into(),
        }
    }

    /// `stem.png` and `stem.svg` (e.g. `results/cnn/confusion` gives
    /// `results/cnn/confusion.png` and `results/cnn/confusion.svg`).
    ///
    /// Only the extension is added: a stem with a dot such as `fold.1` gives `fold.1.png`.
    pub fn from_stem(stem: impl AsRef<Path>) -> Self {
        let stem = stem.as_ref().as_os_str();
        let with = |ext: &str| {
            let mut s = stem.to_os_string();
            s.push(".");
            s.push(ext);
            PathBuf::from(s)
        };
        Self {
            png: with("png"),
            svg: with("svg"),
        }
    }
}

/// A figure that can be drawn on any plotters backend.
pub(crate) trait Figure {
    /// Canvas size in pixels (PNG pixels; SVG user units).
    fn size_px(&self) -> (u32, u32);

    /// Draws the figure on a white canvas of [`Figure::size_px`].
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Draws `figure` into `out.png` and `out.svg`, each written atomically.
pub(crate) fn render<F: Figure>(figure: &F, out: &OutputPaths) -> Result<()> {
    let glyph_font = match (font::ensure_registered(), font::glyph_font()) {
        (true, Some(f)) => f,
        _ => {
            return Err(PlotError::Font {
                path: out.png.clone(),
            });
        }
    };
    let (width, height) = figure.size_px();
    let draw_error = |path: &Path, e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    };

    // PNG: draw into an RGB buffer, then encode it ourselves (no image crate).
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let bitmap = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (width, height))
            .map_err(|e| draw_error(&out.png, &e))?;
        let root = PngCanvas::new(bitmap, glyph_font).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_error(&out.png, &e))?;
        figure.draw(&root).map_err(|e| draw_error(&out.png, &e))?;
        root.present().map_err(|e| draw_error(&out.png, &e))?;
    }
    write_atomic(&out.png, |w| encode_png(w, &rgb, width, height, &out.png))?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_error(&out.svg, &e))?;
        figure.draw(&root).map_err(|e| draw_error(&out.svg, &e))?;
        root.present().map_err(|e| draw_error(&out.svg, &e))?;
    }
    write_atomic(&out.svg, |w| {
        w.write_all(svg.as_bytes()).map_err(|source| PlotError::Io {
            path: out.svg.clone(),
            source,
        })
    })
}

/// Encodes an 8-bit RGB buffer as PNG.
fn encode_png(w: &mut dyn Write, rgb: &[u8], width: u32, height: u32, path: &Path) -> Result<()> {
    let encode_error = |source| PlotError::Encode {
        path: path.to_path_buf(),
        source,
    };
    let mut encoder = png::Encoder::new(w, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(rgb).map_err(encode_error)?;
    writer.finish().map_err(encode_error)
}

/// Writes `path` atomically ([`ser_stdx::fs::AtomicFile`]): `write` fills a temporary file
/// in the same folder, which is synced and then renamed over `path`. On failure the
/// temporary file is removed and `path` is untouched.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let io_error = |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = ser_stdx::fs::AtomicFile::new(path).map_err(io_error)?;
    let mut buffered = BufWriter::new(&mut file);
    write(&mut buffered)?;
    buffered
        .into_inner()
        .map_err(|e| io_error(e.into_error()))?;
    file.commit().map_err(io_error)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn stem_adds_extensions() {
        let p = OutputPaths::from_stem("out/fold.1");
        assert_eq!(p.png, PathBuf::from("out/fold.1.png"));
        assert_eq!(p.svg, PathBuf::from("out/fold.1.svg"));
        assert_eq!(
            OutputPaths::new("a.png", "b.svg").svg,
            PathBuf::from("b.svg")
        );
    }

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("ser-plot-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("x.txt");
        write_atomic(&target, |w| {
            w.write_all(b"one").map_err(|source| PlotError::Io {
                path: PathBuf::new(),
                source,
            })
        })
        .unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"one");
        let failed = write_atomic(&target, |w| {
            w.write_all(b"partial").unwrap();
            Err(PlotError::Empty {
                path: PathBuf::new(),
                what: "test",
            })
        });
        assert!(failed.is_err());
        assert_eq!(
            fs::read(&target).unwrap(),
            b"one",
            "target untouched on failure"
        );
        let leftovers = fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "temporary file removed");
        let missing = write_atomic(&dir.join("no/such/dir/x.txt"), |_| Ok(()));
        assert!(
            matches!(missing, Err(PlotError::Io { path, .. }) if path.ends_with("no/such/dir/x.txt"))
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
