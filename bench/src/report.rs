//! Results: one [`Metric`] per measured number, printed as a human table and as JSON lines with
//! exactly the keys `scenario, metric, value, unit, baseline, ratio` (issue 6). The target and
//! whether it was met appear in the table only.

use serde::Serialize;

/// What a metric must reach to meet the target.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// `ratio` (value / baseline) at least this.
    RatioAtLeast(f64),
    /// `ratio` (value / baseline) at most this.
    RatioAtMost(f64),
    /// `value` at most this, in the metric's unit.
    AtMost(f64),
    /// `value` at least this, in the metric's unit.
    AtLeast(f64),
}

impl Target {
    fn text(self, unit: &str) -> String {
        match self {
            Target::RatioAtLeast(r) => format!("ratio >= {r}"),
            Target::RatioAtMost(r) => format!("ratio <= {r}"),
            Target::AtMost(v) => format!("<= {v} {unit}"),
            Target::AtLeast(v) => format!(">= {v} {unit}"),
        }
    }
}

/// One measured number.
#[derive(Debug, Clone)]
pub(crate) struct Metric {
    /// The scenario that measured it (`sign`, `fetch_latency`, ...).
    pub(crate) scenario: &'static str,
    /// What was measured, e.g. `svids_per_sec`, `first_response_p99`.
    pub(crate) metric: String,
    /// The measurement.
    pub(crate) value: f64,
    /// The unit of `value` and `baseline`.
    pub(crate) unit: &'static str,
    /// The same quantity for the scenario's baseline, measured in the same run.
    pub(crate) baseline: Option<f64>,
    /// The target, if it sets one for this metric.
    pub(crate) target: Option<Target>,
}

impl Metric {
    /// A metric without baseline or target.
    pub(crate) fn new(
        scenario: &'static str,
        metric: &str,
        value: f64,
        unit: &'static str,
    ) -> Self {
        Metric {
            scenario,
            metric: metric.to_owned(),
            value,
            unit,
            baseline: None,
            target: None,
        }
    }

    /// With the baseline's value.
    pub(crate) fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// With a target.
    pub(crate) fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// With a target that is only judged when `applies` (the run has the target's sizes).
    pub(crate) fn target_if(self, applies: bool, target: Target) -> Self {
        if applies { self.target(target) } else { self }
    }

    /// value / baseline.
    fn ratio(&self) -> Option<f64> {
        self.baseline.filter(|b| *b != 0.0).map(|b| self.value / b)
    }

    fn met(&self) -> Option<bool> {
        match self.target? {
            Target::RatioAtLeast(r) => self.ratio().map(|x| x >= r),
            Target::RatioAtMost(r) => self.ratio().map(|x| x <= r),
            Target::AtMost(v) => Some(self.value <= v),
            Target::AtLeast(v) => Some(self.value >= v),
        }
    }

    /// The JSON line.
    pub(crate) fn json_line(&self) -> String {
        /// Field order is the issue's.
        #[derive(Serialize)]
        struct Line<'a> {
            scenario: &'a str,
            metric: &'a str,
            value: f64,
            unit: &'a str,
            baseline: Option<f64>,
            ratio: Option<f64>,
        }
        let line = Line {
            scenario: self.scenario,
            metric: &self.metric,
            value: round(self.value),
            unit: self.unit,
            baseline: self.baseline.map(round),
            ratio: self.ratio().map(round),
        };
        serde_json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// Four decimals: more is noise, and it keeps the lines readable.
fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// The human table (Markdown, so it can be pasted into docs/benchmarks.md as is).
pub(crate) fn table(metrics: &[Metric]) -> String {
    let header = [
        "scenario", "metric", "value", "unit", "baseline", "ratio", "target", "met",
    ];
    let rows: Vec<[String; 8]> = metrics
        .iter()
        .map(|m| {
            [
                m.scenario.to_owned(),
                m.metric.clone(),
                num(m.value),
                m.unit.to_owned(),
                m.baseline.map(num).unwrap_or_else(|| "-".to_owned()),
                m.ratio().map(num).unwrap_or_else(|| "-".to_owned()),
                m.target
                    .map(|t| t.text(m.unit))
                    .unwrap_or_else(|| "-".to_owned()),
                match m.met() {
                    Some(true) => "yes".to_owned(),
                    Some(false) => "NO".to_owned(),
                    None => "-".to_owned(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(&header.map(str::to_owned));
    out.push_str(&line(&widths.map(|w| "-".repeat(w))));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}
