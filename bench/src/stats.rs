//! Latency samples: percentiles, and the raw samples as CSV plus an SVG histogram (plain SVG
//! text, no plotting dependency) for docs/benchmarks.md.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

/// Latency samples in milliseconds, sorted.
#[derive(Debug, Clone)]
pub(crate) struct Samples {
    ms: Vec<f64>,
}

impl Samples {
    /// From durations, in any order.
    pub(crate) fn new(samples: &[Duration]) -> Samples {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        Samples { ms }
    }

    /// How many.
    pub(crate) fn len(&self) -> usize {
        self.ms.len()
    }

    /// The nearest-rank `p`th percentile (0 < p <= 100); NaN without samples.
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        if self.ms.is_empty() {
            return f64::NAN;
        }
        let rank = (p / 100.0 * self.ms.len() as f64).ceil() as usize;
        self.ms[rank.clamp(1, self.ms.len()) - 1]
    }
}

/// Writes `<dir>/<name>.csv` (`series,value_ms`, one sample a line) and `<dir>/<name>.svg`, a
/// histogram of every series on one log-scaled axis.
pub(crate) fn write_plot(
    dir: &Path,
    name: &str,
    title: &str,
    series: &[(&str, &Samples)],
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut csv = String::from("series,value_ms\n");
    for (label, s) in series {
        for v in &s.ms {
            let _ = writeln!(csv, "{label},{v:.4}");
        }
    }
    std::fs::write(dir.join(format!("{name}.csv")), csv)?;
    std::fs::write(
        dir.join(format!("{name}.svg")),
        histogram_svg(title, series),
    )?;
    Ok(())
}

const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
const BINS: usize = 60;

/// A histogram with log10-spaced bins, each series drawn as a translucent step area, and its
/// p50/p99 in the legend.
fn histogram_svg(title: &str, series: &[(&str, &Samples)]) -> String {
    let (w, h) = (760.0_f64, 380.0_f64);
    // The legend goes between the title and the plot, one line per series.
    let legend_top = 34.0;
    let (left, right, top, bottom) = (
        60.0,
        20.0,
        legend_top + 16.0 * series.len() as f64 + 8.0,
        50.0,
    );
    let all = series.iter().flat_map(|(_, s)| s.ms.iter().copied());
    let lo = all.clone().fold(f64::INFINITY, f64::min).max(1e-3);
    let hi = all.fold(0.0_f64, f64::max).max(lo * 1.01);
    let (llo, lhi) = (lo.log10(), hi.log10());
    let bin_of = |v: f64| {
        let f = (v.max(lo).log10() - llo) / (lhi - llo);
        ((f * BINS as f64) as usize).min(BINS - 1)
    };
    let counts: Vec<Vec<usize>> = series
        .iter()
        .map(|(_, s)| {
            let mut c = vec![0; BINS];
            for v in &s.ms {
                c[bin_of(*v)] += 1;
            }
            c
        })
        .collect();
    // Fractions, so series with different sample counts compare.
    let frac = |i: usize, b: usize| counts[i][b] as f64 / series[i].1.len().max(1) as f64;
    let ymax = (0..series.len())
        .flat_map(|i| (0..BINS).map(move |b| (i, b)))
        .map(|(i, b)| frac(i, b))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let x = |lv: f64| left + (lv - llo) / (lhi - llo) * pw;
    let y = |f: f64| top + ph - f / ymax * ph;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        w / 2.0,
        escape(title)
    );
    // Axes and x ticks at 1-2-5 steps.
    let _ = writeln!(
        svg,
        r#"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/><line x1="{left}" y1="{top}" x2="{left}" y2="{0}" stroke="black"/>"#,
        top + ph,
        left + pw
    );
    for decade in (llo.floor() as i32)..=(lhi.ceil() as i32) {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(decade);
            let lv = v.log10();
            if lv < llo || lv > lhi {
                continue;
            }
            let _ = writeln!(
                svg,
                r#"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="black"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4}</text>"#,
                x(lv),
                top + ph,
                top + ph + 5.0,
                top + ph + 18.0,
                tick(v)
            );
        }
    }
    for f in [0.0, 0.5, 1.0] {
        let _ = writeln!(
            svg,
            r#"<line x1="{0}" y1="{1:.1}" x2="{2}" y2="{1:.1}" stroke="black"/><text x="{3}" y="{4:.1}" text-anchor="end">{5:.2}</text>"#,
            left - 5.0,
            y(f * ymax),
            left,
            left - 8.0,
            y(f * ymax) + 4.0,
            f * ymax
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">latency (ms, log scale)</text>"#,
        left + pw / 2.0,
        h - 10.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="15" y="{}" text-anchor="middle" transform="rotate(-90 15 {})">fraction of samples</text>"#,
        top + ph / 2.0,
        top + ph / 2.0,
    );
    for (i, (label, s)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let mut path = format!("M{:.1},{:.1}", x(llo), y(0.0));
        for b in 0..BINS {
            let l0 = llo + (lhi - llo) * b as f64 / BINS as f64;
            let l1 = llo + (lhi - llo) * (b + 1) as f64 / BINS as f64;
            let fy = y(frac(i, b));
            let _ = write!(path, " L{:.1},{fy:.1} L{:.1},{fy:.1}", x(l0), x(l1));
        }
        let _ = write!(path, " L{:.1},{:.1} Z", x(lhi), y(0.0));
        let _ = writeln!(
            svg,
            r#"<path d="{path}" fill="{color}" fill-opacity="0.35" stroke="{color}"/>"#
        );
        let ly = legend_top + 16.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{}" width="12" height="12" fill="{color}" fill-opacity="0.6"/><text x="{}" y="{}">{} (n={}, p50 {:.3} ms, p99 {:.3} ms)</text>"#,
            left + 10.0,
            ly,
            left + 27.0,
            ly + 10.0,
            escape(label),
            s.len(),
            s.percentile(50.0),
            s.percentile(99.0)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').to_owned()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Samples::new(&(1..=100).map(Duration::from_millis).collect::<Vec<_>>());
        assert_eq!(s.percentile(50.0), 50.0);
        assert_eq!(s.percentile(99.0), 99.0);
        assert_eq!(s.percentile(100.0), 100.0);
        let one = Samples::new(&[Duration::from_millis(7)]);
        assert_eq!(one.percentile(99.0), 7.0);
    }

    #[test]
    fn svg_names_every_series() {
        let a = Samples::new(&[Duration::from_micros(100), Duration::from_micros(300)]);
        let b = Samples::new(&[Duration::from_millis(2)]);
        let svg = histogram_svg("t <1>", &[("agent", &a), ("echo", &b)]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("agent (n=2") && svg.contains("echo (n=1"));
        assert!(svg.contains("t &lt;1&gt;"));
    }
}
