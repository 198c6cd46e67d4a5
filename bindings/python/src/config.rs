//! A Python configuration (a dict, a TOML file path, keyword arguments) as
//! the core's `Config`. The keys and their checks are the core's; this only
//! lays keyword arguments over the dict or file and hands the result over.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyMapping, PyString, PyTuple};

use crate::error::to_py_err;

fn config_error(message: String) -> PyErr {
    to_py_err(doorward::Error::Config(message))
}

fn is_path(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let os = value.py().import("os")?;
    Ok(value.is_instance_of::<PyString>() || value.is_instance(&os.getattr("PathLike")?)?)
}

/// A value as JSON; paths (`pathlib.Path` for a key file) become text, in
/// nested lists and mappings too (`jwt_previous_keys`).
fn json_value(key: &str, value: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    if value.is_instance_of::<PyString>() {
        return Ok(value.extract::<String>()?.into());
    }
    if is_path(value)? {
        let os = value.py().import("os")?;
        return Ok(os
            .call_method1("fspath", (value,))?
            .extract::<String>()?
            .into());
    }
    if value.cast::<PyMapping>().is_ok() {
        let mut object = serde_json::Map::new();
        lay_over(&mut object, value)?;
        return Ok(object.into());
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| json_value(key, &item?))
            .collect();
    }
    pythonize::depythonize(value)
        .map_err(|e| config_error(format!("configuration key `{key}`: {e}")))
}

fn lay_over(
    values: &mut serde_json::Map<String, serde_json::Value>,
    mapping: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let mapping = mapping
        .cast::<PyMapping>()
        .map_err(|_| config_error("the configuration must be a mapping or a file path".into()))?;
    for item in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let key: String = key
            .extract()
            .map_err(|_| config_error("configuration keys must be strings".into()))?;
        let value = json_value(&key, &value)?;
        values.insert(key, value);
    }
    Ok(())
}

/// `config` (None, a mapping, or a TOML file path) with `overrides` laid
/// over it. The environment is not read: a host that wants `DOORWARD_*`
/// variables passes them.
pub(crate) fn from_python(
    config: Option<&Bound<'_, PyAny>>,
    overrides: Option<&Bound<'_, PyDict>>,
) -> PyResult<doorward::Config> {
    let mut values = serde_json::Map::new();
    let mut from_file = serde_json::Map::new();
    if let Some(config) = config.filter(|c| !c.is_none()) {
        if is_path(config)? {
            let path: std::path::PathBuf = config.extract()?;
            from_file = doorward::Config::file_values(&path).map_err(to_py_err)?;
            values = from_file.clone();
        } else {
            lay_over(&mut values, config)?;
        }
    }
    if let Some(overrides) = overrides {
        lay_over(&mut values, overrides.as_any())?;
    }
    let mut built = doorward::Config::from_json(serde_json::Value::Object(values.clone()))
        .map_err(to_py_err)?;
    // A key the file set and no keyword argument replaced came from the file.
    for (key, value) in &from_file {
        if values.get(key) == Some(value) {
            built.sources.set(key, doorward::config::ConfigSource::File);
        }
    }
    Ok(built)
}
