//! The benchmark report: each figure beside its same-run baseline, the ratio, and the target.

use std::fmt::Write as _;

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub baseline_name: String,
    pub baseline: f64,
    /// The ratio value/baseline the issue asks for, if any.
    pub target_ratio: Option<f64>,
}

impl Figure {
    pub fn ratio(&self) -> f64 {
        if self.baseline > 0.0 {
            self.value / self.baseline
        } else {
            0.0
        }
    }

    pub fn meets_target(&self) -> Option<bool> {
        self.target_ratio.map(|t| self.ratio() >= t)
    }
}

/// A measured figure with an absolute target (e.g. a latency), not a ratio.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// Human-readable target and whether it was met.
    pub target: Option<(String, bool)>,
}

/// Renders the report as aligned plain text.
pub fn render(figures: &[Figure], measurements: &[Measurement]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<46} {:>14}   {:<40} {:>14}   {:>6}  target",
        "figure", "value", "baseline (same run)", "baseline", "ratio"
    );
    for f in figures {
        let target = match (f.target_ratio, f.meets_target()) {
            (Some(t), Some(true)) => format!(">= {t:.2}  ok"),
            (Some(t), _) => format!(">= {t:.2}  MISSED"),
            (None, _) => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<46} {:>14}   {:<40} {:>14}   {:>6.2}  {}",
            f.name,
            format!("{:.0} {}", f.value, f.unit),
            f.baseline_name,
            format!("{:.0} {}", f.baseline, f.unit),
            f.ratio(),
            target
        );
    }
    for m in measurements {
        let target = match &m.target {
            Some((t, true)) => format!("{t}  ok"),
            Some((t, false)) => format!("{t}  MISSED"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<46} {:>14}   {:<40} {:>14}   {:>6}  {}",
            m.name,
            format!("{:.1} {}", m.value, m.unit),
            "",
            "",
            "",
            target
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_target_are_judged() {
        let fast = Figure {
            name: "x".into(),
            value: 90.0,
            unit: "/s",
            baseline_name: "b".into(),
            baseline: 100.0,
            target_ratio: Some(0.8),
        };
        let slow = Figure {
            value: 50.0,
            ..fast.clone()
        };
        assert!((fast.ratio() - 0.9).abs() < 1e-9);
        assert_eq!(fast.meets_target(), Some(true));
        assert_eq!(slow.meets_target(), Some(false));
        let text = render(&[fast, slow], &[]);
        assert!(text.contains("ok"));
        assert!(text.contains("MISSED"));
    }
}
