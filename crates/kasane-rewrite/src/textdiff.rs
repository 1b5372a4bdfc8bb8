//! A unified diff of two texts, line by line (what `--diff` prints).

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// Above this many lines in the changed middle part, the diff is one hunk that replaces it
/// all instead of a longest-common-subsequence table (which grows with the square).
const LCS_LIMIT: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Removed,
    Added,
}

/// The unified diff from `old` to `new` with `a/PATH` and `b/PATH` headers; empty when the
/// texts are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = line_ops(&a, &b);
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    // Walk the ops, keeping (index in a, index in b) for each.
    let mut rows = Vec::with_capacity(ops.len());
    let (mut ia, mut ib) = (0, 0);
    for op in &ops {
        rows.push((*op, ia, ib));
        match op {
            Op::Same => {
                ia += 1;
                ib += 1;
            }
            Op::Removed => ia += 1,
            Op::Added => ib += 1,
        }
    }
    let mut k = 0;
    while k < rows.len() {
        if rows[k].0 == Op::Same {
            k += 1;
            continue;
        }
        // A hunk: from CONTEXT rows before this change to CONTEXT rows after the last change
        // that is less than 2*CONTEXT rows away from the next.
        let start = k.saturating_sub(CONTEXT);
        let mut end = k;
        let mut m = k;
        while m < rows.len() {
            if rows[m].0 != Op::Same {
                end = m;
                m += 1;
                continue;
            }
            let next_change = rows[m..].iter().position(|r| r.0 != Op::Same);
            match next_change {
                Some(d) if d <= 2 * CONTEXT => m += d,
                _ => break,
            }
        }
        let stop = (end + 1 + CONTEXT).min(rows.len());
        let hunk = &rows[start..stop];
        let a_len = hunk.iter().filter(|r| r.0 != Op::Added).count();
        let b_len = hunk.iter().filter(|r| r.0 != Op::Removed).count();
        let a_start = if a_len == 0 { hunk[0].1 } else { hunk[0].1 + 1 };
        let b_start = if b_len == 0 { hunk[0].2 } else { hunk[0].2 + 1 };
        out.push_str(&format!("@@ -{a_start},{a_len} +{b_start},{b_len} @@\n"));
        for &(op, x, y) in hunk {
            let (sign, line) = match op {
                Op::Same => (' ', a[x]),
                Op::Removed => ('-', a[x]),
                Op::Added => ('+', b[y]),
            };
            out.push(sign);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
        k = stop;
    }
    out
}

/// The edit script from `a` to `b`: common prefix and suffix, and a longest common
/// subsequence of the middle.
fn line_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops = vec![Op::Same; prefix];
    if ma.len() > LCS_LIMIT || mb.len() > LCS_LIMIT {
        ops.extend(std::iter::repeat_n(Op::Removed, ma.len()));
        ops.extend(std::iter::repeat_n(Op::Added, mb.len()));
    } else {
        // lcs[i][j]: LCS length of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                ops.push(Op::Same);
                i += 1;
                j += 1;
            } else if i < ma.len() && (j == mb.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                ops.push(Op::Removed);
                i += 1;
            } else {
                ops.push(Op::Added);
                j += 1;
            }
        }
    }
    ops.extend(std::iter::repeat_n(Op::Same, suffix));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_give_nothing() {
        assert_eq!(unified_diff("D", "a\n", "a\n"), "");
    }

    #[test]
    fn one_hunk_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let new = "1\n2\n3\n4x\n5\n6\n7\n8\n";
        assert_eq!(
            unified_diff("Dockerfile", old, new),
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,7 +1,7 @@\n 1\n 2\n 3\n-4\n+4x\n 5\n 6\n 7\n"
        );
    }

    #[test]
    fn far_apart_changes_make_two_hunks_and_missing_newline_is_marked() {
        let old: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let new = old.replacen("2\n", "two\n", 1).replace("\n20\n", "\n20");
        let d = unified_diff("f", &old, &new);
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("-2\n+two\n"));
        assert!(d.contains("+20\n\\ No newline at end of file\n"));
    }

    #[test]
    fn insertions_and_removals() {
        let d = unified_diff("f", "a\nb\nc\n", "a\nc\nd\n");
        assert_eq!(d, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n");
        let d = unified_diff("f", "", "x\n");
        assert_eq!(d, "--- a/f\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n");
    }
}
