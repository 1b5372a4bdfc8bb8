//! Hostile input: the parser returns a result (a tree or an error with a line
//! and column) for anything, and agrees with BuildKit on whether it parses.

use kasane_dockerfile::{
    Arguments, Dialect, Dockerfile, ParseErrorKind, ParseOptions, buildkit, instructions, parse,
};

fn both(bytes: &[u8]) -> Vec<Result<Dockerfile, kasane_dockerfile::ParseError>> {
    [Dialect::BuildKit012, Dialect::Current]
        .into_iter()
        .map(|d| Dockerfile::parse_bytes(bytes, ParseOptions::dialect(d)))
        .collect()
}

fn oracle(bytes: &[u8]) -> String {
    buildkit::json_line("f", bytes, Dialect::BuildKit012).text
}

#[test]
fn nul_bytes_parse_and_are_cut_in_the_oracle_shape() {
    let src = b"FROM a\nRUN echo \0hidden\n";
    for r in both(src) {
        let df = r.expect("NUL is valid UTF-8 and BuildKit accepts it");
        assert_eq!(df.print().as_bytes(), src);
    }
    // The Python package passes C strings: the value stops at the NUL.
    assert!(
        oracle(src).contains(r#""value": ["echo "]"#),
        "{}",
        oracle(src)
    );
}

#[test]
fn invalid_utf8_is_an_error_with_a_position() {
    let src = b"FROM a\nRUN echo \xff\n";
    for r in both(src) {
        let e = r.expect_err("the tree holds text");
        assert_eq!(e.kind, ParseErrorKind::InvalidUtf8);
        assert_eq!((e.line, e.column, e.offset), (2, 10, 16));
    }
    // BuildKit (through Python) rejects it only where the bytes reach a string.
    assert!(oracle(src).contains(
        r#""error": "'utf-8' codec can't decode byte 0xff in position 9: invalid start byte""#
    ));
    assert!(oracle(b"# \xff in a comment\nFROM a\n").contains(r#""ok": true"#));
}

#[test]
fn a_ten_megabyte_line_is_refused() {
    let mut src = b"FROM a\nRUN echo ".to_vec();
    src.extend(std::iter::repeat_n(b'x', 10 << 20));
    src.extend_from_slice(b"\nRUN echo after\n");
    for r in both(&src) {
        let e = r.expect_err("BuildKit's scanner refuses lines over 65535 bytes");
        assert_eq!(e.kind, ParseErrorKind::LineTooLong);
        assert_eq!((e.line, e.column), (2, 1));
        assert_eq!(
            e.kind.to_string(),
            "dockerfile line greater than max allowed size of 65535"
        );
    }
    assert!(oracle(&src).contains("greater than max allowed size"));
}

#[test]
fn the_line_limit_is_exact() {
    let line = |n: usize| {
        let mut v = b"RUN ".to_vec();
        v.extend(std::iter::repeat_n(b'x', n - 4));
        v
    };
    let mut ok = line(65_535);
    ok.push(b'\n');
    assert!(parse(std::str::from_utf8(&ok).unwrap()).is_ok());
    let too_long = line(65_536);
    assert!(parse(std::str::from_utf8(&too_long).unwrap()).is_err());
    // Before any instruction, "no instructions" wins (BuildKit checks it first).
    let mut first = b"# ".to_vec();
    first.extend(std::iter::repeat_n(b'x', 70_000));
    let e = parse(std::str::from_utf8(&first).unwrap()).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::NoInstructions);
}

#[test]
fn unterminated_things() {
    // Quotes and JSON: BuildKit accepts them (shell form, raw words).
    let df =
        parse("FROM a\nRUN echo \"abc\nCMD [\"a\", \nENV A=\"b\nCOPY --from=\"x a b\n").unwrap();
    assert!(matches!(df.instructions()[2].args, Arguments::Shell(_)));
    assert_eq!(df.instructions()[4].flags[0].text, "--from=x a b");
    // A heredoc: an error at the instruction.
    let e = parse("FROM a\nRUN <<EOF\nbody\n").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnterminatedHeredoc);
    assert_eq!((e.line, e.column), (2, 5));
}

/// `piece` repeated `n` times, as one logical line made of continuation lines
/// (a physical line may hold at most 65535 bytes).
fn continued(piece: &str, n: usize) -> String {
    let per_line = 60_000 / piece.len();
    let mut out = String::new();
    for i in 0..n {
        out.push_str(piece);
        if (i + 1) % per_line == 0 {
            out.push_str("\\\n");
        }
    }
    out
}

#[test]
fn deep_nesting() {
    // JSON nested far beyond Go's limit: shell form, no stack overflow.
    let deep = format!("FROM a\nCMD {}\n", continued("[", 1_000_000));
    let df = parse(&deep).unwrap();
    assert!(matches!(df.instructions()[1].args, Arguments::Shell(_)));
    // Valid JSON nested within the limit holds a non-string: BuildKit's error.
    let nested = format!("FROM a\nCMD {}{}\n", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(
        parse(&nested).unwrap_err().kind,
        ParseErrorKind::JsonNotStrings
    );
    // ${ nested deeply in a heredoc line.
    let line = format!(
        "FROM a\nRUN cat <<EOF {}\nbody\nEOF\n",
        continued("${a:-", 100_000)
    );
    let _ = parse(&line);
    // ONBUILD chained 10,000 times.
    let chain = format!("FROM a\n{}RUN x\n", continued("ONBUILD ", 10_000));
    let df = parse(&chain).unwrap();
    assert_eq!(
        instructions::validate(&df)[0].message,
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    let json = serde_json::to_string(&df).unwrap();
    assert!(json.contains("unparsed"));
}

#[test]
fn many_words_on_one_line_stay_fast() {
    // 30,000 words on one 60 KB line, many times over: positions are computed
    // incrementally, so this is linear.
    let line = format!("EXPOSE {}\n", "1 ".repeat(30_000));
    let src = format!("FROM a\n{}", line.repeat(50));
    let df = parse(&src).unwrap();
    assert_eq!(df.instructions().len(), 51);
    let Arguments::List(words) = &df.instructions()[50].args else {
        panic!()
    };
    assert_eq!(words[29_999].span.start.column, 8 + 2 * 29_999);
}

#[test]
fn control_and_odd_whitespace() {
    let src = "FROM\u{b}a\nRUN\u{c}x\n\u{a0}RUN y\nRUN \u{85}z\n\u{feff}RUN w\n";
    for r in both(src.as_bytes()) {
        let df = r.unwrap();
        assert_eq!(df.print(), src);
    }
}

#[test]
fn random_bytes_never_panic() {
    // A cheap deterministic generator (the fuzz target goes further).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet: &[u8] = b"FROMRUN COPY\\`\"'<<-EOF[]{},=$#\n\r\t \x00\xc3\xa9\xff";
    for _ in 0..3000 {
        let len = (state % 200) as usize;
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            v.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let _ = oracle(&v);
        for df in both(&v).into_iter().flatten() {
            assert_eq!(df.print().as_bytes(), &v[..]);
            let _ = instructions::validate(&df);
        }
    }
}
