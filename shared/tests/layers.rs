//! The layers of `shared/src` point one way and have no import cycles (docs/architecture.md, "Rules
//! that keep it simple"). Reads the sources: each file is a module; its imports are the
//! `crate::`, `super::` and `self::` paths of its `use` declarations and of its code
//! (test modules at the end of a file are left out: tests may look anywhere). A module's
//! own submodules, named by relative paths, belong to it and are not imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The store's shared parts; every other store module is one entity's.
const STORE_SHARED: [&str; 7] = ["keys", "items", "tx", "read", "pieces", "places", "schema"];

/// Every module of `shared/src` (`crate` for lib.rs, `a::b` for a/b.rs or a/b/mod.rs)
/// with its source.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                walk(&path, &[prefix, &[name]].concat(), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match name.as_str() {
                    "lib" | "mod" => prefix.to_vec(),
                    _ => [prefix, &[name]].concat(),
                };
                let key = if module.is_empty() { "crate".to_string() } else { module.join("::") };
                out.insert(key, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[], &mut out);
    out
}

/// The source without its test module and comments.
fn code(source: &str) -> String {
    let mut out = String::new();
    for line in source.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The paths a `use` tree names, braces expanded: `a::{b, c::d}` -> `a::b`, `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap().trim();
        return if path.is_empty() { vec![] } else { vec![path.to_string()] };
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .flat_map(expand)
        .map(|p| if p == "self" { prefix.trim_end_matches("::").to_string() } else { format!("{prefix}{p}") })
        .collect()
}

/// The crate paths a module's code names.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    // `use` declarations, however many lines they span.
    while let Some(i) = rest.find("use ") {
        let at_word = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric() && rest.as_bytes()[i - 1] != b'_';
        let Some(end) = rest[i..].find(';') else { break };
        if at_word {
            out.extend(expand(&rest[i + 4..i + end]));
        }
        rest = &rest[i + 4..];
    }
    // Paths in code: `crate::a::b`, `super::a`.
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        for (i, _) in code.match_indices(start) {
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':') {
                continue;
            }
            let len = code[i..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(0);
            out.push(code[i..i + len].trim_end_matches(':').to_string());
        }
    }
    out.retain(|p| p.starts_with("crate::") || p.starts_with("super::") || p.starts_with("self::"));
    out
}

/// The module a path leads into: the longest prefix that is a module.
fn resolve(
    from: &str,
    path: &str,
    modules: &BTreeMap<String, String>,
    root_reexports: &BTreeMap<String, String>,
) -> String {
    let here: Vec<&str> = if from == "crate" { vec![] } else { from.split("::").collect() };
    let mut segments = path.split("::");
    let mut at: Vec<String> = match segments.next() {
        Some("crate") => vec![],
        Some("self") => here.iter().map(|s| s.to_string()).collect(),
        _ => here[..here.len().saturating_sub(1)].iter().map(|s| s.to_string()).collect(),
    };
    for segment in segments {
        if segment == "super" {
            at.pop();
            continue;
        }
        let next = [at.clone(), vec![segment.to_string()]].concat().join("::");
        if modules.contains_key(&next) {
            at.push(segment.to_string());
        } else {
            if at.is_empty() {
                if let Some(m) = root_reexports.get(segment) {
                    return m.clone();
                }
            }
            break;
        }
    }
    if at.is_empty() {
        "crate".into()
    } else {
        at.join("::")
    }
}

/// Which module imports which.
fn graph() -> Graph {
    let modules = modules();
    // `pub use config::Ctx;` in lib.rs: `crate::Ctx` is config's.
    let root_reexports: BTreeMap<String, String> = code(&modules["crate"])
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub use ")?.strip_suffix(';').map(str::to_owned))
        .filter_map(|p| {
            let (module, name) = p.rsplit_once("::")?;
            Some((name.to_string(), module.to_string()))
        })
        .collect();
    let mut g = Graph::new();
    for (module, source) in &modules {
        let deps = g.entry(module.clone()).or_default();
        for path in paths(&code(source)) {
            let to = resolve(module, &path, &modules, &root_reexports);
            let own_child = to.starts_with(&format!("{module}::"));
            if to != *module && !own_child {
                deps.insert(to);
            }
        }
    }
    g
}

/// The layer of a module: its top-level module.
fn layer(module: &str) -> &str {
    module.split("::").next().unwrap()
}

/// A cycle of the graph, if it has one.
fn cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(n: &str, g: &Graph, state: &mut BTreeMap<String, u8>, stack: &mut Vec<String>) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|s| s == m).unwrap();
                    return Some([&stack[from..], std::slice::from_ref(m)].concat());
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if !state.contains_key(n.as_str()) {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn layers(g: &Graph) -> Graph {
    let mut out = Graph::new();
    for (from, deps) in g {
        let entry = out.entry(layer(from).to_string()).or_default();
        entry.extend(deps.iter().map(|d| layer(d).to_string()).filter(|d| d != layer(from)));
    }
    out
}

#[test]
fn the_parser_sees_imports() {
    assert_eq!(
        expand("super::{keys, tx::{key, Item}, Store}"),
        ["super::keys", "super::tx::key", "super::tx::Item", "super::Store"]
    );
    assert_eq!(expand("crate::store::outbox::{self, Event}"), ["crate::store::outbox", "crate::store::outbox::Event"]);
    let g = graph();
    assert!(g["store::members"].contains("store::pieces"), "{:?}", g["store::members"]);
    assert!(g["api::members"].contains("config"), "crate::Ctx is config's: {:?}", g["api::members"]);
    assert!(g["http"].contains("page"));
}

#[test]
fn no_import_cycles_among_modules() {
    let g = graph();
    assert_eq!(cycle(&g), None, "an import cycle among the modules of shared/src");
}

#[test]
fn no_import_cycles_among_layers() {
    let l = layers(&graph());
    assert_eq!(cycle(&l), None, "an import cycle among the layers: {l:#?}");
}

/// Every top-level module of `shared/src` (`crate` is lib.rs) with the layers it may
/// import, lowest first: each names only layers above it in this list, so the layers
/// cannot form a cycle, and a new top-level module fails the test until it is placed here.
const LAYERS: [(&str, &[&str]); 18] = [
    ("crate", &[]),
    ("page", &[]),
    ("permissions", &[]),
    ("telemetry", &[]),
    ("domain", &[]),
    // Which AWS errors are throttling or unavailability, for every client.
    ("aws", &[]),
    ("store", &["aws", "domain", "page"]),
    ("http", &["domain", "page"]),
    ("mail", &["domain"]),
    ("exports", &["domain"]),
    ("objects", &["aws", "domain"]),
    ("config", &["aws", "domain", "mail", "permissions", "store"]),
    ("roster", &["config", "domain", "page", "store"]),
    ("docs", &["http"]),
    ("api", &["config", "domain", "http", "objects", "page", "permissions", "roster", "store"]),
    ("events", &["config", "domain", "exports", "mail", "page", "roster", "store", "telemetry"]),
    // The OpenAPI document describes the api from beside it: the api never reads it.
    ("openapi", &["api", "domain", "http", "page", "permissions", "store"]),
    ("lambda", &["api", "config", "docs", "events", "http", "permissions", "telemetry"]),
];

#[test]
fn the_layer_list_is_ordered_and_names_every_top_level_module() {
    for (i, (layer, may)) in LAYERS.iter().enumerate() {
        for dep in *may {
            let at = LAYERS.iter().position(|(l, _)| l == dep);
            assert!(at.is_some_and(|at| at < i), "{layer} may import {dep}, which is not listed before it");
        }
    }
    let listed: BTreeSet<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
    let modules = modules();
    let found: BTreeSet<&str> = modules.keys().map(|m| layer(m)).collect();
    assert_eq!(listed, found, "LAYERS must name every top-level module of shared/src");
}

#[test]
fn layers_point_one_way() {
    let l = layers(&graph());
    for (layer, may) in LAYERS {
        let got = l.get(layer).cloned().unwrap_or_default();
        let extra: Vec<&String> = got.iter().filter(|d| !may.contains(&d.as_str())).collect();
        assert!(extra.is_empty(), "{layer} imports {extra:?}, which LAYERS does not allow it");
    }
}

#[test]
fn store_entity_modules_use_only_the_shared_parts() {
    // Entity modules use only the shared parts; the shared parts use no entity module.
    for (module, deps) in graph().iter().filter(|(m, _)| m.starts_with("store::")) {
        for dep in deps.iter().filter_map(|d| d.strip_prefix("store::")) {
            assert!(STORE_SHARED.contains(&dep), "{module} imports the entity module store::{dep}");
        }
    }
}

#[test]
fn api_resource_modules_do_not_import_each_other() {
    // Resource modules use only `api::common` (not one another, nor the route table);
    // `api::common` uses no resource module and not the route table.
    for (module, deps) in graph().iter().filter(|(m, _)| m.starts_with("api::")) {
        for dep in deps.iter().filter(|d| *d == "api" || d.starts_with("api::")) {
            assert!(dep.starts_with("api::common"), "{module} imports {dep}");
        }
    }
}
