// The question editor of the survey builder: one card a question, rendered
// from `questions` (the state) and writing every edit back to it.
import { el, replaceChildren } from "./dom.js";
import { LIMITS, QUESTION_TYPES, defaultQuestion, isChoice } from "./rules.js";

let nextKey = 1;

/**
 * Return an editable copy of a question: the API's defaults filled in (a
 * stored rating may omit min and max) and a client-side key for stable
 * element ids, which is never sent to the API.
 */
export function withKey(question) {
  const copy = { ...defaultQuestion(question.type), ...question, key: nextKey++ };
  if (Array.isArray(copy.options)) {
    copy.options = [...copy.options];
  }
  return copy;
}

/** Return the question as the API expects it: no client key, no id, no empty optional bounds. */
export function toApiQuestion(question) {
  const { key, id, ...rest } = question;
  const result = { ...rest, text: (rest.text || "").trim(), required: Boolean(rest.required) };
  if (isChoice(result.type)) {
    result.options = (result.options || []).map((option) => (option || "").trim());
  } else {
    delete result.options;
  }
  if (result.type !== "rating" && result.type !== "number") {
    delete result.min;
    delete result.max;
  }
  if (result.type === "number") {
    if (result.min === null || result.min === undefined) delete result.min;
    if (result.max === null || result.max === undefined) delete result.max;
  }
  if (result.type !== "text") {
    delete result.max_length;
  }
  return result;
}

/** Convert a question to `type`, keeping its text, required flag and compatible fields. */
function convertQuestion(question, type) {
  const converted = { ...defaultQuestion(type), key: question.key, text: question.text, required: question.required };
  if (isChoice(type) && isChoice(question.type)) {
    converted.options = question.options;
  }
  return converted;
}

function parseNumber(value) {
  if (value.trim() === "") {
    return null;
  }
  const number = Number(value);
  return Number.isFinite(number) ? number : Number.NaN;
}

/**
 * The editor of a question list. Every edit writes straight into `questions`,
 * and `render()` rebuilds the cards after a structural change (add, remove,
 * move, type).
 */
export class QuestionEditor {
  constructor(container, questions, { locked = false } = {}) {
    this.container = container;
    this.questions = questions;
    this.locked = locked;
  }

  /** Return the element id of the input that the API path names, e.g. `questions[1].options[0]`. */
  inputIdFor(path) {
    const match = /^questions\[(\d+)\](?:\.([a-z_]+)(?:\[(\d+)\])?)?$/.exec(path);
    if (!match) {
      return null;
    }
    const question = this.questions[Number(match[1])];
    if (!question) {
      return null;
    }
    const base = `q${question.key}`;
    const field = match[2];
    if (field === "options" && match[3] !== undefined) return `${base}-option-${match[3]}`;
    if (field === "options") return `${base}-option-0`;
    if (field === "min") return `${base}-min`;
    if (field === "max") return `${base}-max`;
    if (field === "max_length") return `${base}-max-length`;
    if (field === "required") return `${base}-required`;
    if (field === "type") return `${base}-type`;
    return `${base}-text`;
  }

  /** Return the element after which the error of `path` is shown. */
  errorAnchorFor(path, input) {
    if (/\.options$/.test(path)) {
      return input.closest(".options-list") || input;
    }
    return input.closest(".choice") || input.closest(".option-row") || input;
  }

  add(type) {
    this.questions.push(withKey(defaultQuestion(type)));
    this.render();
    document.getElementById(`q${this.questions.at(-1).key}-text`)?.focus();
  }

  render() {
    replaceChildren(this.container, ...this.questions.map((question, index) => this.card(question, index)));
  }

  card(question, index) {
    const base = `q${question.key}`;
    const number = index + 1;
    const headingId = `${base}-heading`;
    const article = el(
      "section",
      { class: "card question-card", attrs: { "aria-labelledby": headingId } },
      el(
        "div",
        { class: "question-head" },
        el("h3", { id: headingId, text: `Question ${number}` }),
        this.locked ? null : this.tools(index, number),
      ),
      this.typeField(question, base),
      this.textField(question, base),
      this.requiredField(question, base),
      this.typeSpecificFields(question, base),
    );
    return article;
  }

  tools(index, number) {
    const button = (label, aria, action, disabled) =>
      el("button", {
        type: "button",
        class: "secondary",
        text: label,
        disabled,
        attrs: { "aria-label": aria },
        onclick: action,
      });
    return el(
      "div",
      { class: "question-tools" },
      button("Move up", `Move up question ${number}`, () => this.move(index, -1, "up"), index === 0),
      button("Move down", `Move down question ${number}`, () => this.move(index, 1, "down"), index === this.questions.length - 1),
      button("Remove", `Remove question ${number}`, () => this.remove(index), false),
    );
  }

  move(index, offset, direction) {
    const target = index + offset;
    const [question] = this.questions.splice(index, 1);
    this.questions.splice(target, 0, question);
    this.render();
    // Keep keyboard focus on the same control of the moved card, or its
    // other move button when this one is now disabled at the list's end.
    const buttons = this.container.children[target].querySelectorAll(".question-tools button");
    const preferred = direction === "up" ? buttons[0] : buttons[1];
    const fallback = direction === "up" ? buttons[1] : buttons[0];
    (preferred.disabled ? fallback : preferred).focus();
  }

  remove(index) {
    this.questions.splice(index, 1);
    this.render();
    const cards = this.container.children;
    if (cards.length) {
      const card = cards[Math.min(index, cards.length - 1)];
      card.querySelector("input, select, button")?.focus();
    } else {
      document.getElementById("add-question")?.focus();
    }
  }

  typeField(question, base) {
    const select = el(
      "select",
      {
        id: `${base}-type`,
        disabled: this.locked,
        onchange: (event) => {
          const index = this.questions.indexOf(question);
          this.questions[index] = convertQuestion(question, event.target.value);
          this.render();
          document.getElementById(`${base}-type`)?.focus();
        },
      },
      QUESTION_TYPES.map((type) =>
        el("option", { value: type.value, text: type.label, selected: type.value === question.type }),
      ),
    );
    return el("div", { class: "field" }, el("label", { htmlFor: select.id, text: "Type" }), select);
  }

  textField(question, base) {
    const input = el("input", {
      type: "text",
      id: `${base}-text`,
      value: question.text || "",
      maxLength: LIMITS.questionTextMax * 2,
      readOnly: this.locked,
      oninput: (event) => {
        question.text = event.target.value;
      },
    });
    return el("div", { class: "field" }, el("label", { htmlFor: input.id, text: "Question text" }), input);
  }

  requiredField(question, base) {
    const checkbox = el("input", {
      type: "checkbox",
      id: `${base}-required`,
      checked: Boolean(question.required),
      disabled: this.locked,
      onchange: (event) => {
        question.required = event.target.checked;
      },
    });
    return el(
      "div",
      { class: "field" },
      el("div", { class: "choice" }, checkbox, el("label", { htmlFor: checkbox.id, text: "An answer is required" })),
    );
  }

  typeSpecificFields(question, base) {
    if (isChoice(question.type)) {
      return this.optionsField(question, base);
    }
    if (question.type === "rating") {
      return el(
        "div",
        { class: "inline-fields" },
        this.numberField(question, base, "min", "Lowest rating", { min: 0, max: 10, step: 1 }),
        this.numberField(question, base, "max", "Highest rating", { min: 0, max: 10, step: 1 }),
      );
    }
    if (question.type === "number") {
      return el(
        "div",
        { class: "inline-fields" },
        this.numberField(question, base, "min", "Minimum (optional)", { step: "any" }),
        this.numberField(question, base, "max", "Maximum (optional)", { step: "any" }),
      );
    }
    return this.numberField(question, base, "max_length", "Maximum answer length (characters)", {
      min: 1,
      max: LIMITS.textMaxLength,
      step: 1,
    });
  }

  numberField(question, base, property, label, { min, max, step }) {
    const idSuffix = property === "max_length" ? "max-length" : property;
    const input = el("input", {
      type: "number",
      id: `${base}-${idSuffix}`,
      value: question[property] ?? "",
      readOnly: this.locked,
      attrs: { min, max, step, inputmode: step === 1 ? "numeric" : "decimal" },
      oninput: (event) => {
        question[property] = parseNumber(event.target.value);
      },
    });
    return el("div", { class: "field" }, el("label", { htmlFor: input.id, text: label }), input);
  }

  optionsField(question, base) {
    const list = el("div", { class: "options-list" });
    const rows = question.options.map((option, index) => this.optionRow(question, base, index, list));
    list.append(...rows);
    const legendId = `${base}-options-legend`;
    return el(
      "fieldset",
      { attrs: { "aria-labelledby": legendId } },
      el("legend", { id: legendId, text: "Options" }),
      list,
      this.locked
        ? null
        : el("button", {
            type: "button",
            class: "secondary",
            text: "Add option",
            id: `${base}-add-option`,
            disabled: question.options.length >= LIMITS.optionsMax,
            onclick: () => {
              question.options.push("");
              this.render();
              document.getElementById(`${base}-option-${question.options.length - 1}`)?.focus();
            },
          }),
    );
  }

  optionRow(question, base, index) {
    const input = el("input", {
      type: "text",
      id: `${base}-option-${index}`,
      value: question.options[index],
      maxLength: LIMITS.optionTextMax * 2,
      readOnly: this.locked,
      oninput: (event) => {
        question.options[index] = event.target.value;
      },
    });
    const label = el("label", { htmlFor: input.id, class: "muted", text: `Option ${index + 1}` });
    const remove = this.locked
      ? null
      : el("button", {
          type: "button",
          class: "secondary",
          text: "Remove",
          attrs: { "aria-label": `Remove option ${index + 1}` },
          onclick: () => {
            question.options.splice(index, 1);
            this.render();
            const next = document.getElementById(`${base}-option-${Math.min(index, question.options.length - 1)}`);
            (next || document.getElementById(`${base}-add-option`))?.focus();
          },
        });
    return el("div", { class: "option-row" }, label, input, remove);
  }
}
