//! The SVG chart of a benchmark run: throughput against size, one panel per benchmark, one
//! line per implementation (each accelerator, each peer).

use crate::CliError;
use crate::bench::BenchReport;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Palette for the lines (dotcompute first, then peers).
const COLORS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// One panel's lines: implementation name -> (work items, throughput) points.
type Lines = BTreeMap<String, Vec<(u64, f64)>>;

fn chart_error(e: impl std::fmt::Display) -> CliError {
    CliError::Message(format!("cannot draw the chart: {e}"))
}

/// Writes the chart of `report` to `path`.
pub fn write_svg(report: &BenchReport, path: &Path) -> Result<(), CliError> {
    // benchmark -> implementation -> [(items, throughput)]
    let mut panels: BTreeMap<&str, Lines> = BTreeMap::new();
    let mut units: BTreeMap<&str, &str> = BTreeMap::new();
    for row in &report.rows {
        let name = match &row.accelerator {
            Some(a) => format!("{} ({a})", row.implementation),
            None => row.implementation.clone(),
        };
        panels
            .entry(row.benchmark.as_str())
            .or_default()
            .entry(name)
            .or_default()
            .push((row.items, row.throughput));
        units.insert(row.benchmark.as_str(), row.unit.as_str());
    }
    let columns = 3usize;
    let rows = panels.len().div_ceil(columns).max(1);
    let root = SVGBackend::new(path, (420 * columns as u32, 300 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let areas = root.split_evenly((rows, columns));
    for ((benchmark, lines), area) in panels.iter().zip(areas.iter()) {
        let unit = units.get(benchmark).copied().unwrap_or("");
        let (x_min, x_max) = lines
            .values()
            .flatten()
            .fold((u64::MAX, 0u64), |(lo, hi), (x, _)| {
                (lo.min(*x), hi.max(*x))
            });
        let y_max = lines
            .values()
            .flatten()
            .map(|(_, y)| *y)
            .fold(0.0f64, f64::max)
            * 1.15;
        let (x_lo, x_hi) = (x_min.max(1) as f64 / 2.0, x_max.max(1) as f64 * 2.0);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{benchmark} ({unit})"), ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..y_max.max(1e-9))
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc("work items")
            .x_label_formatter(&|x| format_count(*x))
            .draw()
            .map_err(chart_error)?;
        for (i, (name, points)) in lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let mut pts: Vec<(f64, f64)> = points.iter().map(|(x, y)| (*x as f64, *y)).collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(chart_error)?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(chart_error)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(chart_error)?;
    }
    root.present().map_err(chart_error)?;
    Ok(())
}

fn format_count(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.0}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.0}K", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
