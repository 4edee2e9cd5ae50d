//! `ralph plugin inspect FILE`: what a component is, without configuring it.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::capabilities::Capability;
use crate::config::World;
use crate::contract::{ContractVersion, PACKAGE};
use crate::error::PluginError;
use crate::loader;

/// What `inspect` reports about a component. Serializes to the JSON keys
/// `world`, `contract_version`, `name`, `version`, `description`,
/// `capabilities`, `imports`, `exports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The world it implements.
    pub world: World,
    /// The version of the `ralph:plugin` contract it was built against.
    pub contract_version: ContractVersion,
    /// Its name from its metadata.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its description.
    pub description: String,
    /// The capabilities it asks for, in the order it declared them.
    pub capabilities: Vec<Capability>,
    /// The interfaces it imports.
    pub imports: Vec<String>,
    /// The functions and interfaces it exports.
    pub exports: Vec<String>,
}

impl Inspection {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }
}

impl fmt::Display for Inspection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "{} {} ({})", self.name, self.version, self.world)?;
        if !self.description.is_empty() {
            writeln!(formatter, "{}", self.description)?;
        }
        writeln!(formatter, "contract: {PACKAGE}@{}", self.contract_version)?;
        let capabilities = if self.capabilities.is_empty() {
            "none".to_owned()
        } else {
            let names: Vec<&str> = self.capabilities.iter().map(|c| c.name()).collect();
            names.join(", ")
        };
        writeln!(formatter, "capabilities: {capabilities}")?;
        writeln!(formatter, "imports:")?;
        for import in &self.imports {
            writeln!(formatter, "  {import}")?;
        }
        writeln!(formatter, "exports:")?;
        for export in &self.exports {
            writeln!(formatter, "  {export}")?;
        }
        Ok(())
    }
}

/// The world whose required exports the component has, if exactly one.
pub fn detect_world(exports: &[String], path: &Path) -> Result<World, PluginError> {
    let matching: Vec<World> = World::ALL
        .into_iter()
        .filter(|world| {
            world
                .required_exports()
                .iter()
                .all(|required| exports.iter().any(|export| export == required))
        })
        .collect();
    match matching.as_slice() {
        [world] => Ok(*world),
        [] => Err(PluginError::WorldMismatch {
            path: path.to_owned(),
            world: "bidder, specialist or check".to_owned(),
            missing: format!(
                "the exports of any world (it exports: {})",
                if exports.is_empty() {
                    "nothing".to_owned()
                } else {
                    exports.join(", ")
                }
            ),
        }),
        _ => Err(PluginError::Load {
            path: path.to_owned(),
            reason: "it implements more than one world".to_owned(),
        }),
    }
}

/// Reads the names a compiled component exports and imports, sorted.
pub(crate) fn names(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> (Vec<String>, Vec<String>) {
    let (mut exports, mut imports) = loader::exports_and_imports(engine, component);
    exports.sort();
    imports.sort();
    (exports, imports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn the_world_follows_from_the_exports() -> Result<(), PluginError> {
        let path = Path::new("p.wasm");
        assert_eq!(
            detect_world(&strings(&["metadata", "propose"]), path)?,
            World::Bidder
        );
        assert_eq!(
            detect_world(&strings(&["ask", "metadata", "review"]), path)?,
            World::Specialist
        );
        assert_eq!(
            detect_world(&strings(&["metadata", "run"]), path)?,
            World::Check
        );
        Ok(())
    }

    #[test]
    fn a_component_of_no_world_is_refused_naming_its_exports() {
        let error = detect_world(&strings(&["main"]), Path::new("p.wasm"));
        match error {
            Err(PluginError::WorldMismatch { missing, .. }) => assert!(missing.contains("main")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn json_has_the_documented_keys() -> Result<(), serde_json::Error> {
        let inspection = Inspection {
            world: World::Check,
            contract_version: ContractVersion::V0_1_0,
            name: "secrets".to_owned(),
            version: "0.1.0".to_owned(),
            description: "Finds secrets".to_owned(),
            capabilities: vec![Capability::Repository, Capability::HttpGet],
            imports: strings(&["ralph:plugin/log@0.1.0"]),
            exports: strings(&["metadata", "run"]),
        };
        let value: serde_json::Value = serde_json::from_str(&inspection.to_json())?;
        for key in [
            "world",
            "contract_version",
            "name",
            "version",
            "description",
            "capabilities",
            "imports",
            "exports",
        ] {
            assert!(value.get(key).is_some(), "{key}");
        }
        assert_eq!(value["world"], "check");
        assert_eq!(value["contract_version"], "0.1.0");
        assert_eq!(
            value["capabilities"],
            serde_json::json!(["repository", "http-get"])
        );
        let text = inspection.to_string();
        assert!(text.contains("secrets 0.1.0 (check)"), "{text}");
        assert!(text.contains("contract: ralph:plugin@0.1.0\n"), "{text}");
        assert!(
            text.contains("capabilities: repository, http-get\n"),
            "{text}"
        );
        Ok(())
    }
}
