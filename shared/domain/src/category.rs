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
pub(crate) fn parse_display_name(raw: &str, max_chars: usize) -> Result<String, InvalidName> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(InvalidName::Blank);
    }
    if name.chars().count() > max_chars {
        return Err(InvalidName::TooLong(max_chars));
    }
    if name.chars().any(char::is_control) {
        return Err(InvalidName::ControlCharacter);
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
