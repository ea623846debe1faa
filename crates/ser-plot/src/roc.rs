//! ROC curves (one-vs-rest) with their AUCs.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use ser_metrics::RocSummary;

use crate::error::Result;
use crate::output::{Figure, OutputPaths, render};
use crate::style::{GREY, INK, LIGHT_GREY, series_color, text};
use crate::validate::{finite, non_empty, same_len};

/// Canvas size of [`plot_roc_curves`] in pixels (width, height).
pub const ROC_SIZE_PX: (u32, u32) = (860, 860);

/// One ROC curve to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocLine<'a> {
    /// Legend label (class name, or e.g. `"micro-average"`).
    pub label: &'a str,
    /// False-positive rates (x), non-decreasing in `[0, 1]`.
    pub fpr: &'a [f64],
    /// True-positive rates (y), same length as `fpr`.
    pub tpr: &'a [f64],
    /// Area under the curve shown in the legend.
    pub auc: f64,
}

/// The curves of a ROC plot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RocPlot<'a> {
    /// One curve per class (solid lines, one colour each).
    pub classes: Vec<RocLine<'a>>,
    /// Micro-average curve (dashed, thick), if any.
    pub micro: Option<RocLine<'a>>,
    /// Macro-average curve (dashed, thick), if any.
    pub macro_average: Option<RocLine<'a>>,
}

/// Draws ROC curves, the chance diagonal and a legend with every AUC to
/// `out.png` and `out.svg`.
///
/// # Errors
/// [`PlotError::Empty`](crate::PlotError::Empty) if there is no curve or a
/// curve has no point, [`PlotError::LengthMismatch`](crate::PlotError::LengthMismatch)
/// if a curve's `fpr` and `tpr` differ in length,
/// [`PlotError::NonFinite`](crate::PlotError::NonFinite) for NaN or
/// infinite coordinates or AUCs, and drawing or I/O errors.
pub fn plot_roc_curves(plot: &RocPlot<'_>, title: &str, out: &OutputPaths) -> Result<()> {
    let all: Vec<&RocLine<'_>> = plot
        .classes
        .iter()
        .chain(plot.micro.iter())
        .chain(plot.macro_average.iter())
        .collect();
    non_empty(&out.png, "ROC curves", all.len())?;
    for line in &all {
        non_empty(&out.png, "ROC curve points", line.fpr.len())?;
        same_len(&out.png, "ROC tpr", line.fpr.len(), line.tpr.len())?;
        finite(&out.png, "ROC fpr", line.fpr)?;
        finite(&out.png, "ROC tpr", line.tpr)?;
        finite(&out.png, "ROC auc", &[line.auc])?;
    }
    render(
        &RocFigure {
            plot,
            title: title.to_owned(),
        },
        out,
    )
}

/// Draws the curves of a `ser-metrics` ROC analysis with
/// [`plot_roc_curves`]: every defined class curve, the micro average and
/// the macro average (the interpolated curve, labelled with the macro AUC,
/// i.e. the mean of the class AUCs). Classes whose curve is undefined (no
/// positive sample) are left out.
///
/// # Errors
/// As [`plot_roc_curves`].
pub fn plot_roc_summary(summary: &RocSummary, title: &str, out: &OutputPaths) -> Result<()> {
    let classes = summary
        .per_class
        .iter()
        .filter_map(|(name, curve)| {
            curve.as_ref().map(|c| RocLine {
                label: name,
                fpr: &c.fpr,
                tpr: &c.tpr,
                auc: c.auc,
            })
        })
        .collect();
    let micro = Some(RocLine {
        label: "micro-average",
        fpr: &summary.micro.fpr,
        tpr: &summary.micro.tpr,
        auc: summary.micro.auc,
    });
    let macro_average = summary.macro_curve.as_ref().map(|m| RocLine {
        label: "macro-average",
        fpr: &m.fpr,
        tpr: &m.tpr,
        auc: summary.macro_auc.unwrap_or(m.auc),
    });
    plot_roc_curves(
        &RocPlot {
            classes,
            micro,
            macro_average,
        },
        title,
        out,
    )
}

struct RocFigure<'p, 'a> {
    plot: &'p RocPlot<'a>,
    title: String,
}

/// Colours of the averages (distinct from the tab10 class colours).
const MICRO_COLOR: RGBColor = RGBColor(199, 21, 133);
const MACRO_COLOR: RGBColor = RGBColor(0, 0, 128);

impl Figure for RocFigure<'_, '_> {
    fn size_px(&self) -> (u32, u32) {
        ROC_SIZE_PX
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (w, _) = ROC_SIZE_PX;
        root.draw(&Text::new(
            self.title.clone(),
            (w as i32 / 2, 30),
            text(26.0, &INK).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        let area = root.margin(60, 0, 0, 0);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(18)
            .margin_right(34)
            .margin_bottom(18)
            .margin_top(10)
            .x_label_area_size(62)
            .y_label_area_size(74)
            .build_cartesian_2d(-0.01f64..1.01f64, -0.01f64..1.01f64)?;
        chart
            .configure_mesh()
            .x_desc("False positive rate")
            .y_desc("True positive rate")
            .axis_desc_style(text(20.0, &INK))
            .label_style(text(16.0, &INK))
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .bold_line_style(LIGHT_GREY.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(GREY.stroke_width(1))
            .draw()?;

        // The diagonal goes under the curves; its legend entry comes last.
        chart.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            6,
            6,
            GREY.stroke_width(1),
        ))?;

        for (i, line) in self.plot.classes.iter().enumerate() {
            let color = series_color(i);
            chart
                .draw_series(LineSeries::new(
                    line.fpr.iter().copied().zip(line.tpr.iter().copied()),
                    color.stroke_width(2),
                ))?
                .label(format!("{} (AUC = {:.3})", line.label, line.auc))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 28, y)], color.stroke_width(3))
                });
        }
        for (line, color) in [
            (self.plot.micro, MICRO_COLOR),
            (self.plot.macro_average, MACRO_COLOR),
        ] {
            let Some(line) = line else { continue };
            chart
                .draw_series(DashedLineSeries::new(
                    line.fpr.iter().copied().zip(line.tpr.iter().copied()),
                    10,
                    5,
                    color.stroke_width(3),
                ))?
                .label(format!("{} (AUC = {:.3})", line.label, line.auc))
                .legend(move |(x, y)| {
                    DashedPathElement::new([(x, y), (x + 28, y)], 8, 4, color.stroke_width(3))
                });
        }
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
            .label("chance (AUC = 0.500)")
            .legend(|(x, y)| {
                DashedPathElement::new([(x, y), (x + 28, y)], 5, 4, GREY.stroke_width(1))
            });

        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .margin(14)
            .legend_area_size(36)
            .label_font(text(16.0, &INK))
            .background_style(WHITE.mix(0.92))
            .border_style(LIGHT_GREY.stroke_width(1))
            .draw()?;
        Ok(())
    }
}
