//! The core's public operations against `tests/api.json`, the manifest
//! each language's suite compares its own surface with. The pub methods of
//! the core's types are read from `src/` (parsed with syn, so formatting,
//! attributes and file splits do not matter): an operation added to the
//! core and not to the manifest fails here, and so does one the manifest
//! lists that the core no longer has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// The manifest, read at compile time so that editing it rebuilds this test.
const MANIFEST: &str = include_str!("../../../tests/api.json");

/// A public method of a core type.
#[derive(Debug)]
struct Method {
    name: String,
    /// `T` when the method takes only `&self` and returns `&T`: on
    /// `Doorward`, that is a sub-API accessor.
    returns_ref_to: Option<String>,
}

/// The public methods of the inherent impls in `src/`, by the name of
/// their type; `#[doc(hidden)]` ones and test modules left out.
fn core_methods() -> BTreeMap<String, Vec<Method>> {
    let mut methods = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let file = syn::parse_file(&text)
                    .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
                collect(&file.items, &mut methods);
            }
        }
    }
    methods
}

fn collect(items: &[syn::Item], methods: &mut BTreeMap<String, Vec<Method>>) {
    for item in items {
        match item {
            syn::Item::Mod(m) if !is_test_module(&m.attrs) => {
                if let Some((_, items)) = &m.content {
                    collect(items, methods);
                }
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let Some(ty) = last_ident(&imp.self_ty) else {
                    continue;
                };
                let found = methods.entry(ty).or_default();
                for item in &imp.items {
                    if let syn::ImplItem::Fn(f) = item
                        && matches!(f.vis, syn::Visibility::Public(_))
                        && !is_hidden(&f.attrs)
                    {
                        found.push(Method {
                            name: f.sig.ident.to_string(),
                            returns_ref_to: returns_ref_to(&f.sig),
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

fn last_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn returns_ref_to(sig: &syn::Signature) -> Option<String> {
    let only_self = sig.inputs.len() == 1 && sig.receiver().is_some();
    match &sig.output {
        syn::ReturnType::Type(_, ty) if only_self => match &**ty {
            syn::Type::Reference(r) => last_ident(&r.elem),
            _ => None,
        },
        _ => None,
    }
}

fn is_hidden(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("doc")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|arg| arg == "hidden")
    })
}

fn is_test_module(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|arg| arg == "test")
    })
}

/// The manifest, with the questions the tests ask of it.
struct Manifest(Value);

impl Manifest {
    fn load() -> Manifest {
        Manifest(serde_json::from_str(MANIFEST).expect("tests/api.json is JSON"))
    }

    fn apis(&self) -> &serde_json::Map<String, Value> {
        self.0["apis"].as_object().expect("apis is an object")
    }

    fn strings(value: &Value) -> Vec<String> {
        value
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    fn differences(&self) -> &[Value] {
        self.0["differences"]
            .as_array()
            .expect("differences is a list")
    }

    /// Whether `language` has `operation` of `api` (or the api itself,
    /// with no operation).
    fn has(&self, language: &str, api: &str, operation: Option<&str>) -> bool {
        self.differences().iter().all(|d| {
            let applies = d["api"] == api
                && match d.get("operation") {
                    None => true,
                    Some(op) => operation.is_some_and(|o| op == o),
                };
            !applies || Self::strings(&d["in"]).iter().any(|l| l == language)
        })
    }

    /// The operations of `api` that `language` has, its constructor included.
    fn operations_in(&self, api: &str, language: &str) -> BTreeSet<String> {
        let spec = &self.apis()[api];
        if !self.has(language, api, None) {
            return BTreeSet::new();
        }
        let mut ops: BTreeSet<String> = Self::strings(&spec["operations"])
            .into_iter()
            .filter(|op| self.has(language, api, Some(op)))
            .collect();
        ops.extend(spec["constructor"].as_str().map(str::to_string));
        ops
    }
}

#[test]
fn the_core_has_exactly_the_operations_the_manifest_lists() {
    let manifest = Manifest::load();
    let methods = core_methods();
    let mut problems = Vec::new();

    // Sub-APIs are Doorward's accessors; those returning a type of the
    // root api (Auth) are flattened onto Doorward in every binding.
    let root_types = Manifest::strings(&manifest.apis()["doorward"]["rust"]);
    let accessors: BTreeMap<&str, &str> = methods["Doorward"]
        .iter()
        .filter_map(|m| {
            let ty = m.returns_ref_to.as_deref()?;
            methods.contains_key(ty).then_some((m.name.as_str(), ty))
        })
        .collect();
    for (&name, &ty) in &accessors {
        if root_types.iter().any(|t| t == ty) {
            continue;
        }
        let listed = manifest.apis().get(name).is_some_and(|api| {
            api["reached"] == "accessor" && Manifest::strings(&api["rust"]) == [ty]
        });
        if !listed {
            problems.push(format!(
                "Doorward::{name}() is a sub-API ({ty}) missing from tests/api.json: \
                 add \"{name}\": {{\"reached\": \"accessor\", \"rust\": [\"{ty}\"], \"operations\": [...]}}"
            ));
        }
    }
    for (name, api) in manifest.apis() {
        if api["reached"] == "accessor" && !accessors.contains_key(name.as_str()) {
            problems.push(format!(
                "tests/api.json lists the sub-API {name}, but Doorward has no accessor {name}()"
            ));
        }
    }

    for (name, api) in manifest.apis() {
        let types = Manifest::strings(&api["rust"]);
        let mut core = BTreeMap::new();
        for ty in &types {
            let Some(found) = methods.get(ty) else {
                problems.push(format!(
                    "tests/api.json names the core type {ty}, which has no pub methods"
                ));
                continue;
            };
            for m in found {
                if !(name == "doorward" && accessors.contains_key(m.name.as_str())) {
                    core.insert(m.name.clone(), ty.clone());
                }
            }
        }
        let listed = manifest.operations_in(name, "rust");
        for (op, ty) in &core {
            if !listed.contains(op) {
                problems.push(format!(
                    "{ty}::{op} is public in the core but not in tests/api.json: add it to \
                     apis.{name}.operations (each binding's parity test then asks for it), \
                     or list it in differences with \"in\" and its reason"
                ));
            }
        }
        for op in listed.iter().filter(|op| !core.contains_key(*op)) {
            problems.push(format!(
                "tests/api.json gives Rust {name}.{op}, but none of {types:?} has a pub method {op}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the core and tests/api.json disagree:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_manifest_is_well_formed() {
    let manifest = Manifest::load();
    let languages = Manifest::strings(&manifest.0["languages"]);
    assert_eq!(languages, ["rust", "python", "node", "kotlin"]);
    for (name, api) in manifest.apis() {
        let ops = Manifest::strings(&api["operations"]);
        let unique: BTreeSet<&String> = ops.iter().collect();
        assert_eq!(unique.len(), ops.len(), "{name}: an operation listed twice");
        for op in ops.iter().chain(std::iter::once(name)) {
            let snake = op
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            assert!(snake, "{name}.{op}: names are snake_case");
        }
        assert!(api["reached"].is_string(), "{name}: say how it is reached");
        assert!(
            !Manifest::strings(&api["rust"]).is_empty(),
            "{name}: name its core type"
        );
    }
    for d in manifest.differences() {
        let api = d["api"].as_str().expect("a difference names its api");
        let spec = manifest
            .apis()
            .get(api)
            .unwrap_or_else(|| panic!("difference for an unknown api {api}"));
        if let Some(op) = d.get("operation") {
            let op = op.as_str().expect("an operation is a name");
            assert!(
                Manifest::strings(&spec["operations"])
                    .iter()
                    .any(|o| o == op),
                "difference for {api}.{op}, which apis.{api}.operations does not list"
            );
        }
        let within = Manifest::strings(&d["in"]);
        assert!(
            !within.is_empty() && within.iter().all(|l| languages.contains(l)),
            "{api} {:?}: `in` names some of {languages:?}",
            d.get("operation")
        );
        let reason = d["reason"].as_str().unwrap_or_default();
        assert!(reason.len() > 20, "{api} {:?}: say why", d.get("operation"));
    }
}
