//! Byte counts for people.

/// A byte count in SI units, as docker and dive print them (`1.2 MB`).
pub fn si(n: u64) -> String {
    scaled(n, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB"])
}

/// A byte count in binary units, as download tools print them (`1536` → `1.5 KiB`).
pub fn iec(n: u64) -> String {
    scaled(n, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"])
}

/// `n` divided by `base` until it is under `base` (or the units run out), with one decimal.
fn scaled(n: u64, base: f64, units: &[&str]) -> String {
    let mut v = n as f64;
    let mut unit = 0;
    while v >= base && unit + 1 < units.len() {
        v /= base;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[unit])
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

    #[test]
    fn bytes_in_binary_units() {
        assert_eq!(super::iec(0), "0 B");
        assert_eq!(super::iec(1023), "1023 B");
        assert_eq!(super::iec(1536), "1.5 KiB");
        assert_eq!(super::iec(256 * 1024 * 1024), "256.0 MiB");
        assert_eq!(super::iec(3 << 40), "3.0 TiB");
    }
}
