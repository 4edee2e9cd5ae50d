//! Temperature conversions.

/// Converts kelvin to degrees Celsius.
pub fn kelvin_to_celsius(kelvin: f64) -> f64 {
    kelvin - 273.15
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_zero_is_minus_273_15_celsius() {
        assert!((kelvin_to_celsius(0.0) + 273.15).abs() < 1e-9);
    }
}
