//! The pictures: server-rendered SVG (no chart library in the browser), each with a `<title>` for
//! screen readers and the numbers also shown as text or a table beside it. Templates escape every
//! label; the geometry is computed here.

use askama::Template;

/// Chart width and height in SVG units (the image scales to its box).
const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 48.0;

/// A small line of values (commits per week of a repository).
#[derive(Template)]
#[template(path = "charts/sparkline.svg", escape = "html")]
pub struct Sparkline {
    label: String,
    points: String,
    width: f64,
    height: f64,
}

impl Sparkline {
    /// The line of `values` (oldest first), described by `label`.
    pub fn new(label: String, values: &[i64]) -> Self {
        let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
        let step = if values.len() > 1 {
            WIDTH / (values.len() - 1) as f64
        } else {
            0.0
        };
        let points = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    i as f64 * step,
                    HEIGHT - 2.0 - (*v as f64 / max) * (HEIGHT - 4.0)
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            label,
            points,
            width: WIDTH,
            height: HEIGHT,
        }
    }
}

/// One bar of a bar chart.
pub struct Bar {
    /// What it measures (a week, a project).
    pub label: String,
    /// The bar's length, 0–100.
    pub percent: f64,
    /// The value as text.
    pub text: String,
    /// Its top in the chart.
    pub y: f64,
}

/// Horizontal bars with labels (task completion per project).
#[derive(Template)]
#[template(path = "charts/bars.svg", escape = "html")]
pub struct Bars {
    label: String,
    bars: Vec<Bar>,
    height: f64,
}

/// The height of one bar's row.
const ROW: f64 = 22.0;

impl Bars {
    /// Bars of `(label, fraction 0–1, value text)`.
    pub fn new(label: String, rows: Vec<(String, f64, String)>) -> Self {
        let bars: Vec<Bar> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (label, fraction, text))| Bar {
                label: shorten(&label, 24),
                percent: (fraction.clamp(0.0, 1.0) * 100.0 * 10.0).round() / 10.0,
                text,
                y: i as f64 * ROW,
            })
            .collect();
        Self {
            label,
            height: bars.len() as f64 * ROW,
            bars,
        }
    }
}

/// Vertical columns (the linking rate per week).
#[derive(Template)]
#[template(path = "charts/columns.svg", escape = "html")]
pub struct Columns {
    label: String,
    columns: Vec<Column>,
    width: f64,
    height: f64,
}

/// One column.
pub struct Column {
    /// What it is (a week).
    pub label: String,
    /// Its left edge.
    pub x: f64,
    /// Its top.
    pub y: f64,
    /// Its width.
    pub w: f64,
    /// Its height.
    pub h: f64,
}

impl Columns {
    /// Columns of `(label, fraction 0–1)`.
    pub fn new(label: String, values: Vec<(String, f64)>) -> Self {
        let count = values.len().max(1) as f64;
        let slot = WIDTH / count;
        let columns = values
            .into_iter()
            .enumerate()
            .map(|(i, (label, fraction))| {
                let h = fraction.clamp(0.0, 1.0) * HEIGHT;
                Column {
                    label,
                    x: i as f64 * slot + 1.0,
                    y: HEIGHT - h,
                    w: (slot - 2.0).max(1.0),
                    h,
                }
            })
            .collect();
        Self {
            label,
            columns,
            width: WIDTH,
            height: HEIGHT,
        }
    }
}

/// A burn-up: tasks known and tasks done over time, two lines.
#[derive(Template)]
#[template(path = "charts/burnup.svg", escape = "html")]
pub struct BurnUp {
    label: String,
    scope: String,
    done: String,
    width: f64,
    height: f64,
}

impl BurnUp {
    /// The burn-up of `(known, done)` counts at successive moments, oldest first.
    pub fn new(label: String, series: &[(i64, i64)]) -> Self {
        let max = series
            .iter()
            .map(|s| s.0.max(s.1))
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let step = if series.len() > 1 {
            WIDTH / (series.len() - 1) as f64
        } else {
            0.0
        };
        let line = |pick: fn(&(i64, i64)) -> i64| {
            series
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    format!(
                        "{:.1},{:.1}",
                        i as f64 * step,
                        HEIGHT - 2.0 - (pick(s) as f64 / max) * (HEIGHT - 4.0)
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        Self {
            label,
            scope: line(|s| s.0),
            done: line(|s| s.1),
            width: WIDTH,
            height: HEIGHT,
        }
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// `svg` rendered, or nothing when a template fails (a picture is never worth a failed page).
pub fn svg(chart: &impl Template) -> String {
    chart.render().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_scale_to_their_box_and_escape_their_labels() {
        let line = svg(&Sparkline::new("<b>repo</b>".into(), &[0, 5, 10]));
        assert!(line.contains("0.0,46.0 120.0,24.0 240.0,2.0"), "{line}");
        assert!(
            line.contains("&#60;b&#62;repo") || line.contains("&lt;b&gt;repo"),
            "{line}"
        );
        let bars = svg(&Bars::new(
            "done".into(),
            vec![
                ("a".into(), 0.5, "1 of 2".into()),
                ("b".into(), 2.0, "x".into()),
            ],
        ));
        assert!(
            bars.contains(r#"width="50""#) && bars.contains(r#"width="100""#),
            "{bars}"
        );
        let burn = svg(&BurnUp::new("p".into(), &[(1, 0), (2, 1)]));
        assert!(
            burn.contains("0.0,24.0 240.0,2.0") && burn.contains("0.0,46.0 240.0,24.0"),
            "{burn}"
        );
    }
}
