// DOM helpers. Every text value goes through textContent or a DOM property,
// never through an HTML parser, so stored titles, options and answers stay inert.

/**
 * Create an element. `props` keys: `class`, `text`, `dataset`, `on<event>`
 * handlers, `attrs` (set with setAttribute) and any other DOM property.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

/** Create an SVG element (charts) with attributes set through setAttribute. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") {
      node.textContent = String(value);
    } else if (value !== null && value !== undefined) {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

const HTML_SINKS = new Set(["innerHTML", "outerHTML", "srcdoc"]);

function applyProps(node, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) {
      continue;
    }
    if (name === "class") {
      node.className = value;
    } else if (name === "text") {
      node.textContent = String(value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name === "attrs") {
      for (const [attr, attrValue] of Object.entries(value)) {
        if (attrValue !== undefined && attrValue !== null && attrValue !== false) {
          node.setAttribute(attr, attrValue === true ? "" : String(attrValue));
        }
      }
    } else if (HTML_SINKS.has(name)) {
      throw new Error(`el() does not set ${name}: pass text or child nodes instead`);
    } else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else {
      node[name] = value;
    }
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Remove every child of `node`, then append `children`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/** Format an ISO 8601 timestamp for people, in the browser's locale and time zone. */
export function formatDate(iso) {
  if (!iso) {
    return "";
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return String(iso);
  }
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Return the query parameter `name` of the current page, or null. */
export function queryParam(name) {
  return new URLSearchParams(window.location.search).get(name);
}
