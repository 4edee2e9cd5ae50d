//! The report's line charts, drawn by `plotters` into SVG text. The SVG
//! names its fonts by family and leaves the glyphs to the browser, so
//! drawing reads no font file.

use plotters::prelude::*;

/// A chart's size in pixels.
pub const SIZE: (u32, u32) = (960, 380);

/// The colour of each bidder's line, by its position in the config (then
/// again from the first). Strong colours that no other part of the report
/// uses, so a screenshot tells whether the lines were drawn.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0x1f, 0x77, 0xb4),
    (0xd6, 0x27, 0x28),
    (0x2c, 0xa0, 0x2c),
    (0xff, 0x7f, 0x0e),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0xe3, 0x77, 0xc2),
    (0x17, 0xbe, 0xcf),
];

/// The colour of the `index`th bidder's line.
pub fn colour(index: usize) -> (u8, u8, u8) {
    PALETTE[index % PALETTE.len()]
}

/// One bidder's line: its id and its points (events folded, value).
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(u64, f64)>,
}

/// What a chart shows.
pub struct Chart<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    /// The largest value of the y axis (it starts at 0).
    pub y_max: f64,
    pub series: Vec<Series<'a>>,
}

/// Draws `chart` as an `<svg>` element; the error says what failed.
pub fn line_chart(chart: &Chart<'_>) -> Result<String, String> {
    let mut svg = String::new();
    draw(chart, &mut svg).map_err(|error| format!("cannot draw {:?}: {error}", chart.title))?;
    Ok(svg)
}

fn draw(chart: &Chart<'_>, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let x_max = chart
        .series
        .iter()
        .flat_map(|series| series.points.iter().map(|(x, _)| *x))
        .max()
        .unwrap_or(0)
        .max(1);
    let y_max = if chart.y_max.is_finite() && chart.y_max > 0.0 {
        chart.y_max
    } else {
        1.0
    };
    let mut context = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0u64..x_max, 0f64..y_max)?;
    context
        .configure_mesh()
        .x_desc("events folded")
        .y_desc(chart.y_label)
        .label_style(("sans-serif", 14))
        .draw()?;
    for (index, series) in chart.series.iter().enumerate() {
        let (red, green, blue) = colour(index);
        let style = RGBColor(red, green, blue).stroke_width(3);
        context
            .draw_series(LineSeries::new(series.points.iter().copied(), style))?
            .label(series.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
    }
    context
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart<'static> {
        Chart {
            title: "Weights",
            y_label: "weight",
            y_max: 0.6,
            series: vec![
                Series {
                    name: "bidder_1",
                    points: vec![(0, 0.3), (5, 0.5), (10, 0.6)],
                },
                Series {
                    name: "bidder_2",
                    points: vec![(0, 0.3), (5, 0.2), (10, 0.1)],
                },
            ],
        }
    }

    #[test]
    fn each_bidder_is_a_line_in_its_colour_with_a_legend() {
        let svg = line_chart(&chart()).expect("drawn");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
        for index in 0..2 {
            let (red, green, blue) = colour(index);
            let hex = format!("#{red:02X}{green:02X}{blue:02X}");
            assert!(
                svg.to_uppercase().matches(&hex).count() >= 2,
                "{hex} drawn as a line and in the legend: {svg}"
            );
        }
        assert!(
            svg.contains(">\nbidder_1\n<") && svg.contains(">\nbidder_2\n<"),
            "{svg}"
        );
        assert!(svg.contains("Weights"));
    }

    #[test]
    fn text_is_left_to_the_browser() {
        let svg = line_chart(&chart()).expect("drawn");
        assert!(svg.contains("<text"), "{svg}");
        assert!(svg.contains("font-family=\"sans-serif\""), "{svg}");
        // No glyph outlines, no font and no other resource by address.
        assert!(!svg.contains("@font-face") && !svg.contains("url("));
    }
}
