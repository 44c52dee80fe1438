//! Splitting one line into words: HAProxy's `parse_line()` (src/tools.c) rules for
//! quoting (`'…'`, `"…"`), backslash escapes, `#` comments and `"${VAR}"` expansion.
//!
//! Works on bytes like HAProxy: `\xNN` may produce any byte; the caller turns words into
//! strings.

/// Most words on one line (HAProxy's `MAX_LINE_ARGS`).
pub const MAX_LINE_ARGS: usize = 64;

/// What went wrong while splitting a line, with HAProxy's error classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SplitErrorKind {
    /// A quote is never closed (`PARSE_ERR_QUOTE`).
    Quote,
    /// `${` without its `}` (`PARSE_ERR_BRACE`).
    Brace,
    /// `$` followed by a character that cannot start a name (`PARSE_ERR_VARNAME`).
    VarName,
    /// `\x` not followed by two hex digits (`PARSE_ERR_HEX`).
    Hex,
    /// `${VAR[` not followed by `*]` (`PARSE_ERR_WRONG_EXPAND`).
    WrongExpand,
}

/// A splitting error and the byte offset it points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SplitError {
    pub kind: SplitErrorKind,
    pub pos: usize,
}

/// The words of a line as HAProxy's `args[]` holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Split {
    /// Every word, including a last one that may be empty (HAProxy does not count an
    /// empty last word, but `.if` re-merges it into the condition text).
    pub raw: Vec<Vec<u8>>,
}

impl Split {
    /// The words HAProxy counts: an empty last word is dropped.
    pub fn counted(&self) -> &[Vec<u8>] {
        match self.raw.last() {
            Some(last) if last.is_empty() => &self.raw[..self.raw.len() - 1],
            _ => &self.raw,
        }
    }

    /// True when the line has more than [`MAX_LINE_ARGS`] words (`PARSE_ERR_TOOMANY`;
    /// like HAProxy, a separator after the 64th word is enough).
    pub fn too_many(&self) -> bool {
        self.raw.len() > MAX_LINE_ARGS
    }

    /// HAProxy's "position" of the 64th word: its 1-based offset in the unquoted output.
    pub fn too_many_position(&self) -> usize {
        self.raw
            .iter()
            .take(MAX_LINE_ARGS - 1)
            .map(|w| w.len() + 1)
            .sum::<usize>()
            + 1
    }
}

/// C's `isspace()` in the "C" locale.
pub(crate) fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Looks up a variable for expansion. `Err(())` means a pseudo-variable (`.NAME`) that
/// does not exist, which HAProxy reports as a bad variable name.
pub(crate) type VarLookup<'a> = &'a dyn Fn(&str) -> Result<Option<String>, ()>;

/// Splits `input` (one line, without its leading blanks) into words.
///
/// `sharp` enables `#` comments and `\#` (configuration files); `-cc` disables them.
pub(crate) fn split(input: &[u8], sharp: bool, vars: VarLookup<'_>) -> Result<Split, SplitError> {
    let at = |i: usize| input.get(i).copied().unwrap_or(0);
    let mut words: Vec<Vec<u8>> = vec![Vec::new()];
    let mut squote = false;
    let mut dquote = false;
    let mut quote: Option<usize> = None;
    let mut i = 0;

    macro_rules! emit {
        ($c:expr) => {
            if let Some(w) = words.last_mut() {
                w.push($c)
            }
        };
    }

    loop {
        let c = at(i);
        let comment = c == b'#' && sharp && !squote && !dquote;
        if c == 0 || c == b'\n' || c == b'\r' || comment {
            break;
        } else if c == b'"' && !squote {
            dquote = !dquote;
            quote = dquote.then_some(i);
            i += 1;
        } else if c == b'\'' && !dquote {
            squote = !squote;
            quote = squote.then_some(i);
            i += 1;
        } else if c == b'\\' && !squote {
            // Other combinations are not escapes: the backslash is kept (e.g. `\1`).
            let mut tosend = b'\\';
            match at(i + 1) {
                n @ (b' ' | b'\\' | b'\'' | b'"') => {
                    tosend = n;
                    i += 1;
                }
                b't' => {
                    tosend = b'\t';
                    i += 1;
                }
                b'n' => {
                    tosend = b'\n';
                    i += 1;
                }
                b'r' => {
                    tosend = b'\r';
                    i += 1;
                }
                b'#' if sharp => {
                    tosend = b'#';
                    i += 1;
                }
                b'$' if dquote => {
                    tosend = b'$';
                    i += 1;
                }
                b'x' => {
                    let (h, l) = (hex_val(at(i + 2)), hex_val(at(i + 3)));
                    let (Some(h), Some(l)) = (h, l) else {
                        return Err(SplitError {
                            kind: SplitErrorKind::Hex,
                            pos: i,
                        });
                    };
                    tosend = (h << 4) | l;
                    i += 3;
                }
                _ => {}
            }
            i += 1;
            emit!(tosend);
        } else if is_c_space(c) && !squote && !dquote {
            while is_c_space(at(i)) {
                i += 1;
            }
            words.push(Vec::new());
        } else if c == b'$' && dquote {
            i = expand(input, i + 1, vars, &mut words)?;
        } else {
            emit!(c);
            i += 1;
        }
    }

    if let Some(pos) = quote {
        return Err(SplitError {
            kind: SplitErrorKind::Quote,
            pos,
        });
    }
    Ok(Split { raw: words })
}

/// Expands the variable whose name starts at `i` (just after `$`), appending its value
/// to `words`; returns the index after the reference.
fn expand(
    input: &[u8],
    mut i: usize,
    vars: VarLookup<'_>,
    words: &mut Vec<Vec<u8>>,
) -> Result<usize, SplitError> {
    let at = |i: usize| input.get(i).copied().unwrap_or(0);
    let err = |kind, pos| Err(SplitError { kind, pos });
    let mut brace = None;
    if at(i) == b'{' {
        brace = Some(i);
        i += 1;
    }
    let c = at(i);
    if !c.is_ascii_alphabetic() && c != b'_' && c != b'.' {
        return err(SplitErrorKind::VarName, i);
    }
    let name_start = i;
    if c == b'.' {
        i += 1;
    }
    while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
        i += 1;
    }
    let name = String::from_utf8_lossy(&input[name_start..i]);
    let Ok(mut value) = vars(&name).map(|v| v.map(String::into_bytes)) else {
        return err(SplitErrorKind::VarName, name_start);
    };

    // `[*]` splits the value into words; only inside braces.
    let mut word_expand = false;
    if at(i) == b'[' && brace.is_some() {
        let open = i;
        if at(i + 1) != b'*' || at(i + 2) != b']' {
            return err(SplitErrorKind::WrongExpand, open);
        }
        word_expand = true;
        i += 3;
    }

    if let Some(brace_pos) = brace {
        if at(i) == b'-' {
            // The default value runs to the closing brace, taken verbatim.
            let start = i + 1;
            let Some(len) = input
                .get(start..)
                .and_then(|r| r.iter().position(|&b| b == b'}'))
            else {
                return err(SplitErrorKind::Brace, brace_pos);
            };
            if value.is_none() {
                value = Some(input[start..start + len].to_vec());
            }
            i = start + len;
        } else if at(i) != b'}' {
            return err(SplitErrorKind::Brace, brace_pos);
        }
        i += 1;
    }

    let value = value.unwrap_or_default();
    let mut v = 0;
    while v < value.len() {
        if word_expand && is_c_space(value[v]) {
            words.push(Vec::new());
            while v < value.len() && is_c_space(value[v]) {
                v += 1;
            }
        } else {
            if let Some(w) = words.last_mut() {
                w.push(value[v]);
            }
            v += 1;
        }
    }
    Ok(i)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// HAProxy's `sanitize_for_printing()`: fits `line` into `width` columns around `pos`
/// (with `...` when shifted), blanks become spaces and unprintable bytes `?`. Returns the
/// printable text and where `pos` lands in it.
pub(crate) fn sanitize_for_printing(line: &[u8], pos: usize, width: usize) -> (String, usize) {
    let line = line
        .split(|&b| b == 0 || b == b'\n')
        .next()
        .unwrap_or_default();
    let mut out = String::new();
    let mut shift = 0;
    let mut input = line;
    let mut room = width;
    let shifted = pos >= width;
    if shifted {
        shift = pos - width / 2;
        input = line.get(shift + 3..).unwrap_or_default();
        room = width - 6;
        out.push_str("...");
    }
    for &c in input.iter().take(room) {
        out.push(if is_c_space(c) {
            ' '
        } else if c.is_ascii_graphic() {
            c as char
        } else {
            '?'
        });
    }
    if shifted {
        out.push_str("...");
    }
    (out, pos - shift)
}
