//! The `docker-bake.hcl` plan.

use std::collections::BTreeSet;

use super::{
    Mode, PlanError, PlanRequest, PlannedStage, header_comment, targetable, untargetable_note,
};

/// An HCL string literal: quotes, backslashes and control characters
/// escaped, and `${` / `%{` doubled so bake does not interpolate them.
pub(super) fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A list on one line, or one item a line when it has several.
fn hcl_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| hcl_string(s)).collect();
    if quoted.len() <= 1 {
        return format!("[{}]", quoted.join(", "));
    }
    format!("[\n    {},\n  ]", quoted.join(",\n    "))
}

/// Bake target names allow `[A-Za-z0-9_-]`; stage names may also have `.`.
fn target_name(stage: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name: String = stage
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name == "default" {
        name.push_str("-stage");
    }
    while !taken.insert(name.clone()) {
        name.push('_');
    }
    name
}

pub(super) fn render(
    request: &PlanRequest<'_>,
    stages: &[PlannedStage],
) -> Result<String, PlanError> {
    let mut out = header_comment(request, Mode::Bake, stages);
    out.push_str(
        "#\n# docker buildx bake -f docker-bake.hcl   builds the group below; its targets run in\n\
         # parallel and each exports its own mode=max registry cache (a shared ref would be\n\
         # overwritten by whichever target finishes last).\n",
    );
    out.push_str(&untargetable_note(request, stages, "bake targets"));
    let built = targetable(request, stages);
    let mut taken = BTreeSet::new();
    let names: Vec<String> = built
        .iter()
        .map(|s| target_name(&s.name, &mut taken))
        .collect();
    out.push_str(&format!(
        "\ngroup \"default\" {{\n  targets = {}\n}}\n",
        hcl_list(&names)
    ));

    let cache_ref = |s: &PlannedStage| request.image.tag_for(&format!("cache-{}", s.name));
    for (s, bake_name) in built.iter().zip(&names) {
        let is_target = s.index == request.target;
        let mut attrs: Vec<(&str, String)> = vec![
            ("context", hcl_string(&request.context)),
            ("dockerfile", hcl_string(&request.dockerfile)),
        ];
        if let Some(name) = &request.graph.stage(s.index).name {
            attrs.push(("target", hcl_string(name)));
        }
        if !request.build_args.is_empty() {
            let pairs: Vec<String> = request
                .build_args
                .iter()
                .map(|(k, v)| format!("    {} = {}", hcl_string(k), hcl_string(v)))
                .collect();
            attrs.push(("args", format!("{{\n{}\n  }}", pairs.join("\n"))));
        }
        if !request.platforms.is_empty() {
            attrs.push(("platforms", hcl_list(&request.platforms)));
        }
        if is_target {
            let mut tags = vec![s.tag.clone()];
            tags.extend(request.tags.iter().cloned());
            attrs.push(("tags", hcl_list(&tags)));
        }
        let mut from = Vec::new();
        for need in &s.needs {
            if let Some(p) = built.iter().find(|p| p.index == *need) {
                from.push(format!("type=registry,ref={}", cache_ref(p)?));
            }
        }
        attrs.push(("cache-from", hcl_list(&from)));
        attrs.push((
            "cache-to",
            hcl_list(&[format!("type=registry,ref={},mode=max", cache_ref(s)?)]),
        ));
        let output = if !is_target {
            "type=cacheonly"
        } else if request.push {
            "type=registry"
        } else if request.platforms.len() <= 1 {
            "type=docker"
        } else {
            "type=cacheonly"
        };
        attrs.push(("output", hcl_list(&[output.to_string()])));
        let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        out.push_str(&format!("\ntarget {} {{\n", hcl_string(bake_name)));
        for (k, v) in attrs {
            out.push_str(&format!("  {k:width$} = {v}\n"));
        }
        out.push_str("}\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_never_interpolated() {
        assert_eq!(hcl_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(hcl_string("${X} %{if} $Y"), "\"$${X} %%{if} $Y\"");
        assert_eq!(hcl_string("l1\nl2"), "\"l1\\nl2\"");
        assert_eq!(hcl_string("\u{1}"), "\"\\u0001\"");
    }

    #[test]
    fn target_names_are_valid_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(target_name("build.v2", &mut taken), "build_v2");
        assert_eq!(target_name("build_v2", &mut taken), "build_v2_");
        assert_eq!(target_name("default", &mut taken), "default-stage");
    }
}
