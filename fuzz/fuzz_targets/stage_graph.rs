//! Any text as a Dockerfile: the stage graph, every target's needs, levels and images, pruning
//! and every cache plan must give a result or a clear error, never panic; and a pruned file
//! must parse again into a graph whose target needs exactly the stages kept.
#![no_main]

use kasane_build::plan::{self, ImageRepo, Mode, PlanRequest};
use kasane_build::{BuildOptions, prune, stage_graph};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(df) = kasane_dockerfile::parse(text) else { return };
    let options = BuildOptions::default();
    let Ok(graph) = stage_graph(&df, &options) else { return };
    let image = ImageRepo::parse("registry.example/app").expect("a valid repository");
    for stage in graph.stages().iter().take(8) {
        let Ok(needed) = graph.needed(stage.index) else { continue };
        assert!(needed.contains(&stage.index));
        let order = graph.topological_order(&needed);
        assert_eq!(order.len(), needed.len());
        let levels = graph.levels(&needed);
        assert_eq!(levels.iter().map(Vec::len).sum::<usize>(), needed.len());
        let _ = graph.external_images(&needed);

        let pruned = prune(&df, &graph, stage.index).expect("pruning a valid graph");
        // The pruned file's target needs every stage kept (with the target set, as
        // TARGETSTAGE can name a base).
        if let Some(name) = &stage.name
            && graph.stage_by_name(name) == Some(stage.index)
        {
            let options = BuildOptions { target: Some(name.clone()), ..BuildOptions::default() };
            let Ok(g1) = stage_graph(&df, &options) else { continue };
            let Ok(pruned) = prune(&df, &g1, stage.index) else { continue };
            let again = kasane_dockerfile::parse(&pruned.text).expect("the pruned file parses");
            if let Ok(g2) = stage_graph(&again, &options) {
                let t2 = g2.resolve_target(Some(name)).expect("the target is still there");
                if let Ok(n2) = g2.needed(t2) {
                    assert_eq!(n2.len(), pruned.kept.len(), "{text:?}\n---\n{}", pruned.text);
                }
            }
        }

        for mode in [Mode::Legacy, Mode::Inline, Mode::Registry, Mode::Bake, Mode::Gha] {
            let Ok(prepared) = plan::prepare(&df, &graph, stage.index, mode) else { continue };
            let request = PlanRequest {
                graph: &graph,
                target: stage.index,
                image: image.clone(),
                dockerfile: "Dockerfile".into(),
                context: ".".into(),
                build_args: vec![("A".into(), "b c".into())],
                platforms: Vec::new(),
                push: true,
                tags: Vec::new(),
                prepared,
            };
            let _ = plan::render(&request, mode);
        }
    }
});
