// Result charts: bar rows as an accessible table, each bar an SVG drawn with
// createElementNS so labels stay text nodes.
import { el, svg } from "./dom.js";

function percent(count, total) {
  return total > 0 ? (count / total) * 100 : 0;
}

function formatPercent(value) {
  return `${value.toFixed(value > 0 && value < 10 ? 1 : 0)}%`;
}

/** Format a number for people: up to 2 decimals, or an em dash when there is none. */
export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) {
    return "—";
  }
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
}

function bar(share) {
  const width = Math.max(0, Math.min(100, share));
  return svg(
    "svg",
    { viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" },
    svg("rect", { class: "bar-track", x: 0, y: 0, width: 100, height: 10, rx: 1 }),
    svg("rect", { class: "bar-fill", x: 0, y: 0, width: width.toFixed(2), height: 10, rx: 1 }),
  );
}

/**
 * Build a bar chart of `rows` (`[{label, count}]`). Percentages are shares of
 * `total`: the number of people who answered, so multiple-choice shares can
 * add up to more than 100%.
 */
export function barChart(rows, total, caption) {
  return el(
    "table",
    { class: "chart-table" },
    el("caption", { class: "visually-hidden", text: caption }),
    el(
      "thead",
      { class: "visually-hidden" },
      el(
        "tr",
        {},
        el("th", { attrs: { scope: "col" }, text: "Answer" }),
        el("th", { attrs: { scope: "col" }, text: "Share" }),
        el("th", { attrs: { scope: "col" }, text: "Responses" }),
        el("th", { attrs: { scope: "col" }, text: "Percent" }),
      ),
    ),
    el(
      "tbody",
      {},
      rows.map((row) => {
        const share = percent(row.count, total);
        return el(
          "tr",
          {},
          el("th", { attrs: { scope: "row" }, text: row.label }),
          el("td", { class: "bar-cell" }, bar(share)),
          el("td", { class: "number", text: formatNumber(row.count) }),
          el("td", { class: "number", text: formatPercent(share) }),
        );
      }),
    ),
  );
}

/** Build a list of summary statistics (`[[label, value]]`). */
export function statList(pairs) {
  return el(
    "dl",
    { class: "stats" },
    pairs.map(([label, value]) => el("div", {}, el("dt", { text: label }), el("dd", { text: value }))),
  );
}
