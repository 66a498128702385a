// The public respondent page: no account, no session code, no chart code.
import { el, queryParam, replaceChildren } from "../dom.js";
import { clearFieldErrors, setFieldError, showAlert } from "../forms.js";
import { ApiError, messageWithoutField, newIdempotencyKey, request } from "../http.js";
import { validateAnswer } from "../rules.js";

const $ = (id) => document.getElementById(id);
const surveyId = queryParam("id");
const KEY_STORAGE = `survey.respond-key.${surveyId}`;
const NOT_FOUND_MESSAGE = "This survey does not exist or was deleted. Check the link you were given.";

let survey = null;
let submitting = false;

// --- Unavailable surveys -----------------------------------------------------

function showUnavailable(title, text) {
  $("loading").hidden = true;
  $("survey").hidden = true;
  $("unavailable-title").textContent = title;
  $("unavailable-text").textContent = text;
  $("unavailable").hidden = false;
  $("unavailable-title").focus();
  document.title = title;
}

function showLoadError(error) {
  if (error.status === 404 || error.status === 400) {
    showUnavailable("Survey not found", NOT_FOUND_MESSAGE);
  } else if (error.status === 410) {
    showUnavailable("This survey is closed", `${error.message} It no longer accepts responses.`);
  } else {
    showUnavailable("The survey could not be loaded", error.message);
  }
}

// --- Questions -----------------------------------------------------------------

function legendFor(question, index, id) {
  return el(
    "legend",
    { id },
    `${index + 1}. ${question.text}`,
    question.required ? el("span", { class: "required-mark", text: " (required)" }) : null,
  );
}

function choiceInput(type, name, id, value, question) {
  return el(
    "div",
    { class: "choice" },
    el("input", { type, name, id, value, required: question.required && type === "radio" }),
    el("label", { htmlFor: id, text: value }),
  );
}

function optionGroup(question, index, base) {
  const type = question.type === "single_choice" ? "radio" : "checkbox";
  const values =
    question.type === "rating"
      ? Array.from({ length: question.max - question.min + 1 }, (_, offset) => String(question.min + offset))
      : question.options;
  const legendId = `${base}-legend`;
  const hint =
    question.type === "rating"
      ? el("span", { class: "hint", id: `${base}-hint`, text: `${question.min} is the lowest, ${question.max} the highest.` })
      : question.type === "multiple_choice"
        ? el("span", { class: "hint", id: `${base}-hint`, text: "Choose all that apply." })
        : null;
  const inputs = values.map((value, position) =>
    choiceInput(question.type === "rating" ? "radio" : type, base, `${base}-${position}`, value, question),
  );
  return el(
    "fieldset",
    {
      class: "question-block",
      id: base,
      attrs: { "aria-labelledby": legendId, "aria-describedby": hint ? hint.id : null },
    },
    legendFor(question, index, legendId),
    hint,
    el("div", { class: question.type === "rating" ? "rating-scale" : "" }, inputs),
  );
}

function numberField(question, index, base) {
  const hasMin = typeof question.min === "number";
  const hasMax = typeof question.max === "number";
  let hintText = "Enter a number.";
  if (hasMin && hasMax) hintText = `Enter a number from ${question.min} to ${question.max}.`;
  else if (hasMin) hintText = `Enter a number of at least ${question.min}.`;
  else if (hasMax) hintText = `Enter a number of at most ${question.max}.`;
  const input = el("input", {
    type: "number",
    id: `${base}-input`,
    step: "any",
    required: Boolean(question.required),
    attrs: { inputmode: "decimal", min: hasMin ? question.min : null, max: hasMax ? question.max : null, "aria-describedby": `${base}-hint` },
  });
  return el(
    "div",
    { class: "question-block field", id: base },
    labelFor(question, index, input.id),
    el("span", { class: "hint", id: `${base}-hint`, text: hintText }),
    input,
  );
}

function textField(question, index, base) {
  const maxLength = question.max_length ?? 2000;
  const input = el("textarea", {
    id: `${base}-input`,
    maxLength,
    required: Boolean(question.required),
    attrs: { "aria-describedby": `${base}-hint` },
  });
  return el(
    "div",
    { class: "question-block field", id: base },
    labelFor(question, index, input.id),
    el("span", { class: "hint", id: `${base}-hint`, text: `Up to ${maxLength} characters.` }),
    input,
  );
}

function labelFor(question, index, inputId) {
  return el(
    "label",
    { htmlFor: inputId },
    `${index + 1}. ${question.text}`,
    question.required ? el("span", { class: "required-mark", text: " (required)" }) : null,
  );
}

function questionBlock(question, index) {
  const base = `question-${index}`;
  if (question.type === "number") return numberField(question, index, base);
  if (question.type === "text") return textField(question, index, base);
  return optionGroup(question, index, base);
}

// --- Reading and checking answers ----------------------------------------------

/** Return the answer of question `index` as the API expects it, or undefined when unanswered. */
function readAnswer(question, index) {
  const base = `question-${index}`;
  const block = $(base);
  if (question.type === "number") {
    const input = $(`${base}-input`);
    if (input.validity.badInput) return Number.NaN;
    return input.value.trim() === "" ? undefined : Number(input.value);
  }
  if (question.type === "text") {
    const value = $(`${base}-input`).value;
    return value.trim() === "" ? undefined : value;
  }
  const checked = [...block.querySelectorAll("input:checked")].map((input) => input.value);
  if (question.type === "multiple_choice") return checked.length ? checked : undefined;
  if (!checked.length) return undefined;
  return question.type === "rating" ? Number.parseInt(checked[0], 10) : checked[0];
}

function focusTargetOf(index) {
  const block = $(`question-${index}`);
  return block.querySelector("input:checked") || block.querySelector("input, textarea");
}

function showQuestionError(index, message) {
  const block = $(`question-${index}`);
  const input = block.querySelector("input, textarea");
  const anchor = block.querySelector("legend") || block.querySelector(".hint") || input;
  setFieldError(input, message, anchor);
}

function collectAnswers() {
  const answers = {};
  const problems = [];
  survey.questions.forEach((question, index) => {
    const value = readAnswer(question, index);
    const problem = validateAnswer(question, value);
    if (problem) {
      problems.push({ index, message: problem });
    } else if (value !== undefined) {
      answers[question.id] = value;
    }
  });
  return { answers, problems };
}

// --- Submitting ----------------------------------------------------------------

/**
 * Return this form's Idempotency-Key. It is made once per filled form and kept
 * in sessionStorage until a response is recorded, so a retry, a double click
 * or a reload after a dropped connection reuses it and the API stores one response.
 */
function idempotencyKey() {
  let key = sessionStorage.getItem(KEY_STORAGE);
  if (!key) {
    key = newIdempotencyKey();
    sessionStorage.setItem(KEY_STORAGE, key);
  }
  return key;
}

function showThanks() {
  sessionStorage.removeItem(KEY_STORAGE);
  $("survey").hidden = true;
  $("thanks").hidden = false;
  $("thanks-title").focus();
  document.title = "Thank you";
}

function showSubmitError(error) {
  if (error.status === 410) {
    showUnavailable("This survey is closed", `${error.message} Your response was not recorded.`);
    return;
  }
  if (error.status === 404) {
    showUnavailable("Survey not found", NOT_FOUND_MESSAGE);
    return;
  }
  const match = error.field ? /^answers\.(.+)$/.exec(error.field) : null;
  const index = match ? survey.questions.findIndex((question) => question.id === match[1]) : -1;
  if (error.status === 400 && index >= 0) {
    showQuestionError(index, messageWithoutField(error.message, error.field));
    focusTargetOf(index).focus();
  }
  const retry = error.code === "network" || error.status >= 500 ? " Your answers are kept: submit again to retry." : "";
  showAlert(`Your response was not recorded: ${error.message}${retry}`);
}

async function onSubmit(event) {
  event.preventDefault();
  if (submitting) {
    return;
  }
  const button = $("submit-response");
  clearFieldErrors($("response-form"));
  showAlert(null);

  const { answers, problems } = collectAnswers();
  if (problems.length) {
    problems.forEach(({ index, message }) => showQuestionError(index, message));
    showAlert(`Please check ${problems.length === 1 ? "1 answer" : `${problems.length} answers`} marked below.`);
    focusTargetOf(problems[0].index).focus();
    return;
  }

  submitting = true;
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    await request("/survey/respond", {
      method: "POST",
      body: { survey_id: surveyId, answers },
      headers: { "Idempotency-Key": idempotencyKey() },
    });
    showThanks();
  } catch (error) {
    showSubmitError(error instanceof ApiError ? error : new ApiError(0, "unknown", String(error)));
  } finally {
    submitting = false;
    button.disabled = false;
    button.textContent = "Submit";
  }
}

// --- Start -----------------------------------------------------------------------

async function init() {
  if (!surveyId) {
    showUnavailable("Survey not found", "This link has no survey in it. Check the link you were given.");
    return;
  }
  try {
    survey = await request("/survey/public", { query: { survey_id: surveyId } });
  } catch (error) {
    showLoadError(error);
    return;
  }
  if (survey.status === "closed" || (survey.closes_at && new Date(survey.closes_at) <= new Date())) {
    showUnavailable("This survey is closed", "This survey no longer accepts responses.");
    return;
  }
  document.title = survey.title;
  $("survey-title").textContent = survey.title;
  $("survey-description").textContent = survey.description || "";
  $("survey-description").hidden = !survey.description;
  replaceChildren($("questions"), ...survey.questions.map(questionBlock));
  $("response-form").addEventListener("submit", onSubmit);
  $("loading").hidden = true;
  $("survey").hidden = false;
}

init();
