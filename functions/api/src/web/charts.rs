//! The pictures: server-rendered SVG (no chart library in the browser), each with a `<title>` for
//! screen readers and the numbers also shown as text or a table beside it. Templates escape every
//! label; the geometry is computed here.

use askama::Template;

use crate::api::unlinked::model::LinkingRate;

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
    /// Whether there was nothing to measure (no commits that week): drawn apart from 0 %.
    pub none: bool,
}

impl Columns {
    /// Columns of `(label, fraction 0–1, or None when there was nothing to measure)`.
    pub fn new(label: String, values: Vec<(String, Option<f64>)>) -> Self {
        let count = values.len().max(1) as f64;
        let slot = WIDTH / count;
        let columns = values
            .into_iter()
            .enumerate()
            .map(|(i, (label, fraction))| {
                let h = fraction.unwrap_or(0.0).clamp(0.0, 1.0) * HEIGHT;
                Column {
                    label,
                    x: i as f64 * slot + 1.0,
                    y: HEIGHT - h,
                    w: (slot - 2.0).max(1.0),
                    h,
                    none: fraction.is_none(),
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

/// The linking rate per week of `rates` as columns, and the share of all its weeks' commits that
/// are linked (none without commits): the overview's and the unlinked page's picture.
pub fn linking_rate(rates: &LinkingRate) -> (String, Option<f64>) {
    let weeks = rates.weeks.len();
    let chart = svg(&Columns::new(
        format!("Share of commits linked to a task, per week, over the last {weeks} weeks"),
        rates
            .weeks
            .iter()
            .map(|w| {
                let label = format!("{}: {} of {} linked", w.week, w.linked, w.commits);
                (label, w.rate)
            })
            .collect(),
    ));
    let (commits, linked) = rates
        .weeks
        .iter()
        .fold((0, 0), |(c, l), w| (c + w.commits, l + w.linked));
    (chart, (commits > 0).then(|| linked as f64 / commits as f64))
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
        let weeks = svg(&Columns::new(
            "weeks".into(),
            vec![("W1".into(), Some(0.5)), ("W2".into(), None)],
        ));
        assert!(
            weeks.contains(r#"y="24" width="118" height="24""#),
            "{weeks}"
        );
        assert_eq!(weeks.matches("track none").count(), 1, "{weeks}");
        let burn = svg(&BurnUp::new("p".into(), &[(1, 0), (2, 1)]));
        assert!(
            burn.contains("0.0,24.0 240.0,2.0") && burn.contains("0.0,46.0 240.0,24.0"),
            "{burn}"
        );
    }
}
