//! Hanyu Pinyin (汉语拼音) as place names carry it: the spelling on signs (e.g. "Taizihe Lu",
//! GB 17733 style, tone marks allowed) and the search key it is found by.
//!
//! The pinyin comes with the proposal, written by the person who knows the local reading (many
//! place names use readings a dictionary would get wrong: 堡 is "pu" in 普乐堡, not "bao"); this
//! module checks its form and folds it for search: lowercase, without tone marks, spaces,
//! apostrophes or hyphens, ü as "v" — so "taizihe", "Tàizǐhé" and "TAIZIHE LU" all find
//! "Taizihe Lu".

/// Longest pinyin accepted, in characters.
pub const MAX_CHARS: usize = 200;

/// Checks the form: Latin letters (with pinyin tone marks or ü), spaces, apostrophes and hyphens,
/// at least one letter.
pub fn check(text: &str) -> Result<(), String> {
    if let Some(c) = text
        .chars()
        .find(|&c| fold_char(c).is_none() && !matches!(c, ' ' | '\'' | '’' | '-'))
    {
        return Err(format!(
            "must be Hanyu Pinyin: letters (tone marks allowed), spaces, apostrophes and hyphens, not {c:?}"
        ));
    }
    if !text.chars().any(|c| fold_char(c).is_some()) {
        return Err("must contain letters".to_owned());
    }
    Ok(())
}

/// The search key of a pinyin spelling, or of a typed query (see the module docs).
pub fn search_key(text: &str) -> String {
    text.chars().filter_map(fold_char).collect()
}

/// Whether `text` looks like pinyin typed as a query rather than Chinese characters.
pub fn is_pinyin_query(text: &str) -> bool {
    text.chars()
        .all(|c| fold_char(c).is_some() || matches!(c, ' ' | '\'' | '’' | '-'))
}

/// A letter folded to its search form; `None` for anything that is not a pinyin letter.
fn fold_char(c: char) -> Option<char> {
    let base = match c {
        'a'..='z' => c,
        'A'..='Z' => c.to_ascii_lowercase(),
        'ā' | 'á' | 'ǎ' | 'à' | 'Ā' | 'Á' | 'Ǎ' | 'À' => 'a',
        'ē' | 'é' | 'ě' | 'è' | 'Ē' | 'É' | 'Ě' | 'È' | 'ê' | 'Ê' => 'e',
        'ī' | 'í' | 'ǐ' | 'ì' | 'Ī' | 'Í' | 'Ǐ' | 'Ì' => 'i',
        'ō' | 'ó' | 'ǒ' | 'ò' | 'Ō' | 'Ó' | 'Ǒ' | 'Ò' => 'o',
        'ū' | 'ú' | 'ǔ' | 'ù' | 'Ū' | 'Ú' | 'Ǔ' | 'Ù' => 'u',
        'ü' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' | 'Ü' | 'Ǖ' | 'Ǘ' | 'Ǚ' | 'Ǜ' => 'v',
        'ń' | 'ň' | 'ǹ' | 'Ń' | 'Ň' | 'Ǹ' => 'n',
        'ḿ' | 'Ḿ' => 'm',
        _ => return None,
    };
    Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_with_and_without_tone_marks_fold_to_one_key() {
        assert_eq!(search_key("Taizihe Lu"), "taizihelu");
        assert_eq!(search_key("Tàizǐhé Lù"), "taizihelu");
        assert_eq!(search_key("Xi'an Jie"), "xianjie");
        assert_eq!(search_key("Lǚshùn"), "lvshun");
    }

    #[test]
    fn only_pinyin_letters_and_separators_are_accepted() {
        assert!(check("Pǔlèpù Zhèn").is_ok());
        assert!(check("Xi'an-Lu").is_ok());
        assert!(check("太子河路").is_err());
        assert!(check("Lu 1").is_err());
        assert!(check(" - ").is_err());
        assert!(is_pinyin_query("taizi he"));
        assert!(!is_pinyin_query("太子"));
    }
}
