//! Grouped bar chart comparing models (mean ± std over folds).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use ser_metrics::FoldAggregate;

use crate::error::Result;
use crate::output::{Figure, OutputPaths, render};
use crate::style::{GREY, INK, LIGHT_GREY, fit_text, font, series_color, text, text_size};
use crate::validate::{in_range, non_empty, same_len};

/// Canvas size of [`plot_model_comparison`] in pixels (width, height).
pub const MODEL_COMPARISON_SIZE_PX: (u32, u32) = (1200, 720);

/// A mean and a standard deviation (e.g. over cross-validation folds).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeanStd {
    /// Mean, a fraction in `[0, 1]`.
    pub mean: f64,
    /// Standard deviation, in `[0, 1]`.
    pub std: f64,
}

/// The scores of one model, one [`MeanStd`] per metric of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScores {
    /// Model name (x-axis label).
    pub model: String,
    /// One value per metric, in the order of [`ModelComparison::metric_names`].
    pub values: Vec<MeanStd>,
}

/// Data of a model comparison chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelComparison {
    /// Metric names (legend), e.g. `["UAR", "Accuracy"]`.
    pub metric_names: Vec<String>,
    /// One group of bars per model.
    pub models: Vec<ModelScores>,
    /// Chance level drawn as a dashed line (e.g. `1/8` for 8 balanced classes).
    pub chance_level: Option<f64>,
}

impl ModelComparison {
    /// UAR and accuracy (mean ± population std over folds) of each model,
    /// from `ser-metrics` fold aggregates; chance level `1 / n_classes`.
    pub fn uar_and_accuracy(models: &[(&str, &FoldAggregate)]) -> Self {
        let n_classes = models.first().map_or(0, |(_, a)| a.mean.per_class.len());
        Self {
            metric_names: vec!["UAR".to_owned(), "Accuracy".to_owned()],
            models: models
                .iter()
                .map(|(name, agg)| ModelScores {
                    model: (*name).to_owned(),
                    values: vec![
                        MeanStd {
                            mean: agg.mean.uar,
                            std: agg.std.uar,
                        },
                        MeanStd {
                            mean: agg.mean.accuracy,
                            std: agg.std.accuracy,
                        },
                    ],
                })
                .collect(),
            chance_level: (n_classes > 0).then(|| 1.0 / n_classes as f64),
        }
    }
}

/// Draws a grouped bar chart to `out.png` and `out.svg`: one group per
/// model, one bar per metric with its mean (bar), ± std (error bar) and the
/// mean as a percentage above it; the y axis is in percent.
///
/// # Errors
/// [`PlotError::Empty`](crate::PlotError::Empty) for no model or no metric,
/// [`PlotError::LengthMismatch`](crate::PlotError::LengthMismatch) if a
/// model does not have one value per metric,
/// [`PlotError::NonFinite`](crate::PlotError::NonFinite) /
/// [`PlotError::OutOfRange`](crate::PlotError::OutOfRange) for means, stds
/// or chance level that are not fractions in `[0, 1]`, and drawing or I/O errors.
pub fn plot_model_comparison(
    chart: &ModelComparison,
    title: &str,
    out: &OutputPaths,
) -> Result<()> {
    non_empty(&out.png, "models", chart.models.len())?;
    non_empty(&out.png, "metric_names", chart.metric_names.len())?;
    for m in &chart.models {
        same_len(
            &out.png,
            "model values",
            chart.metric_names.len(),
            m.values.len(),
        )?;
        let means: Vec<f64> = m.values.iter().map(|v| v.mean).collect();
        let stds: Vec<f64> = m.values.iter().map(|v| v.std).collect();
        in_range(&out.png, "mean", &means, 0.0, 1.0)?;
        in_range(&out.png, "std", &stds, 0.0, 1.0)?;
    }
    if let Some(c) = chart.chance_level {
        in_range(&out.png, "chance_level", &[c], 0.0, 1.0)?;
    }
    render(
        &ComparisonFigure {
            chart,
            title: title.to_owned(),
        },
        out,
    )
}

struct ComparisonFigure<'c> {
    chart: &'c ModelComparison,
    title: String,
}

const LABEL_PX: f64 = 16.0;
/// Fraction of a group's width covered by its bars.
const GROUP_WIDTH: f64 = 0.8;

impl Figure for ComparisonFigure<'_> {
    fn size_px(&self) -> (u32, u32) {
        MODEL_COMPARISON_SIZE_PX
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (w, _) = MODEL_COMPARISON_SIZE_PX;
        let w = w as i32;
        let c = self.chart;
        let n_models = c.models.len();
        let n_metrics = c.metric_names.len();
        root.draw(&Text::new(
            self.title.clone(),
            (w / 2, 30),
            text(26.0, &INK).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;

        // Legend row under the title: a swatch and a name per metric, then the chance line.
        let legend_font = font(LABEL_PX);
        let mut entries: Vec<(String, Option<usize>)> = c
            .metric_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), Some(i)))
            .collect();
        if let Some(chance) = c.chance_level {
            entries.push((format!("chance ({:.1}%)", chance * 100.0), None));
        }
        const SWATCH: i32 = 18;
        const GAP: i32 = 30;
        let widths: Vec<i32> = entries
            .iter()
            .map(|(n, kind)| {
                let swatch = if kind.is_some() { SWATCH } else { 34 };
                swatch + 8 + text_size(&legend_font, n).0 as i32
            })
            .collect();
        let total: i32 = widths.iter().sum::<i32>() + GAP * (widths.len() as i32 - 1);
        let mut x = (w - total) / 2;
        for ((name, kind), width) in entries.iter().zip(&widths) {
            let text_x = match kind {
                Some(i) => {
                    root.draw(&Rectangle::new(
                        [(x, 62), (x + SWATCH, 62 + SWATCH)],
                        series_color(*i).filled(),
                    ))?;
                    x + SWATCH + 8
                }
                None => {
                    root.draw(&DashedPathElement::new(
                        [(x, 71), (x + 34, 71)],
                        8,
                        6,
                        GREY.stroke_width(2),
                    ))?;
                    x + 34 + 8
                }
            };
            root.draw(&Text::new(
                name.clone(),
                (text_x, 71),
                text(LABEL_PX, &INK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            x += width + GAP;
        }

        // Model names: horizontal if they fit a group, else vertical; never clipped.
        let label_font = font(LABEL_PX);
        let plot_w_estimate = (w - 150) as f64;
        let group_px = plot_w_estimate / n_models as f64;
        let names: Vec<String> = c
            .models
            .iter()
            .map(|m| fit_text(&label_font, &m.model, 220))
            .collect();
        let name_w = names
            .iter()
            .map(|n| text_size(&label_font, n).0)
            .max()
            .unwrap_or(0) as i32;
        let name_h = text_size(&label_font, "Ag").1 as i32;
        let rotate = f64::from(name_w) > group_px - 10.0;
        let x_label_area = 16 + if rotate { name_w } else { name_h } + 14;

        let area = root.margin(96, 0, 0, 0);
        let y_top = c
            .models
            .iter()
            .flat_map(|m| m.values.iter().map(|v| v.mean + v.std))
            .fold(1.0f64, f64::max)
            + 0.02;
        let mut chart = ChartBuilder::on(&area)
            .margin_left(16)
            .margin_right(30)
            .margin_bottom(12)
            .x_label_area_size(x_label_area)
            .y_label_area_size(96)
            .build_cartesian_2d(-0.5f64..n_models as f64 - 0.5, 0.0f64..y_top)?;
        let pct_fmt = |v: &f64| format!("{:.0}%", v * 100.0);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(11)
            .y_label_formatter(&pct_fmt)
            .y_desc("Score (mean ± std over folds)")
            .axis_desc_style(text(18.0, &INK))
            .label_style(text(LABEL_PX, &INK))
            .bold_line_style(LIGHT_GREY.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(GREY.stroke_width(1))
            .draw()?;

        let bar_w = GROUP_WIDTH / n_metrics as f64;
        let bar_px = {
            let a = chart.backend_coord(&(0.0, 0.0)).0;
            let b = chart.backend_coord(&(bar_w, 0.0)).0;
            b - a
        };
        let value_px = if bar_px >= 52 {
            16.0
        } else if bar_px >= 38 {
            12.0
        } else {
            0.0
        };
        for (i, model) in c.models.iter().enumerate() {
            for (j, v) in model.values.iter().enumerate() {
                let x0 = i as f64 - GROUP_WIDTH / 2.0 + j as f64 * bar_w;
                let (l, r) = (x0 + bar_w * 0.06, x0 + bar_w * 0.94);
                let mid = x0 + bar_w / 2.0;
                let color = series_color(j);
                chart.draw_series([Rectangle::new([(l, 0.0), (r, v.mean)], color.filled())])?;
                let (lo, hi) = ((v.mean - v.std).max(0.0), v.mean + v.std);
                let cap = bar_w * 0.18;
                let whisker = INK.stroke_width(2);
                chart.draw_series([
                    PathElement::new([(mid, lo), (mid, hi)], whisker),
                    PathElement::new([(mid - cap, lo), (mid + cap, lo)], whisker),
                    PathElement::new([(mid - cap, hi), (mid + cap, hi)], whisker),
                ])?;
                if value_px > 0.0 {
                    let label = format!("{:.1}", v.mean * 100.0);
                    chart.draw_series([EmptyElement::at((mid, hi))
                        + Text::new(
                            label,
                            (0, -6),
                            text(value_px, &INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )])?;
                }
            }
        }
        if let Some(chance) = c.chance_level {
            chart.draw_series([DashedPathElement::new(
                [(-0.5, chance), (n_models as f64 - 0.5, chance)],
                8,
                6,
                GREY.stroke_width(2),
            )])?;
        }

        // Model names under the groups, in absolute pixels (not clipped to the plot).
        for (i, name) in names.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64, 0.0));
            let style = if rotate {
                text(LABEL_PX, &INK)
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Right, VPos::Center))
            } else {
                text(LABEL_PX, &INK).pos(Pos::new(HPos::Center, VPos::Top))
            };
            root.draw(&Text::new(name.clone(), (px, py + 12), style))?;
        }
        Ok(())
    }
}
