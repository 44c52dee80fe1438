//! "Did you mean" suggestions for unknown keywords.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = distance(word, c);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (word.len().max(3)) / 2;
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// Damerau-Levenshtein distance (optimal string alignment) between two words.
fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_keywords_only() {
        let kws = ["bind", "balance", "backlog", "mode"];
        assert_eq!(closest("bnd", kws), Some("bind"));
        assert_eq!(closest("blance", kws), Some("balance"));
        assert_eq!(closest("mdoe", kws), Some("mode"));
        assert_eq!(closest("zzzzzzzz", kws), None);
    }
}
