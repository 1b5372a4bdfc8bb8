//! Go's regular-expression syntax (`regexp.Compile`, RE2 with Perl extensions, Go 1.19), parsed
//! by hand into `regex-syntax` HIR so that a pattern means here exactly what it means to Docker.
//!
//! Docker's pattern compiler passes user text through to Go's regexp parser (`[...]` classes,
//! `\` escapes, and in Docker 20.10 also `+`, `|`, `(`, `)`, `{n,m}`), so the dialect must be
//! Go's, not Rust's: `\d`, `\s`, `\w` and `\b` are ASCII, `\s` has no `\v`, octal escapes need
//! two digits, `\Q...\E` quotes, `[[:name:]]` and `\p{Name}` accept only Go's names, and `**`
//! or `a*+` are errors. `(?` groups cannot arise from a translated pattern (every `?` becomes
//! `[^/]`), so flags and named groups are rejected rather than parsed.
//!
//! Not reproduced: Go's limits on compiled program size and nesting depth (over 1,000), which
//! only very large Docker 20.10 patterns reach.

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, Look, Repetition};

/// A Go regexp syntax error (the text says which construct failed, like Go's messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError(pub(crate) String);

/// Unicode category names Go 1.19 accepts in `\p{...}`.
const GO_CATEGORIES: &[&str] = &[
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N",
    "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So",
    "Z", "Zl", "Zp", "Zs",
];

/// Unicode script names Go 1.19 (Unicode 13.0.0) accepts in `\p{...}`.
const GO_SCRIPTS: &[&str] = &[
    "Adlam",
    "Ahom",
    "Anatolian_Hieroglyphs",
    "Arabic",
    "Armenian",
    "Avestan",
    "Balinese",
    "Bamum",
    "Bassa_Vah",
    "Batak",
    "Bengali",
    "Bhaiksuki",
    "Bopomofo",
    "Brahmi",
    "Braille",
    "Buginese",
    "Buhid",
    "Canadian_Aboriginal",
    "Carian",
    "Caucasian_Albanian",
    "Chakma",
    "Cham",
    "Cherokee",
    "Chorasmian",
    "Common",
    "Coptic",
    "Cuneiform",
    "Cypriot",
    "Cyrillic",
    "Deseret",
    "Devanagari",
    "Dives_Akuru",
    "Dogra",
    "Duployan",
    "Egyptian_Hieroglyphs",
    "Elbasan",
    "Elymaic",
    "Ethiopic",
    "Georgian",
    "Glagolitic",
    "Gothic",
    "Grantha",
    "Greek",
    "Gujarati",
    "Gunjala_Gondi",
    "Gurmukhi",
    "Han",
    "Hangul",
    "Hanifi_Rohingya",
    "Hanunoo",
    "Hatran",
    "Hebrew",
    "Hiragana",
    "Imperial_Aramaic",
    "Inherited",
    "Inscriptional_Pahlavi",
    "Inscriptional_Parthian",
    "Javanese",
    "Kaithi",
    "Kannada",
    "Katakana",
    "Kayah_Li",
    "Kharoshthi",
    "Khitan_Small_Script",
    "Khmer",
    "Khojki",
    "Khudawadi",
    "Lao",
    "Latin",
    "Lepcha",
    "Limbu",
    "Linear_A",
    "Linear_B",
    "Lisu",
    "Lycian",
    "Lydian",
    "Mahajani",
    "Makasar",
    "Malayalam",
    "Mandaic",
    "Manichaean",
    "Marchen",
    "Masaram_Gondi",
    "Medefaidrin",
    "Meetei_Mayek",
    "Mende_Kikakui",
    "Meroitic_Cursive",
    "Meroitic_Hieroglyphs",
    "Miao",
    "Modi",
    "Mongolian",
    "Mro",
    "Multani",
    "Myanmar",
    "Nabataean",
    "Nandinagari",
    "New_Tai_Lue",
    "Newa",
    "Nko",
    "Nushu",
    "Nyiakeng_Puachue_Hmong",
    "Ogham",
    "Ol_Chiki",
    "Old_Hungarian",
    "Old_Italic",
    "Old_North_Arabian",
    "Old_Permic",
    "Old_Persian",
    "Old_Sogdian",
    "Old_South_Arabian",
    "Old_Turkic",
    "Oriya",
    "Osage",
    "Osmanya",
    "Pahawh_Hmong",
    "Palmyrene",
    "Pau_Cin_Hau",
    "Phags_Pa",
    "Phoenician",
    "Psalter_Pahlavi",
    "Rejang",
    "Runic",
    "Samaritan",
    "Saurashtra",
    "Sharada",
    "Shavian",
    "Siddham",
    "SignWriting",
    "Sinhala",
    "Sogdian",
    "Sora_Sompeng",
    "Soyombo",
    "Sundanese",
    "Syloti_Nagri",
    "Syriac",
    "Tagalog",
    "Tagbanwa",
    "Tai_Le",
    "Tai_Tham",
    "Tai_Viet",
    "Takri",
    "Tamil",
    "Tangut",
    "Telugu",
    "Thaana",
    "Thai",
    "Tibetan",
    "Tifinagh",
    "Tirhuta",
    "Ugaritic",
    "Vai",
    "Wancho",
    "Warang_Citi",
    "Yezidi",
    "Yi",
    "Zanabazar_Square",
];

/// One parsed node. Repetitions remember whether they were written `{n,m}` because only those
/// count towards Go's limit of 1,000 copies.
#[derive(Debug, Clone)]
enum Node {
    Empty,
    Literal(char),
    Class(ClassUnicode),
    Look(Look),
    Repeat {
        min: u32,
        max: Option<u32>,
        counted: bool,
        sub: Box<Node>,
    },
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
}

/// Parses a Go regexp (with `regexp.Compile`'s flags: Perl extensions, `^`/`$` at text
/// boundaries, negated classes matching `\n`) into HIR.
pub(crate) fn parse(re: &str) -> Result<Hir, SyntaxError> {
    let mut p = Parser { s: re, pos: 0 };
    let node = p.parse_alternation(0)?;
    if p.pos < re.len() {
        // Only an unmatched `)` stops the top-level alternation early.
        return Err(SyntaxError(format!("unexpected ): `{re}`")));
    }
    Ok(to_hir(&node))
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn parse_alternation(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let mut branches = vec![self.parse_concat(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.parse_concat(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alternate(branches)
        })
    }

    fn parse_concat(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let mut items: Vec<Node> = Vec::new();
        // Go forbids stacking repetition operators (`a**`), but only when nothing, not even
        // an empty `\Q\E`, stands between them.
        let mut last_was_repeat = false;
        while let Some(c) = self.peek() {
            let mut is_repeat = false;
            match c {
                '|' => break,
                ')' => {
                    if depth == 0 {
                        return Err(SyntaxError(format!("unexpected ): `{}`", self.s)));
                    }
                    break;
                }
                '(' => {
                    if self.rest().starts_with("(?") {
                        return Err(SyntaxError(format!(
                            "flag groups are not supported: `{}`",
                            self.s
                        )));
                    }
                    self.pos += 1;
                    let inner = self.parse_alternation(depth + 1)?;
                    if self.peek() != Some(')') {
                        return Err(SyntaxError(format!("missing closing ): `{}`", self.s)));
                    }
                    self.pos += 1;
                    items.push(inner);
                }
                '^' => {
                    self.pos += 1;
                    items.push(Node::Look(Look::Start));
                }
                '$' => {
                    self.pos += 1;
                    items.push(Node::Look(Look::End));
                }
                '.' => {
                    self.pos += 1;
                    items.push(Node::Class(not_newline()));
                }
                '[' => {
                    let class = self.parse_class()?;
                    items.push(Node::Class(class));
                }
                '*' | '+' | '?' => {
                    self.pos += 1;
                    let (min, max) = match c {
                        '*' => (0, None),
                        '+' => (1, None),
                        _ => (0, Some(1)),
                    };
                    self.apply_repeat(&mut items, min, max, false, last_was_repeat)?;
                    is_repeat = true;
                }
                '{' => match self.parse_repeat_braces() {
                    Some(Ok((min, max))) => {
                        self.apply_repeat(&mut items, min, max, true, last_was_repeat)?;
                        is_repeat = true;
                    }
                    Some(Err(e)) => return Err(e),
                    None => {
                        self.pos += 1;
                        items.push(Node::Literal('{'));
                    }
                },
                '\\' => self.parse_escape_outside(&mut items)?,
                _ => {
                    self.pos += c.len_utf8();
                    items.push(Node::Literal(c));
                }
            }
            last_was_repeat = is_repeat;
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    fn apply_repeat(
        &mut self,
        items: &mut Vec<Node>,
        min: u32,
        max: Option<u32>,
        counted: bool,
        last_was_repeat: bool,
    ) -> Result<(), SyntaxError> {
        // A `?` right after a repetition makes it non-greedy, which does not change whether
        // anything matches.
        if self.peek() == Some('?') {
            self.pos += 1;
        }
        if last_was_repeat {
            return Err(SyntaxError(format!(
                "invalid nested repetition operator: `{}`",
                self.s
            )));
        }
        let Some(sub) = items.pop() else {
            return Err(SyntaxError(format!(
                "missing argument to repetition operator: `{}`",
                self.s
            )));
        };
        let node = Node::Repeat {
            min,
            max,
            counted,
            sub: Box::new(sub),
        };
        if counted && (min >= 2 || max.is_some_and(|m| m >= 2)) && !repeat_is_valid(&node, 1000) {
            return Err(SyntaxError(format!("invalid repeat count: `{}`", self.s)));
        }
        items.push(node);
        Ok(())
    }

    /// `{n}`, `{n,}` or `{n,m}`: `None` when the text is not of that form (then `{` is a
    /// literal), an error when the numbers are out of range.
    fn parse_repeat_braces(&mut self) -> Option<Result<(u32, Option<u32>), SyntaxError>> {
        let rest = &self.rest().as_bytes()[1..];
        let (min, mut i) = parse_int(rest)?;
        let max;
        match rest.get(i) {
            Some(b',') => {
                i += 1;
                match rest.get(i) {
                    Some(b'}') => max = None,
                    Some(_) => {
                        let (m, used) = parse_int(&rest[i..])?;
                        i += used;
                        max = Some(m);
                    }
                    None => return None,
                }
            }
            Some(_) => max = Some(min),
            None => return None,
        }
        if rest.get(i) != Some(&b'}') {
            return None;
        }
        self.pos += 1 + i + 1;
        // parse_int reports numbers too big to hold as None-in-range (-1 in Go).
        let too_big = |n: i64| !(0..=1000).contains(&n);
        let bad = too_big(min) || max.is_some_and(|m| too_big(m) || min > m);
        if bad {
            return Some(Err(SyntaxError(format!(
                "invalid repeat count: `{}`",
                self.s
            ))));
        }
        Some(Ok((min as u32, max.map(|m| m as u32))))
    }

    fn parse_escape_outside(&mut self, items: &mut Vec<Node>) -> Result<(), SyntaxError> {
        let rest = self.rest();
        let next = rest[1..].chars().next();
        match next {
            Some('A') => {
                self.pos += 2;
                items.push(Node::Look(Look::Start));
                return Ok(());
            }
            Some('z') => {
                self.pos += 2;
                items.push(Node::Look(Look::End));
                return Ok(());
            }
            Some('b') => {
                self.pos += 2;
                items.push(Node::Look(Look::WordAscii));
                return Ok(());
            }
            Some('B') => {
                self.pos += 2;
                items.push(Node::Look(Look::WordAsciiNegate));
                return Ok(());
            }
            Some('C') => return Err(SyntaxError("invalid escape sequence: `\\C`".into())),
            Some('Q') => {
                let body = &rest[2..];
                let (lit, consumed) = match body.find("\\E") {
                    Some(end) => (&body[..end], 2 + end + 2),
                    None => (body, rest.len()),
                };
                items.extend(lit.chars().map(Node::Literal));
                self.pos += consumed;
                return Ok(());
            }
            _ => {}
        }
        if let Some((class, used)) = unicode_class(rest)? {
            self.pos += used;
            items.push(Node::Class(class));
            return Ok(());
        }
        if let Some(class) = perl_class(rest) {
            self.pos += 2;
            items.push(Node::Class(class));
            return Ok(());
        }
        let (c, used) = parse_escape(rest)?;
        self.pos += used;
        // A surrogate is a legal code point to Go but never occurs in decoded text.
        items.push(char::from_u32(c).map_or(Node::Class(ClassUnicode::empty()), Node::Literal));
        Ok(())
    }

    fn parse_class(&mut self) -> Result<ClassUnicode, SyntaxError> {
        let whole = self.s;
        let missing = || SyntaxError(format!("missing closing ]: `{whole}`"));
        self.pos += 1;
        let mut negated = false;
        if self.peek() == Some('^') {
            negated = true;
            self.pos += 1;
        }
        let mut class = ClassUnicode::empty();
        let mut first = true;
        loop {
            let rest = self.rest();
            if rest.starts_with(']') && !first {
                self.pos += 1;
                break;
            }
            first = false;
            if rest.len() > 2
                && rest.starts_with("[:")
                && let Some((named, used)) = posix_class(rest)?
            {
                class.union(&named);
                self.pos += used;
                continue;
            }
            if let Some((named, used)) = unicode_class(rest)? {
                class.union(&named);
                self.pos += used;
                continue;
            }
            if let Some(named) = perl_class(rest) {
                class.union(&named);
                self.pos += 2;
                continue;
            }
            let lo = self.parse_class_char().ok_or_else(missing)??;
            let mut hi = lo;
            let rest = self.rest().as_bytes();
            if rest.len() >= 2 && rest[0] == b'-' && rest[1] != b']' {
                self.pos += 1;
                hi = self.parse_class_char().ok_or_else(missing)??;
                if hi < lo {
                    return Err(SyntaxError(format!(
                        "invalid character class range: `{lo:x}-{hi:x}`"
                    )));
                }
            }
            push_code_points(&mut class, lo, hi);
        }
        if negated {
            class.negate();
        }
        Ok(class)
    }

    fn parse_class_char(&mut self) -> Option<Result<u32, SyntaxError>> {
        let rest = self.rest();
        let c = rest.chars().next()?;
        if c == '\\' {
            return Some(parse_escape(rest).map(|(c, used)| {
                self.pos += used;
                c
            }));
        }
        self.pos += c.len_utf8();
        Some(Ok(u32::from(c)))
    }
}

/// Adds the code points `lo..=hi` to `class`, leaving out surrogates (which Go allows in
/// ranges but which never occur in decoded text).
fn push_code_points(class: &mut ClassUnicode, lo: u32, hi: u32) {
    for (a, b) in [(lo, hi.min(0xD7FF)), (lo.max(0xE000), hi)] {
        if let (Some(a), Some(b)) = (char::from_u32(a), char::from_u32(b))
            && a <= b
        {
            class.push(ClassUnicodeRange::new(a, b));
        }
    }
}

/// Go's `parseInt`: decimal digits without a leading zero; `(value, digits used)`, with
/// values of 10^8 and more reported as -1.
fn parse_int(s: &[u8]) -> Option<(i64, usize)> {
    let first = *s.first()?;
    if !first.is_ascii_digit() {
        return None;
    }
    if s.len() >= 2 && first == b'0' && s[1].is_ascii_digit() {
        return None;
    }
    let used = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut n: i64 = 0;
    for &d in &s[..used] {
        if n >= 100_000_000 {
            n = -1;
            break;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some((n, used))
}

fn repeat_is_valid(node: &Node, mut n: u32) -> bool {
    match node {
        Node::Repeat {
            min,
            max,
            counted,
            sub,
        } => {
            if *counted {
                let m = match max {
                    Some(0) => return true,
                    Some(m) => *m,
                    None => *min,
                };
                if m > n {
                    return false;
                }
                n = n.checked_div(m).unwrap_or(n);
            }
            repeat_is_valid(sub, n)
        }
        Node::Concat(subs) | Node::Alternate(subs) => subs.iter().all(|s| repeat_is_valid(s, n)),
        _ => true,
    }
}

/// A single-character escape (`s` starts at the backslash): `(char, bytes used)`.
fn parse_escape(s: &str) -> Result<(u32, usize), SyntaxError> {
    let invalid = |len: usize| {
        let shown: String = s.chars().take(len).collect();
        SyntaxError(format!("invalid escape sequence: `{shown}`"))
    };
    let t = &s[1..];
    let Some(c) = t.chars().next() else {
        return Err(SyntaxError(
            "trailing backslash at end of expression".into(),
        ));
    };
    let after = &t[c.len_utf8()..];
    let used = 1 + c.len_utf8();
    match c {
        '1'..='7' | '0' => {
            // A single non-zero digit would be a backreference, which Go does not support.
            let follows_octal = after
                .as_bytes()
                .first()
                .is_some_and(|b| (b'0'..=b'7').contains(b));
            if c != '0' && !follows_octal {
                return Err(invalid(2));
            }
            let mut r = c as u32 - '0' as u32;
            let mut extra = 0;
            for &b in after.as_bytes().iter().take(2) {
                if !(b'0'..=b'7').contains(&b) {
                    break;
                }
                r = r * 8 + u32::from(b - b'0');
                extra += 1;
            }
            Ok((r, used + extra))
        }
        'x' => {
            let mut chars = after.char_indices();
            match chars.next() {
                None => Err(invalid(2)),
                Some((_, '{')) => {
                    let mut r: u32 = 0;
                    for (digits, (i, d)) in chars.enumerate() {
                        if d == '}' {
                            if digits == 0 {
                                return Err(invalid(3));
                            }
                            return Ok((r, used + i + 1));
                        }
                        let Some(v) = d.to_digit(16) else {
                            return Err(invalid(used + i));
                        };
                        r = r * 16 + v;
                        if r > 0x10FFFF {
                            return Err(invalid(used + i));
                        }
                    }
                    Err(invalid(s.len()))
                }
                Some((_, x)) => {
                    let y = after[x.len_utf8()..].chars().next();
                    match (x.to_digit(16), y.and_then(|y| y.to_digit(16))) {
                        (Some(x), Some(y)) => Ok((x * 16 + y, used + 2)),
                        _ => Err(invalid(4)),
                    }
                }
            }
        }
        'a' => Ok((0x07, used)),
        'f' => Ok((0x0C, used)),
        'n' => Ok((0x0A, used)),
        'r' => Ok((0x0D, used)),
        't' => Ok((0x09, used)),
        'v' => Ok((0x0B, used)),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok((u32::from(c), used)),
        _ => Err(invalid(2)),
    }
}

fn ranges(pairs: &[(char, char)]) -> ClassUnicode {
    ClassUnicode::new(pairs.iter().map(|&(a, b)| ClassUnicodeRange::new(a, b)))
}

fn not_newline() -> ClassUnicode {
    let mut c = ranges(&[('\n', '\n')]);
    c.negate();
    c
}

/// `\d \D \s \S \w \W` with Go's ASCII definitions (`\s` is `[\t\n\f\r ]`).
fn perl_class(s: &str) -> Option<ClassUnicode> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'\\' {
        return None;
    }
    let mut class = match b[1].to_ascii_lowercase() {
        b'd' => ranges(&[('0', '9')]),
        b's' => ranges(&[('\t', '\n'), ('\x0C', '\r'), (' ', ' ')]),
        b'w' => ranges(&[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]),
        _ => return None,
    };
    if b[1].is_ascii_uppercase() {
        class.negate();
    }
    Some(class)
}

/// `[:name:]` and `[:^name:]` inside a class. Like Go, looks for the closing `:]` anywhere
/// in the rest of the expression, and rejects unknown names.
fn posix_class(s: &str) -> Result<Option<(ClassUnicode, usize)>, SyntaxError> {
    let Some(end) = s[2..].find(":]") else {
        return Ok(None);
    };
    let name = &s[..end + 4];
    let (negated, bare) = match name[2..name.len() - 2].strip_prefix('^') {
        Some(bare) => (true, bare),
        None => (false, &name[2..name.len() - 2]),
    };
    let mut class = match bare {
        "alnum" => ranges(&[('0', '9'), ('A', 'Z'), ('a', 'z')]),
        "alpha" => ranges(&[('A', 'Z'), ('a', 'z')]),
        "ascii" => ranges(&[('\0', '\x7F')]),
        "blank" => ranges(&[('\t', '\t'), (' ', ' ')]),
        "cntrl" => ranges(&[('\0', '\x1F'), ('\x7F', '\x7F')]),
        "digit" => ranges(&[('0', '9')]),
        "graph" => ranges(&[('!', '~')]),
        "lower" => ranges(&[('a', 'z')]),
        "print" => ranges(&[(' ', '~')]),
        "punct" => ranges(&[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')]),
        "space" => ranges(&[('\t', '\r'), (' ', ' ')]),
        "upper" => ranges(&[('A', 'Z')]),
        "word" => ranges(&[('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')]),
        "xdigit" => ranges(&[('0', '9'), ('A', 'F'), ('a', 'f')]),
        _ => {
            return Err(SyntaxError(format!(
                "invalid character class range: `{name}`"
            )));
        }
    };
    if negated {
        class.negate();
    }
    Ok(Some((class, name.len())))
}

/// `\pL`, `\p{Greek}`, `\PL`, `\p{^Greek}`: `(class, bytes used)`, or an error for names Go
/// does not know. `None` when `s` does not start with `\p` or `\P`.
fn unicode_class(s: &str) -> Result<Option<(ClassUnicode, usize)>, SyntaxError> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'\\' || (b[1] != b'p' && b[1] != b'P') {
        return Ok(None);
    }
    let mut negated = b[1] == b'P';
    let after = &s[2..];
    let (mut name, used) = match after.chars().next() {
        Some('{') => match s.find('}') {
            Some(end) => (&s[3..end], end + 1),
            None => {
                return Err(SyntaxError(format!("invalid character class range: `{s}`")));
            }
        },
        Some(c) => (&after[..c.len_utf8()], 2 + c.len_utf8()),
        None => ("", 2),
    };
    if let Some(bare) = name.strip_prefix('^') {
        negated = !negated;
        name = bare;
    }
    let known = name == "Any" || GO_CATEGORIES.contains(&name) || GO_SCRIPTS.contains(&name);
    if !known {
        return Err(SyntaxError(format!(
            "invalid character class range: `{}`",
            &s[..used]
        )));
    }
    let mut class = if name == "Any" {
        ranges(&[('\0', char::MAX)])
    } else {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(&format!("\\p{{{name}}}"))
            .map_err(|e| SyntaxError(format!("unicode class {name}: {e}")))?;
        match hir.kind() {
            regex_syntax::hir::HirKind::Class(Class::Unicode(c)) => c.clone(),
            _ => ClassUnicode::empty(),
        }
    };
    if negated {
        class.negate();
    }
    Ok(Some((class, used)))
}

fn to_hir(node: &Node) -> Hir {
    match node {
        Node::Empty => Hir::empty(),
        Node::Literal(c) => Hir::literal(c.to_string().into_bytes()),
        Node::Class(c) => Hir::class(Class::Unicode(c.clone())),
        Node::Look(l) => Hir::look(*l),
        Node::Repeat { min, max, sub, .. } => Hir::repetition(Repetition {
            min: *min,
            max: *max,
            greedy: true,
            sub: Box::new(to_hir(sub)),
        }),
        Node::Concat(items) => Hir::concat(items.iter().map(to_hir).collect()),
        Node::Alternate(items) => Hir::alternation(items.iter().map(to_hir).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(re: &str) -> bool {
        parse(re).is_ok()
    }

    #[test]
    fn accepts_what_go_accepts() {
        for re in [
            "^a[^/]*$",
            "^(.*/)?b$",
            "^[[:alpha:]]$",
            "^\\pL$",
            "^\\p{Greek}$",
            "^a{2,3}$",
            "^a{,3}$",
            "^a{$",
            "^\\Qa*b$",
            "^\\x41\\x{42}$",
            "^\\012$",
            "^\\0$",
            "^]$",
            "^[]a]$",
            "^[a-]$",
            "^^a$",
            "^a*?$",
            "^(a|b)+$",
            "^\\_$",
            "^()$",
            "^[\\d\\s]$",
        ] {
            assert!(ok(re), "{re} should parse: {:?}", parse(re));
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for re in [
            "^a**$",
            "^a*+$",
            "*",
            "^(*)$",
            "^a|*$",
            "^[a$",
            "^(a$",
            "^a)$",
            "^\\1$",
            "^\\8$",
            "^\\e$",
            "^\\C$",
            "^[[:foo:]]$",
            "^\\p{Foo}$",
            "^\\p{greek}$",
            "^[z-a]$",
            "^a{1001}$",
            "^(a{100}){100}$",
            "^\\x{110000}$",
            "^\\",
            "^\\é$",
            "^a{2}{3}$",
        ] {
            assert!(!ok(re), "{re} should be rejected");
        }
    }
}
