// The survey builder: create a survey (optionally from a template) or edit one.
import { QuestionEditor, toApiQuestion, withKey } from "../builder.js";
import { el, queryParam, replaceChildren } from "../dom.js";
import { clearFieldErrors, setFieldError, showAlert, whileBusy } from "../forms.js";
import { initOwnerPage } from "../layout.js";
import { QUESTION_TYPES, defaultQuestion, validateSurvey } from "../rules.js";
import { messageWithoutField } from "../http.js";
import { authRequest } from "../session.js";

const $ = (id) => document.getElementById(id);

const surveyId = queryParam("id");
let editor = null;
let loaded = null;

// --- Dates: datetime-local works in local time, the API in UTC ------------

function toLocalInputValue(iso) {
  if (!iso) {
    return "";
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return "";
  }
  const pad = (value) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function closesAtFromInput(value) {
  if (!value) {
    return null;
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "invalid" : date.toISOString();
}

// --- Reading the form ------------------------------------------------------

function readSurvey() {
  const maxResponses = $("survey-max-responses").value.trim();
  return {
    title: $("survey-title").value.trim(),
    description: $("survey-description").value,
    questions: editor.questions.map(toApiQuestion),
    closes_at: closesAtFromInput($("survey-closes-at").value),
    max_responses: maxResponses === "" ? null : Number(maxResponses),
  };
}

const TOP_LEVEL_INPUTS = {
  title: "survey-title",
  description: "survey-description",
  closes_at: "survey-closes-at",
  max_responses: "survey-max-responses",
};

/** Place an error next to the field that `path` names. Returns that input, or null when no field matches. */
function showFieldError(path, message) {
  let inputId = TOP_LEVEL_INPUTS[path] || null;
  if (path === "questions") {
    inputId = "add-question";
  } else if (!inputId) {
    inputId = editor.inputIdFor(path);
  }
  const input = inputId ? $(inputId) : null;
  if (!input) {
    return null;
  }
  if (input.getAttribute("aria-invalid") === "true") {
    return input;
  }
  const anchor = path === "questions" ? $("question-adder") : editor.errorAnchorFor(path, input);
  setFieldError(input, message, anchor);
  return input;
}

// --- Saving ----------------------------------------------------------------

function changesFrom(survey) {
  const changes = {};
  // The input shows whole minutes, so compare at that precision: an untouched
  // field must not send the stored time rounded down as a change.
  if ($("survey-closes-at").value !== toLocalInputValue(loaded.closes_at)) {
    changes.closes_at = survey.closes_at;
  }
  for (const name of ["title", "description", "max_responses"]) {
    const before = loaded[name] ?? (name === "description" ? "" : null);
    const after = survey[name] ?? null;
    if (before !== after) {
      changes[name] = after;
    }
  }
  if (!editor.locked) {
    const before = JSON.stringify(loaded.questions.map(toApiQuestion));
    if (before !== JSON.stringify(survey.questions)) {
      changes.questions = survey.questions;
    }
  }
  return changes;
}

function createBody(survey) {
  const body = { title: survey.title, questions: survey.questions };
  if (survey.description) body.description = survey.description;
  if (survey.closes_at) body.closes_at = survey.closes_at;
  if (survey.max_responses !== null) body.max_responses = survey.max_responses;
  return body;
}

async function onSubmit(event) {
  event.preventDefault();
  const form = $("survey-form");
  clearFieldErrors(form);
  showAlert(null);

  const survey = readSurvey();
  const errors = validateSurvey(survey, { checkQuestions: !editor.locked });
  const closesChanged = !loaded || toLocalInputValue(loaded.closes_at) !== $("survey-closes-at").value;
  if (survey.closes_at && survey.closes_at !== "invalid" && closesChanged && new Date(survey.closes_at) <= new Date()) {
    errors.push({ field: "closes_at", message: "The closing date must be in the future." });
  }
  if (errors.length) {
    const inputs = errors.map((error) => showFieldError(error.field, error.message));
    showAlert(`The survey has ${errors.length} ${errors.length === 1 ? "problem" : "problems"}; see the marked fields.`);
    inputs.find(Boolean)?.focus();
    return;
  }

  await whileBusy($("save-survey"), loaded ? "Saving…" : "Creating…", async () => {
    try {
      let target;
      if (loaded) {
        const changes = changesFrom(survey);
        if (Object.keys(changes).length) {
          await authRequest("/survey", { method: "PATCH", query: { survey_id: surveyId }, body: changes });
        }
        target = `survey.html?id=${encodeURIComponent(surveyId)}&saved=1`;
      } else {
        const created = await authRequest("/survey/create", { method: "POST", body: createBody(survey) });
        target = `survey.html?id=${encodeURIComponent(created.survey_id)}&created=1`;
      }
      window.location.assign(new URL(target, document.baseURI).href);
    } catch (error) {
      let input = null;
      if (error.status === 400 && error.field) {
        input = showFieldError(error.field, messageWithoutField(error.message, error.field));
      }
      showAlert(input ? `The survey was not saved: ${error.message}` : error.message);
      input?.focus();
    }
  });
}

// --- Templates -------------------------------------------------------------

async function loadTemplates() {
  const select = $("template-select");
  const button = $("use-template");
  $("template-section").hidden = false;
  try {
    const { templates } = await authRequest("/templates");
    const options = templates.map((template) => el("option", { value: template.name, text: template.title }));
    replaceChildren(select, el("option", { value: "", text: "Choose a template" }), ...options);
    button.disabled = templates.length === 0;
    if (!templates.length) {
      $("template-status").textContent = "No templates are available.";
    }
  } catch (error) {
    replaceChildren(select, el("option", { value: "", text: "No templates" }));
    $("template-status").textContent = `Templates could not be loaded: ${error.message}`;
  }
}

async function useTemplate() {
  const name = $("template-select").value;
  const status = $("template-status");
  if (!name) {
    status.textContent = "Choose a template first.";
    $("template-select").focus();
    return;
  }
  await whileBusy($("use-template"), "Loading…", async () => {
    try {
      const template = await authRequest("/template", { query: { name } });
      $("survey-title").value = template.title || "";
      $("survey-description").value = template.description || "";
      editor.questions.splice(0, editor.questions.length, ...template.questions.map((question) => withKey(question)));
      editor.render();
      clearFieldErrors($("survey-form"));
      status.textContent = `Loaded the template "${template.title}" with ${template.questions.length} questions. Edit it below.`;
    } catch (error) {
      status.textContent = `The template could not be loaded: ${error.message}`;
    }
  });
}

// --- Start -----------------------------------------------------------------

function fillForm(survey) {
  $("survey-title").value = survey.title;
  $("survey-description").value = survey.description || "";
  $("survey-closes-at").value = toLocalInputValue(survey.closes_at);
  $("survey-max-responses").value = survey.max_responses ?? "";
}

async function init() {
  if (!initOwnerPage()) {
    return;
  }
  const typeSelect = $("new-question-type");
  typeSelect.append(...QUESTION_TYPES.map((type) => el("option", { value: type.value, text: type.label })));
  $("add-question").addEventListener("click", () => editor.add(typeSelect.value));
  $("use-template").addEventListener("click", useTemplate);
  $("survey-form").addEventListener("submit", onSubmit);

  if (!surveyId) {
    editor = new QuestionEditor($("question-list"), [withKey(defaultQuestion("single_choice"))]);
    editor.render();
    $("survey-form").hidden = false;
    loadTemplates();
    return;
  }

  document.title = "Edit survey";
  $("page-title").textContent = "Edit survey";
  $("save-survey").textContent = "Save changes";
  $("cancel-edit").href = `survey.html?id=${encodeURIComponent(surveyId)}`;
  try {
    loaded = await authRequest("/survey", { query: { survey_id: surveyId } });
  } catch (error) {
    showAlert(error.message);
    return;
  }
  const locked = Number(loaded.response_count || 0) > 0;
  editor = new QuestionEditor($("question-list"), loaded.questions.map((question) => withKey(question)), { locked });
  $("questions-locked").hidden = !locked;
  $("question-adder").hidden = locked;
  fillForm(loaded);
  editor.render();
  $("survey-form").hidden = false;
}

init();
