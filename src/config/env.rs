//! The environment seen by `"${VAR}"` and `.if defined(VAR)` while a configuration is
//! read: the caller's lookup overlaid with the `global` keywords `setenv`, `presetenv`,
//! `unsetenv` and `resetenv`, which HAProxy applies immediately, so that the very next
//! line sees the change. Nothing here touches the process environment.

use super::model::EnvChange;
use std::collections::{BTreeSet, HashMap};

/// The changes made so far on top of the caller's environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvOverlay {
    /// Variables set (`Some`) or removed (`None`) by the configuration.
    vars: HashMap<String, Option<String>>,
    /// After a `resetenv`: the only caller variables still visible.
    keep_only: Option<BTreeSet<String>>,
}

impl EnvOverlay {
    /// The value of `name`: the overlay's, else the caller's (`base`).
    pub fn get(&self, name: &str, base: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        if let Some(v) = self.vars.get(name) {
            return v.clone();
        }
        if self.keep_only.as_ref().is_some_and(|k| !k.contains(name)) {
            return None;
        }
        base(name)
    }

    /// Applies one `setenv`-family line.
    pub fn apply(&mut self, change: &EnvChange, base: &dyn Fn(&str) -> Option<String>) {
        match change {
            EnvChange::Set {
                name,
                value,
                overwrite,
            } => {
                if *overwrite || self.get(name, base).is_none() {
                    self.vars.insert(name.clone(), Some(value.clone()));
                }
            }
            EnvChange::Unset(names) => {
                for n in names {
                    self.vars.insert(n.clone(), None);
                }
            }
            EnvChange::Reset(keep) => {
                let keep: BTreeSet<String> = keep.iter().cloned().collect();
                self.vars.retain(|n, _| keep.contains(n));
                self.keep_only = Some(match self.keep_only.take() {
                    Some(prev) => prev.intersection(&keep).cloned().collect(),
                    None => keep,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/root".into()),
            "PORT" => Some("80".into()),
            _ => None,
        }
    }

    fn set(name: &str, value: &str, overwrite: bool) -> EnvChange {
        EnvChange::Set {
            name: name.into(),
            value: value.into(),
            overwrite,
        }
    }

    #[test]
    fn setenv_overwrites_presetenv_does_not() {
        let mut o = EnvOverlay::default();
        o.apply(&set("PORT", "8080", false), &base);
        assert_eq!(o.get("PORT", &base).as_deref(), Some("80"));
        o.apply(&set("NEW", "x", false), &base);
        assert_eq!(o.get("NEW", &base).as_deref(), Some("x"));
        o.apply(&set("PORT", "8080", true), &base);
        assert_eq!(o.get("PORT", &base).as_deref(), Some("8080"));
    }

    #[test]
    fn unsetenv_hides_and_resetenv_keeps_only_named() {
        let mut o = EnvOverlay::default();
        o.apply(&set("A", "1", true), &base);
        o.apply(&EnvChange::Unset(vec!["HOME".into()]), &base);
        assert_eq!(o.get("HOME", &base), None);
        o.apply(&EnvChange::Reset(vec!["PORT".into()]), &base);
        assert_eq!(o.get("A", &base), None);
        assert_eq!(o.get("PORT", &base).as_deref(), Some("80"));
        o.apply(&set("A", "2", true), &base);
        assert_eq!(o.get("A", &base).as_deref(), Some("2"));
    }
}
