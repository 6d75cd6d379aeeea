// The problem brief, written in Markdown by the pack's author, rendered as HTML: parsed by
// marked and sanitized by DOMPurify (through the outputs' sanitizer, which also forbids
// styles, ids and any URL that would make the browser fetch something).

import { marked } from "marked";

import { sanitizeHtml } from "./outputs";

/** ``text`` as sanitized HTML; headings are moved down to sit under the page's own. */
export function renderMarkdown(text: string, shiftHeadings = 2): DocumentFragment {
  const html = marked.parse(text, { async: false, gfm: true, breaks: false }) as string;
  const fragment = sanitizeHtml(html);
  if (shiftHeadings > 0) {
    for (const h of fragment.querySelectorAll<HTMLHeadingElement>("h1, h2, h3, h4, h5, h6")) {
      const level = Math.min(6, Number(h.tagName[1]) + shiftHeadings);
      const moved = document.createElement(`h${level}`);
      moved.append(...h.childNodes);
      h.replaceWith(moved);
    }
  }
  return fragment;
}
