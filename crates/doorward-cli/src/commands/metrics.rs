//! `doorward metrics`.

use std::collections::BTreeMap;

use doorward::{Error, Result};
use serde::Serialize;

use super::Ctx;

/// One sample of the Prometheus text, for `--json`.
#[derive(Debug, PartialEq, Serialize)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

pub async fn run(ctx: &Ctx) -> Result<()> {
    let dw = ctx.open().await?;
    let text = dw.metrics_text().await?;
    let samples = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse)
        .collect::<Result<Vec<_>>>()?;
    ctx.out.emit(&samples, |w| w.write_all(text.as_bytes()))
}

/// `name{key="value",...} number`, as the Prometheus exporter writes it
/// (label values are escaped with backslashes).
fn parse(line: &str) -> Result<Sample> {
    let bad = || Error::Internal(format!("unexpected metrics line: {line}"));
    let (series, value) = line.rsplit_once(' ').ok_or_else(bad)?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|_| bad())?,
    };
    let Some((name, rest)) = series.split_once('{') else {
        return Ok(Sample {
            name: series.to_string(),
            labels: BTreeMap::new(),
            value,
        });
    };
    let mut labels = BTreeMap::new();
    let mut chars = rest.strip_suffix('}').ok_or_else(bad)?.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next() != Some('"') {
            return Err(bad());
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => return Err(bad()),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_string(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_parse_with_and_without_labels() {
        let s = parse(
            r#"doorward_operation_duration_seconds_bucket{operation="auth.login",le="+Inf"} 3"#,
        )
        .unwrap();
        assert_eq!(s.name, "doorward_operation_duration_seconds_bucket");
        assert_eq!(s.labels["operation"], "auth.login");
        assert_eq!(s.labels["le"], "+Inf");
        assert_eq!(s.value, 3.0);
        let s = parse("doorward_active_sessions 2").unwrap();
        assert!(s.labels.is_empty());
        let s = parse(r#"x{a="q\"uo\\te",b="2"} 1.5"#).unwrap();
        assert_eq!(
            (s.labels["a"].as_str(), s.labels["b"].as_str()),
            ("q\"uo\\te", "2")
        );
        assert!(parse("garbage").is_err());
    }
}
