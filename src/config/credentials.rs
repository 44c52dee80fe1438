//! The `credentials NAME` section (gatehouse only, not in HAProxy): a real login to a
//! server (`user`, `password`), held only by the proxy. `tcp-request content
//! set-credentials NAME` picks one for a PostgreSQL session (docs/pgsql.md) and
//! `option pgsql-check … credentials NAME` logs health checks in with one. Passwords
//! usually come from the environment (`password "${APP_RW_PASSWORD}"`, expanded by the
//! lexer); a reload reads the section again, so a rotated password is a config change.

use super::keyword::Status;
use super::model::Config;
use super::span::Span;

/// One `credentials NAME` section.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The section's name.
    pub name: String,
    /// The section line.
    pub span: Span,
    /// `user NAME`: the role to log in as.
    pub user: Option<String>,
    /// `password SECRET`: used for SCRAM-SHA-256, md5 or cleartext, as the server asks.
    pub password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    /// The password is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("name", &self.name)
            .field("span", &self.span)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Parses one keyword line of a `credentials` section.
pub type CredentialsParse = fn(&mut Credentials, &[String]) -> Result<(), String>;

/// A row of the `credentials` keyword table.
pub struct CredentialsKeyword {
    /// The keyword.
    pub name: &'static str,
    /// Whether gatehouse implements it.
    pub status: Status,
    /// Its parser.
    pub parse: CredentialsParse,
    /// One-line help.
    pub help: &'static str,
}

fn one(w: &[String]) -> Result<&String, String> {
    match w {
        [_, v] => Ok(v),
        [k] => Err(format!("'{k}' expects an argument.")),
        [k, _, x, ..] => Err(format!("'{k}' cannot handle unexpected argument '{x}'.")),
        [] => Err("empty line".into()),
    }
}

fn user(c: &mut Credentials, w: &[String]) -> Result<(), String> {
    let v = one(w)?;
    if v.is_empty() {
        return Err("'user' expects a non-empty role name.".into());
    }
    c.user = Some(v.clone());
    Ok(())
}

fn password(c: &mut Credentials, w: &[String]) -> Result<(), String> {
    c.password = Some(one(w)?.clone());
    Ok(())
}

/// The `credentials` keyword table.
pub static KEYWORDS: &[CredentialsKeyword] = &[
    CredentialsKeyword {
        name: "user",
        status: Status::Supported,
        parse: user,
        help: "the role the proxy logs in as",
    },
    CredentialsKeyword {
        name: "password",
        status: Status::Supported,
        parse: password,
        help: "its password (SCRAM-SHA-256, md5 or cleartext, as the server asks)",
    },
];

/// Opens a `credentials NAME` section; the alert when the line is wrong.
pub fn begin(config: &mut Config, w: &[String], span: &Span) -> Result<usize, String> {
    let name = w
        .get(1)
        .ok_or("'credentials' expects <name> as argument.")?;
    if let Some(x) = w.get(2) {
        return Err(format!("'credentials {name}' : unexpected argument '{x}'."));
    }
    if let Some(prev) = config.credentials.iter().find(|s| &s.name == name) {
        return Err(format!(
            "credentials '{name}' has the same name as another credentials section declared at {}.",
            prev.span
        ));
    }
    config.credentials.push(Credentials {
        name: name.clone(),
        span: span.clone(),
        user: None,
        password: None,
    });
    Ok(config.credentials.len() - 1)
}

/// Parses one line of a `credentials` section.
pub fn line(c: &mut Credentials, w: &[String]) -> Result<(), String> {
    let Some(k) = KEYWORDS.iter().find(|k| k.name == w[0]) else {
        let hint = super::suggest::closest(&w[0], KEYWORDS.iter().map(|k| k.name))
            .map(|c| format!("; did you mean '{c}' maybe ?"))
            .unwrap_or_default();
        return Err(format!(
            "unknown keyword '{}' in 'credentials' section{hint}",
            w[0]
        ));
    };
    (k.parse)(c, w).map_err(|e| format!("'{}' in section 'credentials' : {e}", k.name))
}

/// Post-parse checks: each section has a `user`.
pub fn check(config: &Config, diags: &mut Vec<super::diag::Diag>) {
    for c in &config.credentials {
        if c.user.is_none() {
            diags.push(super::diag::Diag::alert(
                &c.span,
                format!("credentials '{}' needs a 'user'.", c.name),
            ));
        }
    }
}

impl Config {
    /// The `credentials` section named `name`.
    pub fn credentials(&self, name: &str) -> Option<&Credentials> {
        self.credentials.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_section_takes_user_and_password_and_hides_the_password() {
        let mut config = Config::default();
        let span = Span::new("t.cfg", 1);
        let i = begin(&mut config, &w("credentials app_rw"), &span).unwrap();
        line(&mut config.credentials[i], &w("user app_rw")).unwrap();
        line(&mut config.credentials[i], &w("password s3cret")).unwrap();
        let c = config.credentials("app_rw").unwrap();
        assert_eq!(c.user.as_deref(), Some("app_rw"));
        assert_eq!(c.password.as_deref(), Some("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(begin(&mut config, &w("credentials app_rw"), &span).is_err());
        let e = line(&mut config.credentials[i], &w("usr x")).unwrap_err();
        assert!(e.contains("did you mean 'user'"), "{e}");
        let mut diags = Vec::new();
        config.credentials[i].user = None;
        check(&config, &mut diags);
        assert_eq!(diags.len(), 1);
    }
}
