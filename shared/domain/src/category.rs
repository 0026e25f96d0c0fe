//! Categories form a forest of unlimited depth. Each category knows its materialized path:
//! the ids from its root down to itself. Paths make subtree questions prefix questions.

use serde::Serialize;

use crate::id::CategoryId;
use crate::timestamp::Timestamp;

/// Longest category name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A category's display name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CategoryName(String);

/// Why a string is not a category name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("must not be blank")]
    Blank,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// Checks the shared rules of display names (categories and products).
/// Checked as sent, as the published schema states them: at most `max_chars` characters,
/// white space around the name included, and no control character anywhere (a trailing
/// tab or line break is refused, not trimmed away). Blanks around the name (spaces and
/// other non-control white space) are then trimmed.
pub(crate) fn parse_display_name(raw: &str, max_chars: usize) -> Result<String, InvalidName> {
    if raw.chars().count() > max_chars {
        return Err(InvalidName::TooLong(max_chars));
    }
    if raw.chars().any(char::is_control) {
        return Err(InvalidName::ControlCharacter);
    }
    let name = raw.trim();
    if name.is_empty() {
        return Err(InvalidName::Blank);
    }
    Ok(name.to_owned())
}

impl CategoryName {
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        parse_display_name(raw, MAX_NAME_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form under which sibling names must be unique: case-insensitive, with runs of
    /// white space folded to one space.
    pub fn unique_key(&self) -> String {
        self.0
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }

    /// A URL-friendly form of the name: lower-case ASCII letters and digits joined by
    /// single hyphens (`"Phones & Tablets"` → `"phones-tablets"`); `"category"` when the
    /// name has no ASCII letters or digits at all.
    pub fn slug(&self) -> String {
        let mut slug = String::with_capacity(self.0.len());
        for word in self
            .0
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            if !slug.is_empty() {
                slug.push('-');
            }
            slug.push_str(&word.to_ascii_lowercase());
        }
        if slug.is_empty() {
            "category".to_owned()
        } else {
            slug
        }
    }
}

/// The ids from a root category down to one category (root first, ending with it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CategoryPath(Vec<CategoryId>);

/// Why a list of ids is not a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a category path must hold at least one id, each once")]
pub struct InvalidPath;

impl CategoryPath {
    /// The path of a root category.
    pub fn root(id: CategoryId) -> Self {
        Self(vec![id])
    }

    pub fn from_ids(ids: Vec<CategoryId>) -> Result<Self, InvalidPath> {
        let mut seen = std::collections::HashSet::new();
        if ids.is_empty() || ids.len() > MAX_PATH_LEN || !ids.iter().all(|id| seen.insert(*id)) {
            return Err(InvalidPath);
        }
        Ok(Self(ids))
    }

    /// The path of a new child `id` of the category at this path.
    pub fn child(&self, id: CategoryId) -> Self {
        let mut ids = self.0.clone();
        ids.push(id);
        Self(ids)
    }

    /// The path of a new child, refused when it would be deeper than [`MAX_PATH_LEN`].
    pub fn checked_child(&self, id: CategoryId) -> Result<Self, IllegalMove> {
        if self.0.len() >= MAX_PATH_LEN {
            return Err(IllegalMove::TooDeep);
        }
        Ok(self.child(id))
    }

    pub fn ids(&self) -> &[CategoryId] {
        &self.0
    }

    /// The category this path leads to.
    pub fn leaf(&self) -> CategoryId {
        self.0[self.0.len() - 1]
    }

    /// The root of the tree this path is in.
    pub fn root_id(&self) -> CategoryId {
        self.0[0]
    }

    /// The parent's id, `None` for a root.
    pub fn parent(&self) -> Option<CategoryId> {
        self.0.len().checked_sub(2).map(|i| self.0[i])
    }

    /// The ancestors' ids, root first, without the leaf itself.
    pub fn ancestors(&self) -> &[CategoryId] {
        &self.0[..self.0.len() - 1]
    }

    /// Depth in the tree: 0 for a root.
    pub fn level(&self) -> usize {
        self.0.len() - 1
    }

    /// True when this path is `other` or lies below it.
    pub fn is_within(&self, other: &CategoryPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// This path with its prefix `from` replaced by `to` (used when a subtree moves).
    /// `None` when this path is not within `from`.
    pub fn rebased(&self, from: &CategoryPath, to: &CategoryPath) -> Option<CategoryPath> {
        self.is_within(from).then(|| {
            let mut ids = to.0.clone();
            ids.extend_from_slice(&self.0[from.0.len()..]);
            CategoryPath(ids)
        })
    }
}

/// A category as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub name: CategoryName,
    pub path: CategoryPath,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Category {
    pub fn parent_id(&self) -> Option<CategoryId> {
        self.path.parent()
    }

    pub fn level(&self) -> usize {
        self.path.level()
    }
}

/// A change to a category: rename, move, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryChange {
    pub name: Option<CategoryName>,
    /// `Some(None)` moves the category to the top level.
    pub parent_id: Option<Option<CategoryId>>,
}

/// Deepest path a category may have (root = 1). DynamoDB sort keys hold at most 1 KiB and
/// a path takes 27 bytes a level in the keys, so depth is bounded; 32 levels is far more
/// than any catalog uses.
pub const MAX_PATH_LEN: usize = 32;

/// Why a category may not be placed where it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IllegalMove {
    #[error("a category cannot be moved under itself or one of its descendants")]
    IntoOwnSubtree,
    #[error("categories can be nested at most {MAX_PATH_LEN} levels deep")]
    TooDeep,
}

/// The path a category at `current` gets under a new parent at `new_parent` (`None`:
/// top level), given how many levels its subtree has below it (`subtree_height`, 0 for a
/// leaf). Refuses moves into the category's own subtree and moves that nest too deep.
pub fn moved_path(
    current: &CategoryPath,
    new_parent: Option<&CategoryPath>,
    subtree_height: usize,
) -> Result<CategoryPath, IllegalMove> {
    let id = current.leaf();
    let moved = match new_parent {
        None => CategoryPath::root(id),
        Some(parent) if parent.is_within(current) => return Err(IllegalMove::IntoOwnSubtree),
        Some(parent) => parent.child(id),
    };
    if moved.0.len() + subtree_height > MAX_PATH_LEN {
        return Err(IllegalMove::TooDeep);
    }
    Ok(moved)
}

/// A node of the category tree: a category with its children sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryNode {
    pub id: CategoryId,
    pub name: CategoryName,
    pub slug: String,
    pub level: usize,
    pub children: Vec<CategoryNode>,
}

/// Builds the forest of `categories` (any order). Categories whose parent is not in the
/// list become roots of the result, so a subtree's categories give that subtree.
/// Siblings are sorted by name (case-insensitively), then id.
pub fn build_forest(categories: Vec<Category>) -> Vec<CategoryNode> {
    use std::collections::HashMap;
    let present: std::collections::HashSet<CategoryId> = categories.iter().map(|c| c.id).collect();
    let mut children: HashMap<Option<CategoryId>, Vec<Category>> = HashMap::new();
    for category in categories {
        let parent = category.parent_id().filter(|p| present.contains(p));
        children.entry(parent).or_default().push(category);
    }
    fn build(
        parent: Option<CategoryId>,
        children: &mut HashMap<Option<CategoryId>, Vec<Category>>,
    ) -> Vec<CategoryNode> {
        let mut level = children.remove(&parent).unwrap_or_default();
        level.sort_by(|a, b| {
            a.name
                .unique_key()
                .cmp(&b.name.unique_key())
                .then_with(|| a.id.cmp(&b.id))
        });
        level
            .into_iter()
            .map(|c| CategoryNode {
                id: c.id,
                slug: c.name.slug(),
                level: c.level(),
                children: build(Some(c.id), children),
                name: c.name,
            })
            .collect()
    }
    build(None, &mut children)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> CategoryName {
        CategoryName::parse(s).expect("valid name")
    }

    fn ids(n: usize) -> Vec<CategoryId> {
        (0..n).map(|_| CategoryId::generate()).collect()
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Phones ").as_str(), "Phones");
        assert_eq!(CategoryName::parse("   "), Err(InvalidName::Blank));
        assert_eq!(
            CategoryName::parse(&"x".repeat(101)),
            Err(InvalidName::TooLong(100))
        );
        assert!(
            CategoryName::parse(&"é".repeat(100)).is_ok(),
            "counts characters, not bytes"
        );
        assert_eq!(
            CategoryName::parse("a\nb"),
            Err(InvalidName::ControlCharacter)
        );
    }

    #[test]
    fn unique_key_ignores_case_and_spacing() {
        assert_eq!(
            name("Phones  &   Tablets").unique_key(),
            name("phones & TABLETS").unique_key()
        );
        assert_ne!(name("Phones").unique_key(), name("Phone").unique_key());
    }

    #[test]
    fn slugs_are_url_friendly() {
        let cases = [
            ("Phones & Tablets", "phones-tablets"),
            ("  TVs  ", "tvs"),
            ("Men's Shoes (2026)", "men-s-shoes-2026"),
            ("Café Crème", "caf-cr-me"),
            ("日本", "category"),
        ];
        for (input, slug) in cases {
            assert_eq!(name(input).slug(), slug, "{input:?}");
        }
    }

    #[test]
    fn paths_know_their_family() {
        let [a, b, c] = ids(3).try_into().expect("three ids");
        let root = CategoryPath::root(a);
        let child = root.child(b);
        let grandchild = child.child(c);
        assert_eq!(grandchild.level(), 2);
        assert_eq!(grandchild.parent(), Some(b));
        assert_eq!(root.parent(), None);
        assert_eq!(grandchild.ancestors(), &[a, b]);
        assert_eq!(grandchild.root_id(), a);
        assert_eq!(grandchild.leaf(), c);
        assert!(grandchild.is_within(&root));
        assert!(child.is_within(&child));
        assert!(!root.is_within(&child));
        assert_eq!(CategoryPath::from_ids(vec![]), Err(InvalidPath));
        assert_eq!(CategoryPath::from_ids(vec![a, a]), Err(InvalidPath));
    }

    #[test]
    fn moving_rebases_the_subtree_and_refuses_cycles() {
        let [a, b, c, d] = ids(4).try_into().expect("four ids");
        let b_path = CategoryPath::root(a).child(b);
        let c_path = b_path.child(c);
        let d_root = CategoryPath::root(d);

        let moved = moved_path(&b_path, Some(&d_root), 1).expect("legal move");
        assert_eq!(moved.ids(), &[d, b]);
        assert_eq!(
            c_path.rebased(&b_path, &moved).expect("within").ids(),
            &[d, b, c]
        );
        assert_eq!(d_root.rebased(&b_path, &moved), None);
        assert_eq!(moved_path(&b_path, None, 1).expect("to top").ids(), &[b]);

        assert_eq!(
            moved_path(&b_path, Some(&b_path), 0),
            Err(IllegalMove::IntoOwnSubtree)
        );
        assert_eq!(
            moved_path(&b_path, Some(&c_path), 0),
            Err(IllegalMove::IntoOwnSubtree)
        );
    }

    #[test]
    fn depth_is_bounded() {
        let mut path = CategoryPath::root(CategoryId::generate());
        while path.ids().len() < MAX_PATH_LEN {
            path = path
                .checked_child(CategoryId::generate())
                .expect("within the limit");
        }
        assert_eq!(path.level(), MAX_PATH_LEN - 1);
        assert_eq!(
            path.checked_child(CategoryId::generate()),
            Err(IllegalMove::TooDeep)
        );

        let other_root = CategoryPath::root(CategoryId::generate());
        let leaf = CategoryPath::root(CategoryId::generate());
        let too_tall = MAX_PATH_LEN - 1;
        assert_eq!(
            moved_path(&leaf, Some(&other_root), too_tall),
            Err(IllegalMove::TooDeep)
        );
        assert!(moved_path(&leaf, Some(&other_root), too_tall - 1).is_ok());
    }

    #[test]
    fn builds_a_sorted_forest() {
        let now = Timestamp::now();
        let make = |id: CategoryId, n: &str, path: CategoryPath| Category {
            id,
            name: name(n),
            path,
            created_at: now,
            updated_at: now,
        };
        let [a, b, c, d] = ids(4).try_into().expect("four ids");
        let pa = CategoryPath::root(a);
        let forest = build_forest(vec![
            make(c, "zebra", pa.child(c)),
            make(a, "Beta", pa.clone()),
            make(b, "apple", pa.child(b)),
            make(d, "Alpha", CategoryPath::root(d)),
        ]);
        let names: Vec<&str> = forest.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Alpha", "Beta"]);
        let children: Vec<&str> = forest[1].children.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(children, ["apple", "zebra"]);
        assert_eq!(forest[1].children[0].level, 1);

        let subtree = build_forest(vec![make(b, "apple", pa.child(b))]);
        assert_eq!(
            subtree.len(),
            1,
            "a category whose parent is absent is a root of the result"
        );
    }
}

/// Properties of category names (trimmed, bounded, no control characters), their unique
/// keys and slugs, and of paths.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use proptest::sample::Index;
    use ulid::Ulid;

    use super::*;

    /// A word of a name: ASCII, or any characters that are neither blank nor control.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z0-9&'.]{1,8}", "[^\\s\\p{Cc}]{1,6}"]
    }

    /// A name as staff type it: one to eight words, single spaces between them.
    fn name_text() -> impl Strategy<Value = String> {
        prop::collection::vec(word(), 1..=8).prop_map(|words| words.join(" "))
    }

    /// Blanks that may surround a name (tabs and line breaks are control characters:
    /// refused, not trimmed).
    fn padding() -> impl Strategy<Value = String> {
        "[ \u{a0}\u{2003}\u{3000}]{0,3}"
    }

    /// `words` as someone else might type them: each word's ASCII letters in upper or
    /// lower case, and any run of (non-control) blanks between the words.
    fn retyped(words: Vec<String>) -> impl Strategy<Value = String> {
        let n = words.len();
        (
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec("[ \u{a0}\u{2003}\u{3000}]{1,3}", n),
        )
            .prop_map(move |(upper, gaps)| {
                let mut text = String::new();
                for ((word, upper), gap) in words.iter().zip(upper).zip(gaps) {
                    if !text.is_empty() {
                        text.push_str(&gap);
                    }
                    text.push_str(&if upper {
                        word.to_ascii_uppercase()
                    } else {
                        word.to_ascii_lowercase()
                    });
                }
                text
            })
    }

    fn words_and_retyped() -> impl Strategy<Value = (String, String)> {
        prop::collection::vec(word(), 1..=8)
            .prop_flat_map(|words| (Just(words.join(" ")), retyped(words)))
    }

    /// One of a dozen category ids: few enough that paths share ids and prefixes.
    fn category_id() -> impl Strategy<Value = CategoryId> {
        (0_u128..12).prop_map(|n| Ulid(n).to_string().parse().expect("an id"))
    }

    /// A path of distinct ids, one to `max` long.
    fn path(max: usize) -> impl Strategy<Value = CategoryPath> {
        prop::collection::vec(category_id(), 1..=max).prop_map(|mut ids| {
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| seen.insert(*id));
            CategoryPath::from_ids(ids).expect("distinct ids")
        })
    }

    fn name(text: &str) -> CategoryName {
        CategoryName::parse(text).expect("a name")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A name is stored trimmed, whatever blanks surround it.
        #[test]
        fn names_are_trimmed(text in name_text(), before in padding(), after in padding()) {
            let parsed = CategoryName::parse(&format!("{before}{text}{after}"));
            prop_assert_eq!(parsed.as_ref().map(CategoryName::as_str), Ok(text.as_str()));
        }

        /// Names are at most 100 characters (not bytes) as sent, blanks around them
        /// included, and at least one once trimmed.
        #[test]
        fn names_are_bounded_in_characters(text in "[^\\s\\p{Cc}]{1,130}", blanks in padding()) {
            let sent = format!("{blanks}{text}");
            let parsed = CategoryName::parse(&sent);
            if sent.chars().count() <= MAX_NAME_CHARS {
                prop_assert_eq!(parsed, Ok(name(&text)));
            } else {
                prop_assert_eq!(parsed, Err(InvalidName::TooLong(MAX_NAME_CHARS)));
            }
        }

        /// A control character inside a name is refused.
        #[test]
        fn control_characters_are_refused(
            text in name_text().prop_filter("two characters", |t| t.chars().count() >= 2),
            control in "\\p{Cc}",
            at in any::<Index>(),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            let inside = 1 + at.index(chars.len() - 1);
            chars.splice(inside..inside, control.chars());
            let spoiled: String = chars.into_iter().collect();
            prop_assert_eq!(
                CategoryName::parse(&spoiled),
                Err(InvalidName::ControlCharacter),
                "{:?}", spoiled
            );
        }

        /// Blanks alone are no name.
        #[test]
        fn blank_names_are_refused(blanks in "[ \u{a0}\u{2003}\u{3000}]{0,6}") {
            prop_assert_eq!(CategoryName::parse(&blanks), Err(InvalidName::Blank));
        }

        /// A control character is refused wherever it stands, at either end too, even
        /// where trimming would have dropped it (tab, line break).
        #[test]
        fn control_characters_at_the_ends_are_refused(
            text in name_text(),
            control in "\\p{Cc}",
            at_start in any::<bool>(),
        ) {
            let sent = if at_start { format!("{control}{text}") } else { format!("{text}{control}") };
            prop_assert_eq!(CategoryName::parse(&sent), Err(InvalidName::ControlCharacter), "{:?}", sent);
        }

        /// Any text: never a panic; an accepted name is the text trimmed, within the
        /// bounds, free of control characters, and parses to itself.
        #[test]
        fn accepted_names_keep_the_rules(text in prop_oneof![any::<String>(), "\\PC{0,8}"]) {
            if let Ok(parsed) = CategoryName::parse(&text) {
                let kept = parsed.as_str();
                prop_assert_eq!(kept, text.trim());
                prop_assert!((1..=MAX_NAME_CHARS).contains(&kept.chars().count()));
                prop_assert!(!kept.chars().any(char::is_control), "{:?}", kept);
                prop_assert_eq!(CategoryName::parse(kept), Ok(parsed.clone()));
            }
        }

        /// The unique key ignores ASCII case and how the words are spaced, and is itself
        /// a name whose key it is.
        #[test]
        fn unique_keys_ignore_case_and_spacing((text, other) in words_and_retyped()) {
            let key = name(&text).unique_key();
            prop_assert_eq!(name(&other).unique_key(), key.clone(), "{:?} vs {:?}", text, other);
            prop_assert!(!key.bytes().any(|b| b.is_ascii_uppercase()), "{:?}", key);
            prop_assert!(!key.contains("  ") && key.trim() == key, "{:?}", key);
            prop_assert_eq!(name(&key).unique_key(), key);
        }

        /// Names whose words differ other than in case have different keys.
        #[test]
        fn different_words_have_different_keys(
            words in prop::collection::vec("[A-Za-z0-9&']{1,4}", 1..=4),
            replacement in "[A-Za-z0-9&']{1,4}",
            at in any::<Index>(),
        ) {
            let mut other = words.clone();
            other[at.index(words.len())] = replacement;
            let lower = |w: &[String]| w.iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>();
            let same_words = lower(&words) == lower(&other);
            prop_assert_eq!(
                name(&words.join(" ")).unique_key() == name(&other.join(" ")).unique_key(),
                same_words
            );
        }

        /// A slug is lower-case ASCII letters and digits in hyphen-separated groups, holds
        /// exactly the name's ASCII letters and digits (or is `category`), ignores case
        /// and spacing, and is its own slug.
        #[test]
        fn slugs_are_stable_and_within_their_alphabet((text, other) in words_and_retyped()) {
            let slug = name(&text).slug();
            prop_assert!(
                !slug.is_empty()
                    && slug.split('-').all(|group| {
                        !group.is_empty()
                            && group.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    }),
                "{:?}", slug
            );
            let alphanumerics: String = text
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect();
            if alphanumerics.is_empty() {
                prop_assert_eq!(&slug, "category");
            } else {
                prop_assert_eq!(slug.replace('-', ""), alphanumerics);
            }
            prop_assert_eq!(name(&other).slug(), slug.clone());
            prop_assert_eq!(name(&slug).slug(), slug);
        }

        /// A path is one to 32 distinct ids, kept in order.
        #[test]
        fn paths_are_one_to_32_distinct_ids(
            ids in prop_oneof![
                // A few ids out of a dozen: repeats are likely.
                prop::collection::vec(category_id(), 0..=4),
                // Up to two more fresh ids than a path may hold.
                (0..=MAX_PATH_LEN + 2)
                    .prop_map(|n| (0..n).map(|_| CategoryId::generate()).collect()),
            ],
        ) {
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            let valid = !ids.is_empty() && ids.len() <= MAX_PATH_LEN && unique.len() == ids.len();
            let path = CategoryPath::from_ids(ids.clone());
            prop_assert_eq!(path.is_ok(), valid, "{} ids", ids.len());
            if let Ok(path) = path {
                prop_assert_eq!(path.ids(), ids.as_slice());
            }
        }

        /// Moving a category puts it under its new parent, unless that is in its own
        /// subtree or the subtree would end up too deep; its descendants follow.
        #[test]
        fn moves_rebase_the_subtree(
            current in path(6),
            parent in proptest::option::of(path(6)),
            below in prop::collection::vec(any::<u8>(), 0..=3),
            height in prop_oneof![0_usize..=4, 25_usize..=MAX_PATH_LEN],
        ) {
            let moved = moved_path(&current, parent.as_ref(), height);
            match &parent {
                Some(parent) if parent.is_within(&current) => {
                    prop_assert_eq!(moved, Err(IllegalMove::IntoOwnSubtree));
                }
                _ => {
                    let levels = parent.as_ref().map_or(0, |p| p.ids().len()) + 1 + height;
                    if levels > MAX_PATH_LEN {
                        prop_assert_eq!(moved, Err(IllegalMove::TooDeep));
                    } else {
                        let moved = moved.expect("a legal move");
                        prop_assert_eq!(moved.leaf(), current.leaf());
                        prop_assert_eq!(moved.parent(), parent.as_ref().map(CategoryPath::leaf));
                        // A descendant (ids unknown to both paths) follows the category.
                        let mut descendant = current.clone();
                        for _ in &below {
                            descendant = descendant.child(CategoryId::generate());
                        }
                        let rebased = descendant.rebased(&current, &moved).expect("within");
                        prop_assert!(rebased.is_within(&moved));
                        prop_assert_eq!(
                            &rebased.ids()[moved.ids().len()..],
                            &descendant.ids()[current.ids().len()..]
                        );
                        prop_assert_eq!(rebased.level(), moved.level() + below.len());
                    }
                }
            }
        }
    }
}
