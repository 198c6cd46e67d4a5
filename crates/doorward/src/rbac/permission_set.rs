//! A user's permissions compiled for `can`, which runs on every request.
//!
//! Most users hold a handful of grants. Those are packed into one buffer
//! and compared in order: a check then reads one or two cache lines, where
//! hash sets read a table, a bucket and a separately allocated string per
//! lookup. With many users active at once, those lines are what falls out
//! of the CPU's first-level cache; the scan costs less than the misses.
//! Past [`FEW_BYTES`] of grants the scan would cost more, and hash sets
//! take over.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use super::validate_permission;

/// The packed size up to which grants are scanned, not hashed: four cache
/// lines, some twenty grants of typical length.
const FEW_BYTES: usize = 256;

/// A user's permissions, compiled for matching.
///
/// ```
/// use doorward::rbac::PermissionSet;
/// let set = PermissionSet::new(["users:read", "posts:*"]);
/// assert!(set.allows("users:read"));
/// assert!(set.allows("posts:delete"));
/// assert!(!set.allows("users:write"));
/// assert!(PermissionSet::new(["*"]).allows("anything:at-all"));
/// ```
#[derive(Clone, Serialize, serde::Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct PermissionSet {
    matcher: Matcher,
    /// The grants as given, which is what caches store.
    granted: Vec<String>,
}

#[derive(Clone)]
enum Matcher {
    /// `*` or `*:*` is among the grants.
    All,
    /// The exact grants as `[len, name…]`, then from `wild` on the
    /// wildcard ones as `[kind, len, part…]`, where the part is the
    /// resource of `resource:*` ([`ANY_ACTION`]) or the action of
    /// `*:action` ([`ANY_RESOURCE`]).
    Few {
        packed: Box<[u8]>,
        wild: usize,
    },
    Many(Box<Many>),
}

const ANY_ACTION: u8 = 0;
const ANY_RESOURCE: u8 = 1;

#[derive(Clone, Default)]
struct Many {
    exact: Names,
    any_action: Names,
    any_resource: Names,
}

/// Permission names, hashed with foldhash: `can` hashes one or two short
/// strings per call, where SipHash's flooding resistance buys nothing (the
/// set is built from the store, not from requests) and costs the most.
type Names = HashSet<String, foldhash::fast::RandomState>;

/// A grant, by what it matches.
enum Grant<'a> {
    All,
    Exact(&'a str),
    AnyAction(&'a str),
    AnyResource(&'a str),
}

/// What a valid grant matches.
fn classify(p: &str) -> Grant<'_> {
    match p.split_once(':') {
        None | Some(("*", "*")) => Grant::All,
        Some((resource, "*")) => Grant::AnyAction(resource),
        Some(("*", action)) => Grant::AnyResource(action),
        Some(_) => Grant::Exact(p),
    }
}

impl PermissionSet {
    /// Compile a list of granted permissions; malformed ones grant nothing.
    pub fn new<I, S>(granted: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::compile(granted, FEW_BYTES)
    }

    fn compile<I, S>(granted: I, few_bytes: usize) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let granted: Vec<String> = granted
            .into_iter()
            .map(|p| p.as_ref().to_string())
            .filter(|p| validate_permission(p).is_ok())
            .collect();
        let grants: Vec<Grant<'_>> = granted.iter().map(|p| classify(p)).collect();
        let matcher = if grants.iter().any(|g| matches!(g, Grant::All)) {
            Matcher::All
        } else {
            // A valid permission is at most 129 bytes, so a length fits a byte.
            let push = |into: &mut Vec<u8>, name: &str| {
                into.push(name.len() as u8);
                into.extend_from_slice(name.as_bytes());
            };
            let (mut exact, mut wild) = (Vec::new(), Vec::new());
            for grant in &grants {
                match *grant {
                    Grant::Exact(p) => push(&mut exact, p),
                    Grant::AnyAction(resource) => {
                        wild.push(ANY_ACTION);
                        push(&mut wild, resource);
                    }
                    Grant::AnyResource(action) => {
                        wild.push(ANY_RESOURCE);
                        push(&mut wild, action);
                    }
                    Grant::All => {}
                }
            }
            if exact.len() + wild.len() <= few_bytes {
                let wild_at = exact.len();
                exact.extend_from_slice(&wild);
                Matcher::Few {
                    packed: exact.into_boxed_slice(),
                    wild: wild_at,
                }
            } else {
                let mut many = Many::default();
                for grant in grants {
                    let (names, name) = match grant {
                        Grant::Exact(p) => (&mut many.exact, p),
                        Grant::AnyAction(r) => (&mut many.any_action, r),
                        Grant::AnyResource(a) => (&mut many.any_resource, a),
                        Grant::All => continue,
                    };
                    names.insert(name.to_string());
                }
                Matcher::Many(Box::new(many))
            }
        };
        PermissionSet { matcher, granted }
    }

    /// Whether `permission` is granted.
    pub fn allows(&self, permission: &str) -> bool {
        match &self.matcher {
            Matcher::All => true,
            Matcher::Few { packed, wild } => few_allows(packed, *wild, permission),
            Matcher::Many(many) => {
                many.exact.contains(permission)
                    || permission.split_once(':').is_some_and(|(r, a)| {
                        many.any_action.contains(r) || many.any_resource.contains(a)
                    })
            }
        }
    }
}

fn few_allows(packed: &[u8], wild: usize, permission: &str) -> bool {
    let (exact, wildcards) = packed.split_at(wild);
    let mut rest = exact;
    while let Some((&len, tail)) = rest.split_first() {
        let (name, next) = tail.split_at(usize::from(len));
        if name == permission.as_bytes() {
            return true;
        }
        rest = next;
    }
    if wildcards.is_empty() {
        return false;
    }
    let Some((resource, action)) = permission.split_once(':') else {
        return false;
    };
    let mut rest = wildcards;
    while let [kind, len, tail @ ..] = rest {
        let (part, next) = tail.split_at(usize::from(*len));
        let against = if *kind == ANY_ACTION {
            resource
        } else {
            action
        };
        if part == against.as_bytes() {
            return true;
        }
        rest = next;
    }
    false
}

impl Default for PermissionSet {
    fn default() -> Self {
        PermissionSet::new(Vec::<String>::new())
    }
}

/// The grants, as given (the compiled form is an implementation detail).
impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PermissionSet").field(&self.granted).finish()
    }
}

impl From<Vec<String>> for PermissionSet {
    fn from(granted: Vec<String>) -> Self {
        PermissionSet::new(granted)
    }
}

impl From<PermissionSet> for Vec<String> {
    fn from(set: PermissionSet) -> Self {
        set.granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_literally() {
        for few_bytes in [FEW_BYTES, 0] {
            let set = |g: &[&str]| PermissionSet::compile(g, few_bytes);
            let admin = set(&["admin:*", "*"]);
            assert!(admin.allows("admin:*"));
            assert!(admin.allows("billing:refund"));
            let scoped = set(&["admin:*"]);
            assert!(scoped.allows("admin:users"));
            assert!(scoped.allows("admin:*"));
            assert!(!scoped.allows("users:read"));
            let reader = set(&["*:read"]);
            assert!(reader.allows("posts:read"));
            assert!(!reader.allows("posts:write"));
            let one = set(&["admin:read"]);
            assert!(!one.allows("admin:*"));
            assert!(!one.allows("admin:rea"));
            assert!(!one.allows("admin:reads"));
        }
    }

    #[test]
    fn malformed_grants_grant_nothing_and_are_not_kept() {
        let set = PermissionSet::new(["", "users", "a:b:c", "us*:read", "ok:yes"]);
        assert!(!set.allows("users:read"));
        assert!(!set.allows("a:b:c"));
        assert!(set.allows("ok:yes"));
        assert_eq!(Vec::<String>::from(set), ["ok:yes"]);
    }

    /// The packed scan and the hash sets give the same answers, whatever
    /// the mix of grants: checked over sets of 0 to 40 grants drawn from a
    /// small vocabulary (so queries hit and miss in every way).
    #[test]
    fn the_scan_and_the_hash_sets_agree() {
        let parts = ["a", "b", "users", "posts", "*", "read", "write", "x.y-z"];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..2_000 {
            let count = next(40);
            let grants: Vec<String> = (0..count)
                .map(|_| format!("{}:{}", parts[next(8)], parts[next(8)]))
                .filter(|g| g != "*:*")
                .collect();
            let few = PermissionSet::compile(&grants, usize::MAX);
            let many = PermissionSet::compile(&grants, 0);
            assert!(matches!(few.matcher, Matcher::Few { .. }));
            assert!(grants.is_empty() || matches!(many.matcher, Matcher::Many(_)));
            for r in parts {
                for a in parts {
                    let q = format!("{r}:{a}");
                    assert_eq!(few.allows(&q), many.allows(&q), "{q} against {grants:?}");
                }
            }
        }
        let big: Vec<String> = (0..100).map(|i| format!("res{i}:read")).collect();
        let set = PermissionSet::new(&big);
        assert!(matches!(set.matcher, Matcher::Many(_)));
        assert!(set.allows("res99:read") && !set.allows("res100:read"));
        assert!(matches!(
            PermissionSet::new(["a:b", "c:*"]).matcher,
            Matcher::Few { .. }
        ));
    }

    #[test]
    fn the_cache_form_is_the_grants() {
        let set = PermissionSet::new(["users:read", "posts:*"]);
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["users:read","posts:*"]"#);
        let back: PermissionSet = serde_json::from_str(&json).unwrap();
        assert!(back.allows("posts:edit") && !back.allows("users:write"));
        assert_eq!(
            format!("{set:?}"),
            r#"PermissionSet(["users:read", "posts:*"])"#
        );
    }
}
