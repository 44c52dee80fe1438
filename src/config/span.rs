//! Source positions (file:line) carried by every token and parsed item.

use std::fmt;
use std::sync::Arc;

/// A position in a configuration file: the file name as given and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file the item was read from, as named on the command line.
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u32,
}

impl Span {
    /// A span for `file` at `line`.
    pub fn new(file: impl Into<Arc<str>>, line: u32) -> Self {
        Span {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}
