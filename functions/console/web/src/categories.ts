// The category forest flattened for <select>s: each category with its full path of names.

import { get, type CategoryNode } from './api';
import { useLoad } from './load';

export interface CategoryOption {
  id: string;
  label: string;
  /** Ids of this category and all its descendants. */
  subtree: Set<string>;
}

export function flatten(forest: CategoryNode[], prefix = ''): CategoryOption[] {
  const out: CategoryOption[] = [];
  for (const node of forest) {
    const label = prefix ? `${prefix} / ${node.name}` : node.name;
    const below = flatten(node.children, label);
    const subtree = new Set<string>([node.id, ...below.map((option) => option.id)]);
    out.push({ id: node.id, label, subtree }, ...below);
  }
  return out;
}

export function useCategoryTree() {
  return useLoad(() => get<CategoryNode[]>('/categories/tree'), []);
}

export function useCategoryOptions() {
  const tree = useCategoryTree();
  return { ...tree, options: tree.data ? flatten(tree.data) : [] };
}
