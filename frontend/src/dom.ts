// Small DOM helpers shared by the pages: elements are built with text, never with markup.

export type Attrs = Record<string, string>;

/** A new element with a class, text (as text) and attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text: string | null = null,
  attrs: Attrs = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/** The page's element with this id; a page without it is a build error, said loudly. */
export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page lacks #${id}`);
  return node as T;
}
