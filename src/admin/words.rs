//! A command line cut into words as HAProxy's `cli_parse_request` does: words separated
//! by spaces and tabs, a backslash escaping the next character (`\\` is a backslash,
//! `\;` a semicolon, `\ ` a space inside a word), and a last word `<<` announcing a
//! payload.

/// At most this many words are read, as HAProxy's `MAX_CLI_ARGS`.
const MAX_ARGS: usize = 64;

/// Splits `line`; the payload, if the line ended with the word `<<`, is returned apart.
pub fn split<'a>(line: &str, payload: Option<&'a str>) -> (Vec<String>, Option<&'a str>) {
    let mut words = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    let mut has_payload = false;
    while words.len() < MAX_ARGS && i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if &line[i..] == "<<" {
            has_payload = true;
            break;
        }
        let mut w = Vec::new();
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            if b[i] == b'\\' {
                i += 1;
                if i < b.len() {
                    w.push(b[i]);
                    i += 1;
                }
                continue;
            }
            w.push(b[i]);
            i += 1;
        }
        words.push(String::from_utf8_lossy(&w).into_owned());
    }
    (words, if has_payload { payload } else { None })
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn words_escapes_and_payload() {
        let (w, p) = split("set map  /m  k\\ 1 v\\;x", None);
        assert_eq!(w, ["set", "map", "/m", "k 1", "v;x"]);
        assert!(p.is_none());
        let (w, p) = split("add map /m <<", Some("a b\n"));
        assert_eq!(w, ["add", "map", "/m"]);
        assert_eq!(p, Some("a b\n"));
        // `<<` glued to a word is not a payload mark.
        let (w, p) = split("add map /m<<", Some("a b\n"));
        assert_eq!(w, ["add", "map", "/m<<"]);
        assert!(p.is_none());
        assert_eq!(split("a \\\\b", None).0, ["a", "\\b"]);
    }
}
