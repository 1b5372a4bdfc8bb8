//! Any bytes as a Dockerfile, in both dialects: the oracle-shaped output, the
//! tree (printing must give the input back, elements must tile it), the
//! instruction checks and a rewrite must all return, never panic.
#![no_main]

use kasane_dockerfile::{Dialect, Dockerfile, ParseOptions, buildkit, instructions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for dialect in [Dialect::BuildKit012, Dialect::Current] {
        let _ = buildkit::json_line("fuzz", data, dialect);
        let Ok(df) = Dockerfile::parse_bytes(data, ParseOptions::dialect(dialect)) else {
            continue;
        };
        assert_eq!(df.print().as_bytes(), data, "print() must reproduce the input");
        let mut at = if df.has_bom() { 3 } else { 0 };
        for e in df.elements() {
            assert_eq!(e.extent().start.offset, at, "elements must tile the input");
            at = e.extent().end.offset;
        }
        assert_eq!(at, data.len());
        for ins in df.instructions() {
            let _ = df.text(ins.span);
            for f in &ins.flags {
                let _ = df.text(f.span);
            }
            for w in ins.args.words() {
                let _ = df.text(w.span);
            }
        }
        let _ = instructions::validate(&df);
        if !df.instructions().is_empty() {
            let mut rw = df.rewrite();
            rw.replace_instruction(0, "FROM scratch").insert_after(0, "RUN true");
            let _ = rw.apply();
        }
    }
});
