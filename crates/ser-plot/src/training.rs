//! Training curves: loss and accuracy/UAR per epoch.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::Result;
use crate::output::{Figure, OutputPaths, render};
use crate::style::{GREY, INK, LIGHT_GREY, percent, series_color, text};
use crate::validate::{finite, in_range};

/// Canvas size of [`plot_training_curves`] in pixels (width, height).
pub const TRAINING_CURVES_SIZE_PX: (u32, u32) = (1500, 640);

/// Per-epoch metrics of one training run; element `i` belongs to epoch `i + 1`.
///
/// Any series may be empty (it is then not drawn); series may have
/// different lengths (e.g. validation every epoch, training UAR not
/// tracked). Accuracies and UARs are fractions in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingHistory {
    /// Training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Validation loss per epoch.
    pub val_loss: Vec<f64>,
    /// Training accuracy per epoch.
    pub train_accuracy: Vec<f64>,
    /// Validation accuracy per epoch.
    pub val_accuracy: Vec<f64>,
    /// Training unweighted average recall per epoch.
    pub train_uar: Vec<f64>,
    /// Validation unweighted average recall per epoch.
    pub val_uar: Vec<f64>,
}

impl TrainingHistory {
    /// Number of epochs (the longest series).
    pub fn n_epochs(&self) -> usize {
        self.series()
            .iter()
            .map(|(_, v)| v.len())
            .max()
            .unwrap_or(0)
    }

    fn series(&self) -> [(&'static str, &[f64]); 6] {
        [
            ("train_loss", &self.train_loss),
            ("val_loss", &self.val_loss),
            ("train_accuracy", &self.train_accuracy),
            ("val_accuracy", &self.val_accuracy),
            ("train_uar", &self.train_uar),
            ("val_uar", &self.val_uar),
        ]
    }
}

/// Draws two panels to `out.png` and `out.svg`: loss per epoch (train and
/// validation) on the left, accuracy and UAR per epoch (train dashed,
/// validation solid) on the right, with the epoch of the best validation
/// UAR (or accuracy, if UAR is not tracked) marked.
///
/// # Errors
/// [`PlotError::Empty`](crate::PlotError::Empty) if every series is empty,
/// [`PlotError::NonFinite`](crate::PlotError::NonFinite) for NaN or
/// infinite values, [`PlotError::OutOfRange`](crate::PlotError::OutOfRange)
/// for accuracies or UARs outside `[0, 1]`, and drawing or I/O errors.
pub fn plot_training_curves(
    history: &TrainingHistory,
    title: &str,
    out: &OutputPaths,
) -> Result<()> {
    crate::validate::non_empty(&out.png, "training history", history.n_epochs())?;
    finite(&out.png, "train_loss", &history.train_loss)?;
    finite(&out.png, "val_loss", &history.val_loss)?;
    for (what, values) in &history.series()[2..] {
        in_range(&out.png, what, values, 0.0, 1.0)?;
    }
    render(
        &TrainingFigure {
            history,
            title: title.to_owned(),
        },
        out,
    )
}

struct TrainingFigure<'h> {
    history: &'h TrainingHistory,
    title: String,
}

/// How a series is drawn.
#[derive(Clone, Copy)]
struct Line<'a> {
    label: &'a str,
    values: &'a [f64],
    color: RGBColor,
    dashed: bool,
}

/// One panel of the figure.
struct Panel<'a> {
    heading: &'a str,
    n_epochs: usize,
    y_range: std::ops::Range<f64>,
    y_desc: &'a str,
    y_fmt: &'a dyn Fn(&f64) -> String,
    lines: &'a [Line<'a>],
    /// Marked epoch: `(epoch, value, legend label)`.
    best: Option<(usize, f64, String)>,
    legend_at: SeriesLabelPosition,
}

/// Draws a panel's lines with its y range, formatter and best-epoch marker.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: Panel<'_>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let Panel {
        heading,
        n_epochs,
        y_range,
        y_desc,
        y_fmt,
        lines,
        best,
        legend_at,
    } = p;
    let (w, _) = area.dim_in_pixel();
    area.draw(&Text::new(
        heading.to_owned(),
        (w as i32 / 2, 14),
        text(20.0, &INK).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    let x_max = n_epochs.max(2) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_top(36)
        .margin_left(14)
        .margin_right(28)
        .margin_bottom(10)
        .x_label_area_size(58)
        .y_label_area_size(80)
        .build_cartesian_2d(1.0f64..x_max, y_range)?;
    let x_fmt = |v: &f64| format!("{}", v.round() as i64);
    chart
        .configure_mesh()
        .x_desc("Epoch")
        .y_desc(y_desc)
        .axis_desc_style(text(18.0, &INK))
        .label_style(text(16.0, &INK))
        .x_labels(n_epochs.clamp(2, 11))
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(y_fmt)
        .bold_line_style(LIGHT_GREY.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(GREY.stroke_width(1))
        .draw()?;

    let markers = n_epochs <= 30;
    for line in lines.iter().filter(|l| !l.values.is_empty()) {
        let points: Vec<(f64, f64)> = line
            .values
            .iter()
            .enumerate()
            .map(|(i, &v)| ((i + 1) as f64, v))
            .collect();
        let color = line.color;
        let anno = if line.dashed {
            chart.draw_series(DashedLineSeries::new(
                points.clone(),
                8,
                5,
                color.stroke_width(2),
            ))?
        } else {
            chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
        };
        let dashed = line.dashed;
        anno.label(line.label).legend(move |(x, y)| {
            if dashed {
                DashedPathElement::new([(x, y), (x + 28, y)], 7, 4, color.stroke_width(2))
                    .into_dyn()
            } else {
                PathElement::new([(x, y), (x + 28, y)], color.stroke_width(2)).into_dyn()
            }
        });
        if markers {
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    if let Some((epoch, value, label)) = best {
        let x = epoch as f64;
        let (y0, y1) = (chart.y_range().start, chart.y_range().end);
        chart
            .draw_series(DashedLineSeries::new(
                [(x, y0), (x, y1)],
                4,
                4,
                GREY.stroke_width(1),
            ))?
            .label(label)
            .legend(|(x, y)| Circle::new((x + 14, y), 5, INK.stroke_width(2)));
        chart.draw_series([Circle::new((x, value), 6, INK.stroke_width(2))])?;
    }
    chart
        .configure_series_labels()
        .position(legend_at)
        .margin(12)
        .legend_area_size(36)
        .label_font(text(16.0, &INK))
        .background_style(WHITE.mix(0.92))
        .border_style(LIGHT_GREY.stroke_width(1))
        .draw()?;
    Ok(())
}

/// `[min, max]` of the values, padded by 5% of the span (never below 0 for non-negative data).
fn padded_range(values: &[&[f64]]) -> std::ops::Range<f64> {
    let all = values.iter().flat_map(|v| v.iter().copied());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
    let lo_padded = lo - 0.05 * span;
    let lo_padded = if lo >= 0.0 {
        lo_padded.max(0.0)
    } else {
        lo_padded
    };
    lo_padded..hi + 0.05 * span
}

impl Figure for TrainingFigure<'_> {
    fn size_px(&self) -> (u32, u32) {
        TRAINING_CURVES_SIZE_PX
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let h = self.history;
        let (w, _) = TRAINING_CURVES_SIZE_PX;
        root.draw(&Text::new(
            self.title.clone(),
            (w as i32 / 2, 30),
            text(26.0, &INK).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        let body = root.margin(62, 8, 8, 8);
        let (left, right) = body.split_horizontally(body.dim_in_pixel().0 / 2);
        let n_epochs = h.n_epochs();

        let loss_lines = [
            Line {
                label: "train",
                values: &h.train_loss,
                color: series_color(0),
                dashed: false,
            },
            Line {
                label: "validation",
                values: &h.val_loss,
                color: series_color(1),
                dashed: false,
            },
        ];
        let best_loss = h
            .val_loss
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, &v)| {
                (
                    i + 1,
                    v,
                    format!("lowest val loss {v:.3} (epoch {})", i + 1),
                )
            });
        let loss_fmt = |v: &f64| format!("{v:.2}");
        draw_panel(
            &left,
            Panel {
                heading: "Loss",
                n_epochs,
                y_range: padded_range(&[&h.train_loss, &h.val_loss]),
                y_desc: "Loss",
                y_fmt: &loss_fmt,
                lines: &loss_lines,
                best: best_loss,
                legend_at: SeriesLabelPosition::UpperRight,
            },
        )?;

        let (acc, uar) = (series_color(0), series_color(2));
        let metric_lines = [
            Line {
                label: "train accuracy",
                values: &h.train_accuracy,
                color: acc,
                dashed: true,
            },
            Line {
                label: "val accuracy",
                values: &h.val_accuracy,
                color: acc,
                dashed: false,
            },
            Line {
                label: "train UAR",
                values: &h.train_uar,
                color: uar,
                dashed: true,
            },
            Line {
                label: "val UAR",
                values: &h.val_uar,
                color: uar,
                dashed: false,
            },
        ];
        let (best_series, best_name) = if h.val_uar.is_empty() {
            (&h.val_accuracy, "accuracy")
        } else {
            (&h.val_uar, "UAR")
        };
        let best = best_series
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(i, &v)| {
                (
                    i + 1,
                    v,
                    format!("best val {best_name} {} (epoch {})", percent(v), i + 1),
                )
            });
        let pct_fmt = |v: &f64| format!("{:.0}%", v * 100.0);
        draw_panel(
            &right,
            Panel {
                heading: "Accuracy and UAR",
                n_epochs,
                y_range: 0.0..1.0,
                y_desc: "Score",
                y_fmt: &pct_fmt,
                lines: &metric_lines,
                best,
                legend_at: SeriesLabelPosition::LowerRight,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_padding() {
        let r = padded_range(&[&[1.0, 2.0], &[3.0]]);
        assert!((r.start - 0.9).abs() < 1e-12 && (r.end - 3.1).abs() < 1e-12);
        let r = padded_range(&[&[0.01, 1.0]]);
        assert_eq!(r.start, 0.0);
        let r = padded_range(&[&[]]);
        assert_eq!(r, 0.0..1.0);
        let r = padded_range(&[&[2.0]]);
        assert!(r.start < 2.0 && r.end > 2.0);
    }

    #[test]
    fn epochs_are_the_longest_series() {
        let h = TrainingHistory {
            train_loss: vec![1.0; 5],
            val_uar: vec![0.5; 7],
            ..TrainingHistory::default()
        };
        assert_eq!(h.n_epochs(), 7);
        assert_eq!(TrainingHistory::default().n_epochs(), 0);
    }
}
