//! The architecture holds: no module uses a module of a higher layer. The layers are the two
//! tables of README.md's architecture section, so the README's picture cannot drift from the
//! imports either. The emulator (`-` in the table) may be used by anything and uses nothing.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The `layer module` rows of the README table after `marker`; `-` marks a module apart.
fn layers(readme: &str, marker: &str) -> BTreeMap<String, Option<u32>> {
    let start = readme
        .find(marker)
        .unwrap_or_else(|| panic!("README.md has no `{marker}` table"));
    let block = readme[start..]
        .split("```")
        .nth(1)
        .expect("the table follows its marker in a code block");
    block
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let layer = words.next()?;
            let module = words.next()?;
            if layer == "layer" {
                return None;
            }
            let layer = (layer != "-").then(|| layer.parse().expect("a layer is a number"));
            Some((module.to_owned(), layer))
        })
        .collect()
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/ui/app.rs` -> [ui, app]; `src/store/mod.rs` -> [store].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .strip_prefix(src)
        .unwrap()
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The first two segments of every path a file names through `crate::`, `super::` or `self::`,
/// resolved against the file's own module. `use x::{a, b}` names `x::a` and `x::b`.
fn used_paths(text: &str, module: &[String], is_mod_file: bool) -> BTreeSet<Vec<String>> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", {
            // In `a/b.rs`, super is `a`; in `a/b/mod.rs`, super is `a` too.
            let mut m = module.to_vec();
            m.pop();
            m
        }),
        (
            "self::",
            if is_mod_file {
                module.to_vec()
            } else {
                Vec::new()
            },
        ),
    ] {
        if prefix == "self::" && !is_mod_file {
            continue;
        }
        for (i, _) in code.match_indices(prefix) {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[i + prefix.len()..];
            let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                group
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or("").to_owned())
                    .filter(|n| !n.is_empty() && n != "self")
                    .collect()
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                vec![name]
            };
            for name in names {
                let mut path = base.clone();
                path.push(name.clone());
                // The second segment, for paths into `ui`.
                let after = rest
                    .strip_prefix(&format!("{name}::"))
                    .map(|r| {
                        r.chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect::<String>()
                    })
                    .filter(|s| !s.is_empty());
                if let Some(after) = after {
                    path.push(after);
                }
                path.truncate(2);
                found.insert(path);
            }
        }
    }
    found
}

#[test]
fn no_module_uses_a_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let crate_layers = layers(&readme, "<!-- layers: crate -->");
    let ui_layers = layers(&readme, "<!-- layers: ui -->");
    let src = root.join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    let mut seen_top = BTreeSet::new();
    let mut seen_ui = BTreeSet::new();
    for file in &files {
        if file.file_name().is_some_and(|n| n == "main.rs") {
            continue; // The binary uses the library by its name, like any user of it.
        }
        if file.file_name().is_some_and(|n| n == "build.rs") {
            continue; // The build script is no module: it only sets link options.
        }
        let module = module_of(&src, file);
        let Some(top) = module.first() else {
            continue; // lib.rs declares the modules.
        };
        seen_top.insert(top.clone());
        let is_mod = file.file_name().is_some_and(|n| n == "mod.rs");
        let text = std::fs::read_to_string(file).unwrap();
        let own = crate_layers.get(top).unwrap_or_else(|| {
            panic!(
                "{top} (from {}) is not in README.md's layer table",
                file.display()
            )
        });
        let own_ui = if top == "ui" && module.len() > 1 {
            seen_ui.insert(module[1].clone());
            Some(ui_layers.get(&module[1]).unwrap_or_else(|| {
                panic!("ui::{} is not in README.md's ui layer table", module[1])
            }))
        } else {
            None
        };
        for used in used_paths(&text, &module, is_mod) {
            let used_top = &used[0];
            let Some(used_layer) = crate_layers.get(used_top) else {
                continue; // A name in this module (a function, a type), not a module.
            };
            let shown = format!("{} uses {}", module.join("::"), used.join("::"));
            if used_top != top {
                match (own, used_layer) {
                    // The emulator stands apart: anything may run it; it uses nothing else.
                    (_, None) => {}
                    (Some(a), Some(b)) if b < a => {}
                    _ => violations.push(shown),
                }
                continue;
            }
            // Within `ui`, its own layers.
            if let (Some(Some(a)), Some(sub)) = (own_ui, used.get(1))
                && let Some(Some(b)) = ui_layers.get(sub)
                && sub != &module[1]
                && b >= a
            {
                violations.push(shown);
            }
        }
    }
    assert!(
        violations.is_empty(),
        "arrows pointing up or sideways:\n{}",
        violations.join("\n")
    );
    let listed: BTreeSet<String> = crate_layers.keys().cloned().collect();
    assert_eq!(
        listed, seen_top,
        "README's crate table lists exactly the modules in src/"
    );
    let listed_ui: BTreeSet<String> = ui_layers.keys().cloned().collect();
    assert_eq!(
        listed_ui, seen_ui,
        "README's ui table lists exactly the modules in src/ui/"
    );
}

#[test]
fn the_checker_sees_every_kind_of_path() {
    let module = ["ui".to_owned(), "app".to_owned()];
    let paths = used_paths(
        "use super::{geometry, keys::Command};\nuse crate::store::Store;\nlet x = crate::days::clock(c);\n// crate::bench in a comment\n",
        &module,
        false,
    );
    let names: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        names,
        ["days::clock", "store::Store", "ui::geometry", "ui::keys"]
    );
}
