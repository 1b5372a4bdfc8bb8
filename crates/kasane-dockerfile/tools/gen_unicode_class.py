#!/usr/bin/env python3
"""Writes src/expand/unicode_class.rs: the Unicode classes Go's unicode.IsLetter (category L)
and unicode.IsDigit (category Nd) use, which BuildKit's shell lexer relies on for names."""
import os
import unicodedata


def ranges(pred):
    out, start = [], None
    for c in range(0x110000):
        p = pred(chr(c))
        if p and start is None:
            start = c
        if not p and start is not None:
            out.append((start, c - 1))
            start = None
    if start is not None:
        out.append((start, 0x10FFFF))
    return out


def table(name, doc, rs):
    lines = [f"/// {doc}", f"const {name}: &[(u32, u32)] = &["]
    for i in range(0, len(rs), 6):
        lines.append("    " + ", ".join(f"(0x{a:X}, 0x{b:X})" for a, b in rs[i:i + 6]) + ",")
    lines.append("];")
    return "\n".join(lines)


HEADER = r'''//! Unicode classes as Go's `unicode.IsLetter` (general category L) and `unicode.IsDigit`
//! (category Nd) define them. BuildKit reads variable names with these, and they differ from
//! Rust's `char::is_alphabetic` / `char::is_numeric` (which add marks, letter numbers and other
//! numerics), so a name like `$Ⅻ` would end at a different place.
//!
//! Generated from Python's `unicodedata` (Unicode VERSION) by
//! `python3 crates/kasane-dockerfile/tools/gen_unicode_class.py`; do not edit by hand.

/// Whether `c` is a letter for Go (`unicode.IsLetter`).
pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_ranges(LETTER, c)
}

/// Whether `c` is a decimal digit for Go (`unicode.IsDigit`).
pub(crate) fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_ranges(DIGIT, c)
}

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}
'''

letters = ranges(lambda ch: unicodedata.category(ch).startswith("L"))
digits = ranges(lambda ch: unicodedata.category(ch) == "Nd")
out = HEADER.replace("VERSION", unicodedata.unidata_version)
out += "\n" + table("LETTER", "Ranges of general category L (Lu, Ll, Lt, Lm, Lo).", letters) + "\n"
out += "\n" + table("DIGIT", "Ranges of general category Nd.", digits) + "\n"
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "src", "expand", "unicode_class.rs"), "w") as f:
    f.write(out)
