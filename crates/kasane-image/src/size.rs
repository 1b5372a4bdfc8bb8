//! Byte counts for people.

/// A byte count in SI units, as docker and dive print them (`1.2 MB`).
pub fn si(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_in_si_units() {
        assert_eq!(super::si(0), "0 B");
        assert_eq!(super::si(999), "999 B");
        assert_eq!(super::si(1_234_567), "1.2 MB");
        assert_eq!(super::si(1_300_000_000), "1.3 GB");
    }
}
