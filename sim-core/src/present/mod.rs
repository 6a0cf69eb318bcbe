//! What people see: [`render`] writes events as text, [`json`] writes them as JSON records for tools,
//! [`explain`] tells each step in one sentence, and [`snapshot`] makes plain pictures of kernel state.
//! Rendering and explaining read events and the program only; snapshots are the one place that looks at
//! the kernel, and they hand out plain data.

pub mod explain;
pub mod json;
pub mod render;
pub mod snapshot;

/// A count with its thousands apart (`2,545,701`), as the explorer's reports and the playground show
/// them; `u128::MAX`, where the explorer's counts stop, as words.
pub fn with_commas(value: u128) -> String {
    if value == u128::MAX {
        return "more than 3.4 × 10^38".to_string();
    }
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        let cases = [(0, "0"), (999, "999"), (1000, "1,000"), (12_288, "12,288"), (2_545_701, "2,545,701")];
        for (count, words) in cases {
            assert_eq!(super::with_commas(count), words);
        }
        assert_eq!(super::with_commas(u128::MAX), "more than 3.4 × 10^38");
    }
}
