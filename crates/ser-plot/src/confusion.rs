//! Confusion matrix heat map.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::Result;
use crate::output::{Figure, OutputPaths, render};
use crate::style::{
    GREY, INK, LIGHT_GREY, blues, fit_text, font, needs_light_text, text, text_size,
};
use crate::validate::{non_empty, same_len};

/// Canvas size of [`plot_confusion_matrix`] in pixels (width, height).
pub const CONFUSION_MATRIX_SIZE_PX: (u32, u32) = (1000, 900);

/// Draws a confusion matrix heat map to `out.png` and `out.svg`.
///
/// `counts[t][p]` is the number of samples of true class `t` predicted as
/// `p` (e.g. `report.confusion_matrix.counts()` from `ser-metrics`). Each
/// cell shows its count and its share of the row (the true class); the
/// colour encodes that share, with a colour bar. Class names label both
/// axes: x labels turn vertical when they do not fit a cell, and names too
/// long for the margin are shortened with an ellipsis.
///
/// # Errors
/// [`PlotError::Empty`](crate::PlotError::Empty) for no classes,
/// [`PlotError::LengthMismatch`](crate::PlotError::LengthMismatch) if
/// `counts` is not `n x n` for `n` class names, and drawing or I/O errors.
pub fn plot_confusion_matrix<S: AsRef<str>>(
    counts: &[Vec<u64>],
    class_names: &[S],
    title: &str,
    out: &OutputPaths,
) -> Result<()> {
    let n = class_names.len();
    non_empty(&out.png, "class_names", n)?;
    same_len(&out.png, "confusion matrix rows", n, counts.len())?;
    for row in counts {
        same_len(&out.png, "confusion matrix row", n, row.len())?;
    }
    let figure = ConfusionFigure {
        counts: counts.to_vec(),
        names: class_names.iter().map(|s| s.as_ref().to_owned()).collect(),
        title: title.to_owned(),
    };
    render(&figure, out)
}

struct ConfusionFigure {
    counts: Vec<Vec<u64>>,
    names: Vec<String>,
    title: String,
}

const TITLE_PX: f64 = 26.0;
const SUBTITLE_PX: f64 = 16.0;
const AXIS_TITLE_PX: f64 = 20.0;
const LABEL_PX: f64 = 16.0;
const PAD_PX: i32 = 18;
const BAR_WIDTH_PX: i32 = 22;
const BAR_GAP_PX: i32 = 26;
const BAR_SLICE_PX: i32 = 4;

impl Figure for ConfusionFigure {
    fn size_px(&self) -> (u32, u32) {
        CONFUSION_MATRIX_SIZE_PX
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (w, h) = (
            CONFUSION_MATRIX_SIZE_PX.0 as i32,
            CONFUSION_MATRIX_SIZE_PX.1 as i32,
        );
        let n = self.names.len() as i32;
        let centered = Pos::new(HPos::Center, VPos::Center);

        root.draw(&Text::new(
            self.title.clone(),
            (w / 2, 32),
            text(TITLE_PX, &INK).pos(centered),
        ))?;

        // Measure the labels to size the margins; never let them clip.
        let label_font = font(LABEL_PX);
        let labels: Vec<String> = self
            .names
            .iter()
            .map(|s| fit_text(&label_font, s, (w as f64 * 0.22) as u32))
            .collect();
        let label_w = labels
            .iter()
            .map(|l| text_size(&label_font, l).0)
            .max()
            .unwrap_or(0) as i32;
        let label_h = text_size(&label_font, "Ag").1 as i32;
        let axis_h = text_size(&font(AXIS_TITLE_PX), "Ag").1 as i32;
        let tick_w = text_size(&label_font, "100%").0 as i32;

        let top = 92;
        let left = PAD_PX + axis_h + 14 + label_w + 10;
        let right = BAR_GAP_PX + BAR_WIDTH_PX + 8 + tick_w + PAD_PX;
        let bottom_for = |label_extent: i32| 10 + label_extent + 14 + axis_h + PAD_PX;
        let avail_w = w - left - right;
        let cell_flat = avail_w.min(h - top - bottom_for(label_h)) / n;
        let rotate = label_w > cell_flat - 8;
        let bottom = bottom_for(if rotate { label_w } else { label_h });
        let cell = (avail_w.min(h - top - bottom) / n).max(1);
        let grid = cell * n;
        let gx = (w - (left + grid + right)) / 2 + left;
        let gy = top + (h - top - bottom - grid) / 2;

        // Cells.
        let show_pct = cell >= 56;
        let count_px = (f64::from(cell) * if show_pct { 0.24 } else { 0.34 })
            .round()
            .clamp(8.0, 22.0);
        let pct_px = (f64::from(cell) * 0.16).round().clamp(8.0, 16.0);
        let subtitle = if show_pct {
            "cells: count and share of the true class (row %)"
        } else {
            "cells: count; colour: share of the true class (row %)"
        };
        root.draw(&Text::new(
            subtitle,
            (w / 2, 64),
            text(SUBTITLE_PX, &GREY).pos(centered),
        ))?;
        for (t, row) in self.counts.iter().enumerate() {
            let row_sum: u64 = row.iter().sum();
            for (p, &count) in row.iter().enumerate() {
                let share = if row_sum == 0 {
                    0.0
                } else {
                    count as f64 / row_sum as f64
                };
                let bg = blues(share);
                let (x, y) = (gx + p as i32 * cell, gy + t as i32 * cell);
                root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], bg.filled()))?;
                let fg = if needs_light_text(bg) { WHITE } else { INK };
                let (cx, cy) = (x + cell / 2, y + cell / 2);
                if show_pct {
                    root.draw(&Text::new(
                        count.to_string(),
                        (cx, cy - (count_px * 0.5) as i32),
                        text(count_px, &fg).pos(centered),
                    ))?;
                    let pct = if row_sum == 0 {
                        "–".to_owned()
                    } else {
                        format!("{:.1}%", share * 100.0)
                    };
                    root.draw(&Text::new(
                        pct,
                        (cx, cy + (pct_px * 0.95) as i32),
                        text(pct_px, &fg).pos(centered),
                    ))?;
                } else {
                    root.draw(&Text::new(
                        count.to_string(),
                        (cx, cy),
                        text(count_px, &fg).pos(centered),
                    ))?;
                }
            }
        }
        // Thin white separators and a light frame.
        for i in 1..n {
            let o = i * cell;
            root.draw(&PathElement::new(
                vec![(gx + o, gy), (gx + o, gy + grid)],
                WHITE.stroke_width(1),
            ))?;
            root.draw(&PathElement::new(
                vec![(gx, gy + o), (gx + grid, gy + o)],
                WHITE.stroke_width(1),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(gx, gy), (gx + grid, gy + grid)],
            LIGHT_GREY.stroke_width(1),
        ))?;

        // Axis labels: y on the left (right-aligned), x below (horizontal or vertical).
        let label_style = text(LABEL_PX, &INK);
        for (i, label) in labels.iter().enumerate() {
            let c = i as i32 * cell + cell / 2;
            root.draw(&Text::new(
                label.clone(),
                (gx - 10, gy + c),
                label_style.pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            let x_style = if rotate {
                label_style
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Right, VPos::Center))
            } else {
                label_style.pos(Pos::new(HPos::Center, VPos::Top))
            };
            root.draw(&Text::new(label.clone(), (gx + c, gy + grid + 10), x_style))?;
        }
        let axis_style = text(AXIS_TITLE_PX, &INK);
        let x_label_extent = if rotate { label_w } else { label_h };
        root.draw(&Text::new(
            "Predicted label",
            (
                gx + grid / 2,
                gy + grid + 10 + x_label_extent + 14 + axis_h / 2,
            ),
            axis_style.pos(centered),
        ))?;
        root.draw(&Text::new(
            "True label",
            (gx - 10 - label_w - 14 - axis_h / 2, gy + grid / 2),
            axis_style.transform(FontTransform::Rotate270).pos(centered),
        ))?;

        // Colour bar (0% at the bottom, 100% at the top).
        let bx = gx + grid + BAR_GAP_PX;
        // Slices of BAR_SLICE_PX keep the SVG small; the gradient stays smooth.
        let mut top = 0;
        while top < grid {
            let bottom = (top + BAR_SLICE_PX).min(grid);
            let share = 1.0 - f64::from(top + bottom) / 2.0 / f64::from(grid);
            root.draw(&Rectangle::new(
                [(bx, gy + top), (bx + BAR_WIDTH_PX, gy + bottom)],
                blues(share).filled(),
            ))?;
            top = bottom;
        }
        root.draw(&Rectangle::new(
            [(bx, gy), (bx + BAR_WIDTH_PX, gy + grid)],
            GREY.stroke_width(1),
        ))?;
        for tick in 0..=4 {
            let y = gy + grid - grid * tick / 4;
            root.draw(&PathElement::new(
                vec![(bx + BAR_WIDTH_PX, y), (bx + BAR_WIDTH_PX + 5, y)],
                GREY.stroke_width(1),
            ))?;
            root.draw(&Text::new(
                format!("{}%", tick * 25),
                (bx + BAR_WIDTH_PX + 8, y),
                text(LABEL_PX - 2.0, &INK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}
