//! The fuzz targets of `doorward::fuzzing` on the stable toolchain:
//! `cargo run --release -p doorward --features fuzzing --example fuzz --
//! --seconds 600 [TARGET …]` (or `scripts/fuzz`).
//!
//! libFuzzer (`fuzz/`, nightly) is guided by coverage; this runner is not.
//! It starts from the committed seed corpus (`fuzz/corpus/<target>/`) and
//! mutates it: the choices (which seed, which mutation, where, what bytes)
//! are drawn by `arbitrary` from a seeded random stream, so a run is
//! repeatable from its seed. The mutations are libFuzzer's usual ones plus
//! a dictionary of each format's meaningful pieces. A panic in a target is
//! a finding: the input is written to `fuzz/artifacts/<target>/` and the
//! run fails.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use doorward::fuzzing::TARGETS;
use rand::rngs::StdRng;
use rand::{RngCore as _, SeedableRng as _};

/// Longest input tried: past every size limit the targets enforce.
const MAX_LEN: usize = 16 * 1024;

/// Pieces of the formats, spliced into inputs.
const DICTIONARY: &[&str] = &[
    ".",
    ":",
    "*",
    "$",
    ",",
    "=",
    "@",
    "/",
    "\n",
    "\0",
    "{",
    "}",
    "\"",
    "\\u0000",
    "%00",
    "alg",
    "none",
    "HS256",
    "EdDSA",
    "typ",
    "at+jwt",
    "kid",
    "crit",
    "jku",
    "exp",
    "nbf",
    "iat",
    "iss",
    "aud",
    "sub",
    "eyJ",
    "$argon2id$v=19$m=",
    ",t=",
    ",p=",
    "$2b$",
    "$2y$",
    "pbkdf2_sha256$",
    "$scrypt$ln=",
    "scrypt$",
    "$fbscrypt$v=1,n=",
    "bcrypt_sha256$",
    "argon2$",
    "ln=99",
    "4294967295",
    "18446744073709551616",
    "-1",
    "redis://",
    "redis+cluster://",
    "postgres://u:p@",
    "[::1]",
    "::ffff:",
    "%eth0",
    "v1,",
    "whsec_",
    "jwt_secret = \"",
    "access_ttl = ",
    "database_url",
    "[oauth_providers.x]",
    "\u{202e}",
    "\u{200b}",
    "\u{ff41}",
    "\u{0430}",
    "xn--",
    "..",
    "-",
];

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir().join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// One mutation of `input`, every choice drawn from `u`.
fn mutate(
    u: &mut Unstructured<'_>,
    input: &mut Vec<u8>,
    seeds: &[Vec<u8>],
) -> arbitrary::Result<()> {
    let rounds = u.int_in_range(1..=8)?;
    for _ in 0..rounds {
        let at = if input.is_empty() {
            0
        } else {
            u.int_in_range(0..=input.len())?
        };
        match u.int_in_range(0..=8)? {
            0 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] ^= 1 << u.int_in_range(0..=7)?;
            }
            1 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] = u.arbitrary()?;
            }
            2 => {
                let n = u.int_in_range(1..=8)?;
                let bytes: Vec<u8> = (0..n).map(|_| u.arbitrary()).collect::<Result<_, _>>()?;
                input.splice(at..at, bytes);
            }
            3 if !input.is_empty() => {
                let end = (at + u.int_in_range(1..=16)?).min(input.len());
                input.drain(at.min(end)..end);
            }
            4 if !input.is_empty() => {
                // Repeat a run: lengths, nesting, counts.
                let end = (at + u.int_in_range(1..=32)?).min(input.len());
                let run = input[at.min(end)..end].to_vec();
                let times = u.int_in_range(1..=64)?;
                for _ in 0..times {
                    input.splice(end..end, run.iter().copied());
                }
            }
            5 => {
                let word = u.choose(DICTIONARY)?;
                input.splice(at..at, word.bytes());
            }
            6 => {
                // Splice in part of another seed.
                let other = u.choose(seeds)?;
                if !other.is_empty() {
                    let from = u.int_in_range(0..=other.len() - 1)?;
                    let to = u.int_in_range(from..=other.len())?;
                    input.splice(at..at, other[from..to].iter().copied());
                }
            }
            7 if !input.is_empty() => {
                // Change a digit run, where numbers are: costs, times.
                if let Some(i) = input[at.min(input.len() - 1)..]
                    .iter()
                    .position(u8::is_ascii_digit)
                {
                    let i = at.min(input.len() - 1) + i;
                    let digits =
                        *u.choose(&["0", "1", "9", "64", "255", "65536", "99999999999"])?;
                    let end = input[i..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(input.len(), |n| i + n);
                    input.splice(i..end, digits.bytes());
                }
            }
            _ => {
                let len = input.len();
                if len > 1 {
                    input.truncate(u.int_in_range(0..=len - 1)?);
                }
            }
        }
    }
    input.truncate(MAX_LEN);
    Ok(())
}

struct Outcome {
    executions: u64,
    crashes: u64,
}

fn run(name: &str, target: fn(&[u8]), budget: Duration, seed: u64) -> Outcome {
    let seeds = seeds(name);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut entropy = vec![0u8; 4096];
    let mut outcome = Outcome {
        executions: 0,
        crashes: 0,
    };
    // Every seed as it is, then mutations until the time is up.
    let started = Instant::now();
    let mut queue: Vec<Vec<u8>> = seeds.clone();
    while started.elapsed() < budget || !queue.is_empty() {
        let input = match queue.pop() {
            Some(seed) => seed,
            None => {
                rng.fill_bytes(&mut entropy);
                let mut u = Unstructured::new(&entropy);
                let mut input = u.choose(&seeds).cloned().unwrap_or_default();
                let _ = mutate(&mut u, &mut input, &seeds);
                input
            }
        };
        outcome.executions += 1;
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            outcome.crashes += 1;
            save(name, &input);
        }
    }
    outcome
}

fn save(target: &str, input: &[u8]) {
    use sha2::Digest as _;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/artifacts")
        .join(target);
    let _ = std::fs::create_dir_all(&dir);
    let name = format!("crash-{:x}", sha2::Sha256::digest(input));
    let path = dir.join(&name);
    let _ = std::fs::write(&path, input);
    eprintln!("{target}: crash saved to fuzz/artifacts/{target}/{name}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = 10u64;
    let mut seed = 1u64;
    let mut chosen = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--seconds" => {
                seconds = args[i + 1].parse().expect("--seconds takes a number");
                i += 1;
            }
            "--seed" => {
                seed = args[i + 1].parse().expect("--seed takes a number");
                i += 1;
            }
            name => chosen.push(name.to_string()),
        }
        i += 1;
    }
    // A failing target's panic message is the finding; the default hook's
    // backtrace for every crashing input would drown it.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    println!("| target | seconds | executions | per second | crashes |");
    println!("|---|--:|--:|--:|--:|");
    let mut crashes = 0;
    for (name, target) in TARGETS {
        if !chosen.is_empty() && !chosen.iter().any(|c| c == name) {
            continue;
        }
        let started = Instant::now();
        let outcome = run(name, *target, Duration::from_secs(seconds), seed);
        let took = started.elapsed().as_secs_f64();
        println!(
            "| {name} | {took:.0} | {} | {:.0} | {} |",
            outcome.executions,
            outcome.executions as f64 / took,
            outcome.crashes
        );
        crashes += outcome.crashes;
    }
    if crashes > 0 {
        std::process::exit(1);
    }
}
