//! The bake and GitHub Actions plans, read back: buildx is not installed here, so the HCL is
//! parsed by a small reader of the HCL subset bake files use (written for this test), and the
//! workflow by the YAML parser in the workspace. Both are checked for structure: every stage
//! the target needs is built or cached, the group lists every target, cache refs line up, and
//! values (build args with quotes and `${...}`) come back exactly as given.

use std::collections::BTreeMap;

use kasane_build::plan::{self, ImageRepo, Mode, PlanRequest};
use kasane_build::{BuildOptions, stage_graph};
use yaml_rust2::{Yaml, YamlLoader};

mod hcl {
    //! Blocks, attributes, strings, lists and objects: enough for docker-bake.hcl.

    use std::collections::BTreeMap;

    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Value {
        Str(String),
        List(Vec<Value>),
        Object(BTreeMap<String, Value>),
        Ident(String),
    }

    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Block {
        pub(crate) kind: String,
        pub(crate) labels: Vec<String>,
        pub(crate) attrs: BTreeMap<String, Value>,
        pub(crate) blocks: Vec<Block>,
    }

    impl Value {
        pub(crate) fn str(&self) -> &str {
            match self {
                Value::Str(s) => s,
                other => panic!("not a string: {other:?}"),
            }
        }
        pub(crate) fn strs(&self) -> Vec<&str> {
            match self {
                Value::List(items) => items.iter().map(Value::str).collect(),
                other => panic!("not a list: {other:?}"),
            }
        }
    }

    struct Reader<'a> {
        s: &'a [u8],
        at: usize,
    }

    pub(crate) fn parse(text: &str) -> Result<Block, String> {
        let mut r = Reader {
            s: text.as_bytes(),
            at: 0,
        };
        let body = r.body(false)?;
        Ok(Block {
            kind: String::new(),
            labels: Vec::new(),
            ..body
        })
    }

    impl Reader<'_> {
        fn err<T>(&self, what: &str) -> Result<T, String> {
            Err(format!("{what} at byte {}", self.at))
        }

        /// Skips blanks, comments and (if `newlines`) line breaks.
        fn skip(&mut self, newlines: bool) {
            while self.at < self.s.len() {
                match self.s[self.at] {
                    b' ' | b'\t' | b'\r' => self.at += 1,
                    b'\n' if newlines => self.at += 1,
                    b'#' => {
                        while self.at < self.s.len() && self.s[self.at] != b'\n' {
                            self.at += 1;
                        }
                    }
                    _ => break,
                }
            }
        }

        fn peek(&self) -> Option<u8> {
            self.s.get(self.at).copied()
        }

        fn expect(&mut self, c: u8) -> Result<(), String> {
            self.skip(true);
            if self.peek() == Some(c) {
                self.at += 1;
                Ok(())
            } else {
                self.err(&format!("expected {:?}", c as char))
            }
        }

        fn ident(&mut self) -> Result<String, String> {
            let start = self.at;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            {
                self.at += 1;
            }
            if start == self.at {
                return self.err("expected an identifier");
            }
            Ok(String::from_utf8(self.s[start..self.at].to_vec()).unwrap())
        }

        fn string(&mut self) -> Result<String, String> {
            self.expect(b'"')?;
            let mut out = String::new();
            let rest = std::str::from_utf8(&self.s[self.at..]).unwrap();
            let mut chars = rest.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        self.at += i + 1;
                        return Ok(out);
                    }
                    '\n' => break,
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('"') => out.push('"'),
                        Some('\\') => out.push('\\'),
                        Some('n') => out.push('\n'),
                        Some('r') => out.push('\r'),
                        Some('t') => out.push('\t'),
                        Some('u') => {
                            let hex: String = (0..4)
                                .filter_map(|_| chars.next().map(|(_, c)| c))
                                .collect();
                            let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                            out.push(char::from_u32(code).ok_or("bad \\u escape")?);
                        }
                        _ => return self.err("bad escape"),
                    },
                    '$' | '%' => {
                        // `$${` is a literal `${`; a lone `${` would interpolate.
                        let rest: String = chars.clone().take(2).map(|(_, c)| c).collect();
                        if rest == format!("{c}{{") {
                            chars.next();
                            chars.next();
                            out.push(c);
                            out.push('{');
                        } else if rest.starts_with('{') {
                            return self.err("an interpolation or template directive");
                        } else {
                            out.push(c);
                        }
                    }
                    c => out.push(c),
                }
            }
            self.err("unterminated string")
        }

        fn value(&mut self) -> Result<Value, String> {
            self.skip(true);
            match self.peek() {
                Some(b'"') => Ok(Value::Str(self.string()?)),
                Some(b'[') => {
                    self.at += 1;
                    let mut items = Vec::new();
                    loop {
                        self.skip(true);
                        if self.peek() == Some(b']') {
                            self.at += 1;
                            return Ok(Value::List(items));
                        }
                        items.push(self.value()?);
                        self.skip(true);
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b']') => {}
                            _ => return self.err("expected , or ]"),
                        }
                    }
                }
                Some(b'{') => {
                    self.at += 1;
                    let mut map = BTreeMap::new();
                    loop {
                        self.skip(true);
                        if self.peek() == Some(b'}') {
                            self.at += 1;
                            return Ok(Value::Object(map));
                        }
                        let key = if self.peek() == Some(b'"') {
                            self.string()?
                        } else {
                            self.ident()?
                        };
                        self.expect(b'=')?;
                        let v = self.value()?;
                        if map.insert(key, v).is_some() {
                            return self.err("duplicate key");
                        }
                        self.skip(false);
                        if self.peek() == Some(b',') {
                            self.at += 1;
                        }
                    }
                }
                Some(_) => Ok(Value::Ident(self.ident()?)),
                None => self.err("expected a value"),
            }
        }

        fn body(&mut self, nested: bool) -> Result<Block, String> {
            let mut block = Block {
                kind: String::new(),
                labels: Vec::new(),
                attrs: BTreeMap::new(),
                blocks: Vec::new(),
            };
            loop {
                self.skip(true);
                match self.peek() {
                    None if !nested => return Ok(block),
                    None => return self.err("unclosed block"),
                    Some(b'}') if nested => {
                        self.at += 1;
                        return Ok(block);
                    }
                    _ => {}
                }
                let name = self.ident()?;
                self.skip(false);
                if self.peek() == Some(b'=') {
                    self.at += 1;
                    let v = self.value()?;
                    if block.attrs.insert(name, v).is_some() {
                        return self.err("duplicate attribute");
                    }
                    self.skip(false);
                    if !matches!(self.peek(), Some(b'\n') | None) {
                        return self.err("expected a line break after an attribute");
                    }
                    continue;
                }
                let mut labels = Vec::new();
                while self.peek() == Some(b'"') {
                    labels.push(self.string()?);
                    self.skip(false);
                }
                self.expect(b'{')?;
                let mut inner = self.body(true)?;
                inner.kind = name;
                inner.labels = labels;
                block.blocks.push(inner);
            }
        }
    }
}

const NEXTJS: &str = "\
FROM node:20-alpine AS base
FROM base AS deps
RUN npm ci
FROM base AS dev.tools
COPY --from=deps /a /a
FROM alpine
RUN echo unnamed > /u
FROM base AS builder
COPY --from=deps /a /a
COPY --from=3 /u /u
FROM base AS production
COPY --from=builder /b /b
";

fn request<'a>(
    graph: &'a kasane_build::StageGraph,
    target: Option<&str>,
    push: bool,
) -> PlanRequest<'a> {
    PlanRequest {
        graph,
        target: graph.resolve_target(target).unwrap(),
        image: ImageRepo::parse("127.0.0.1:5000/kasane/app").unwrap(),
        dockerfile: "path with space/Dockerfile".into(),
        context: "ctx \"dir\"".into(),
        build_args: vec![
            ("PLAIN".into(), "1".into()),
            (
                "TRICKY".into(),
                "a \"quoted\" ${NOT_EXPANDED} %{if x} $${y} $$ back\\slash".into(),
            ),
        ],
        platforms: vec!["linux/amd64".into()],
        push,
        tags: vec!["127.0.0.1:5000/kasane/app:latest".into()],
        prepared: None,
    }
}

fn graph(text: &str) -> kasane_build::StageGraph {
    stage_graph(
        &kasane_dockerfile::parse(text).unwrap(),
        &BuildOptions::default(),
    )
    .unwrap()
}

#[test]
fn bake_file_reads_back_with_one_target_per_stage_and_a_group() {
    let g = graph(NEXTJS);
    for push in [true, false] {
        let r = request(&g, Some("production"), push);
        let text = plan::render(&r, Mode::Bake).unwrap();
        let file = hcl::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let groups: Vec<_> = file.blocks.iter().filter(|b| b.kind == "group").collect();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].labels, ["default"]);
        let targets: BTreeMap<&str, &hcl::Block> = file
            .blocks
            .iter()
            .filter(|b| b.kind == "target")
            .map(|b| (b.labels[0].as_str(), b))
            .collect();
        // Every named stage production needs, and production; the unnamed stage 3 is cached
        // through the mode=max caches of builder and production; dev.tools is not needed.
        assert_eq!(
            groups[0].attrs["targets"].strs(),
            ["base", "deps", "builder", "production"]
        );
        assert_eq!(targets.len(), 4);
        for (name, t) in &targets {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
            assert_eq!(t.attrs["target"].str(), *name);
            assert_eq!(t.attrs["dockerfile"].str(), "path with space/Dockerfile");
            assert_eq!(t.attrs["context"].str(), "ctx \"dir\"");
            let hcl::Value::Object(args) = &t.attrs["args"] else {
                panic!()
            };
            assert_eq!(
                args["TRICKY"].str(),
                "a \"quoted\" ${NOT_EXPANDED} %{if x} $${y} $$ back\\slash"
            );
            assert_eq!(t.attrs["platforms"].strs(), ["linux/amd64"]);
            let own = format!("type=registry,ref=127.0.0.1:5000/kasane/app:cache-{name}");
            assert_eq!(t.attrs["cache-to"].strs(), [format!("{own},mode=max")]);
            assert!(t.attrs["cache-from"].strs().contains(&own.as_str()));
        }
        assert_eq!(
            targets["builder"].attrs["cache-from"].strs(),
            [
                "type=registry,ref=127.0.0.1:5000/kasane/app:cache-base",
                "type=registry,ref=127.0.0.1:5000/kasane/app:cache-deps",
                "type=registry,ref=127.0.0.1:5000/kasane/app:cache-builder",
            ]
        );
        assert_eq!(targets["deps"].attrs["output"].strs(), ["type=cacheonly"]);
        let production = targets["production"];
        assert_eq!(
            production.attrs["output"].strs(),
            [if push { "type=registry" } else { "type=docker" }]
        );
        assert_eq!(
            production.attrs["tags"].strs(),
            [
                "127.0.0.1:5000/kasane/app:production",
                "127.0.0.1:5000/kasane/app:latest"
            ]
        );
        assert!(
            !targets
                .values()
                .any(|t| t.attrs.contains_key("tags") && t.labels[0] != "production")
        );
    }
}

#[test]
fn bake_target_names_are_sanitised() {
    let g = graph(NEXTJS);
    let r = request(&g, Some("dev.tools"), true);
    let file = hcl::parse(&plan::render(&r, Mode::Bake).unwrap()).unwrap();
    let t = file
        .blocks
        .iter()
        .find(|b| b.labels == ["dev_tools"])
        .expect("dev_tools target");
    assert_eq!(t.attrs["target"].str(), "dev.tools");
}

#[test]
fn the_hcl_reader_refuses_what_bake_would_interpolate() {
    assert!(hcl::parse("a = \"${X}\"\n").is_err());
    assert!(hcl::parse("a = \"%{if}\"\n").is_err());
    assert_eq!(
        hcl::parse("a = \"$${X}\"\n").unwrap().attrs["a"].str(),
        "${X}"
    );
    assert_eq!(
        hcl::parse("a = \"$$${X}\"\n").unwrap().attrs["a"].str(),
        "$${X}"
    );
    assert_eq!(hcl::parse("a = \"$$x\"\n").unwrap().attrs["a"].str(), "$$x");
    assert!(hcl::parse("target \"x\" {\n").is_err());
    assert!(hcl::parse("a = \"x\" b = \"y\"\n").is_err());
}

fn get<'y>(y: &'y Yaml, path: &[&str]) -> &'y Yaml {
    path.iter().fold(y, |y, k| &y[*k])
}

#[test]
fn github_actions_workflow_reads_back() {
    let g = graph(NEXTJS);
    for push in [true, false] {
        let r = request(&g, Some("production"), push);
        let text = plan::render(&r, Mode::Gha).unwrap();
        let docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(docs.len(), 1);
        let wf = &docs[0];
        assert_eq!(wf["on"].as_vec().unwrap().len(), 2);
        let job = get(wf, &["jobs", "build"]);
        assert_eq!(job["runs-on"].as_str(), Some("ubuntu-latest"));
        let steps = job["steps"].as_vec().unwrap();
        assert_eq!(steps[0]["uses"].as_str(), Some("actions/checkout@v4"));
        assert_eq!(
            steps[1]["uses"].as_str(),
            Some("docker/setup-buildx-action@v3")
        );
        let builds: Vec<&Yaml> = steps[2..].iter().collect();
        let targets: Vec<&str> = builds
            .iter()
            .map(|s| {
                assert_eq!(s["uses"].as_str(), Some("docker/build-push-action@v6"));
                s["with"]["target"].as_str().unwrap()
            })
            .collect();
        assert_eq!(targets, ["base", "deps", "builder", "production"]);
        for (s, target) in builds.iter().zip(&targets) {
            let with = &s["with"];
            assert_eq!(with["file"].as_str(), Some("path with space/Dockerfile"));
            assert_eq!(with["context"].as_str(), Some("ctx \"dir\""));
            assert_eq!(
                with["build-args"].as_str(),
                Some("PLAIN=1\nTRICKY=a \"quoted\" ${NOT_EXPANDED} %{if x} $${y} $$ back\\slash")
            );
            assert_eq!(with["platforms"].as_str(), Some("linux/amd64"));
            let scope = format!("type=gha,scope=app-{target}");
            assert_eq!(
                with["cache-to"].as_str(),
                Some(format!("{scope},mode=max").as_str())
            );
            assert!(
                with["cache-from"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .any(|l| l == scope)
            );
        }
        let last = &builds[3]["with"];
        assert_eq!(
            last["cache-from"]
                .as_str()
                .unwrap()
                .lines()
                .collect::<Vec<_>>(),
            [
                "type=gha,scope=app-base",
                "type=gha,scope=app-deps",
                "type=gha,scope=app-builder",
                "type=gha,scope=app-production"
            ]
        );
        assert_eq!(last["push"].as_bool(), Some(push));
        assert_eq!(last["load"].as_bool(), if push { None } else { Some(true) });
        assert_eq!(
            last["tags"].as_str(),
            Some("127.0.0.1:5000/kasane/app:production\n127.0.0.1:5000/kasane/app:latest")
        );
        assert_eq!(
            builds[0]["with"]["outputs"].as_str(),
            Some("type=cacheonly")
        );
    }
}
