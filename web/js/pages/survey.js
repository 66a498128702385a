// One survey for its owner: share link, status switch, results, responses,
// CSV export and deletion.
import { barChart, formatNumber, statList } from "../charts.js";
import { el, formatDate, queryParam, replaceChildren } from "../dom.js";
import { showAlert, showNotice, whileBusy } from "../forms.js";
import { initOwnerPage } from "../layout.js";
import { authRequest, leaveNotice } from "../session.js";

const $ = (id) => document.getElementById(id);
const RESPONSES_PAGE_SIZE = 20;
const TYPE_LABELS = {
  single_choice: "Single choice",
  multiple_choice: "Multiple choice",
  rating: "Rating",
  number: "Number",
  text: "Text",
};

const surveyId = queryParam("id");
let survey = null;

// --- Survey header, share link and status ----------------------------------

function describeLimits(current) {
  const parts = [
    `${current.response_count} ${current.response_count === 1 ? "response" : "responses"}`,
    `created ${formatDate(current.created_at)}`,
  ];
  if (current.closes_at) parts.push(`closes ${formatDate(current.closes_at)}`);
  if (current.max_responses) parts.push(`limit ${current.max_responses} responses`);
  return parts.join(" · ");
}

function renderSurvey() {
  document.title = `${survey.title} – results`;
  $("survey-title").textContent = survey.title;
  $("survey-description").textContent = survey.description || "";
  $("survey-description").hidden = !survey.description;
  $("survey-meta").textContent = describeLimits(survey);
  $("share-link").value = new URL(`respond.html?id=${encodeURIComponent(survey.survey_id)}`, document.baseURI).href;
  $("edit-link").href = `edit.html?id=${encodeURIComponent(survey.survey_id)}`;
  renderStatus();
}

function renderStatus() {
  const open = survey.status === "open";
  const toggle = $("status-switch");
  toggle.setAttribute("aria-checked", String(open));
  let hint = open
    ? "The survey is open: anyone with the link can respond. Switch off to close it."
    : "The survey is closed: respondents see that it no longer accepts responses. Switch on to reopen it.";
  // The API also stops responses at the closing date and the response limit,
  // whatever the status, so an open survey can still turn respondents away.
  if (open && survey.closes_at && new Date(survey.closes_at) <= new Date()) {
    hint = "The closing date has passed, so respondents can no longer answer. Edit the survey to move the date.";
  } else if (open && survey.max_responses && survey.response_count >= survey.max_responses) {
    hint = "The response limit is reached, so respondents can no longer answer. Edit the survey to raise the limit.";
  }
  $("status-switch-hint").textContent = hint;
}

async function toggleStatus() {
  const nextStatus = survey.status === "open" ? "closed" : "open";
  const toggle = $("status-switch");
  toggle.disabled = true;
  showAlert(null);
  try {
    survey = await authRequest("/survey", { method: "PATCH", query: { survey_id: surveyId }, body: { status: nextStatus } });
    renderSurvey();
    showNotice(nextStatus === "open" ? "The survey is open again." : "The survey is closed.");
  } catch (error) {
    showAlert(error.message);
  } finally {
    toggle.disabled = false;
    toggle.focus();
  }
}

async function copyLink() {
  const input = $("share-link");
  const status = $("copy-status");
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = "Link copied to the clipboard.";
  } catch {
    // The Clipboard API needs a secure context and permission; selecting the
    // text lets the person copy it with the keyboard instead.
    input.focus();
    input.select();
    status.textContent = "Copying was blocked by the browser. The link is selected: press Ctrl+C (or ⌘C) to copy it.";
  }
}

// --- Results -----------------------------------------------------------------

function questionResult(result, index) {
  const answered = Number(result.answered ?? result.count ?? 0);
  const heading = el("h3", { text: `${index + 1}. ${result.text}` });
  const meta = el("p", {
    class: "muted",
    text: `${TYPE_LABELS[result.type] || result.type} · answered by ${answered}`,
  });
  const body = [];
  if (result.type === "single_choice" || result.type === "multiple_choice") {
    const rows = Object.entries(result.counts || {}).map(([label, count]) => ({ label, count: Number(count) }));
    body.push(barChart(rows, answered, `Answers to question ${index + 1}`));
  } else if (result.type === "rating") {
    const rows = Object.entries(result.distribution || {})
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([label, count]) => ({ label, count: Number(count) }));
    body.push(statList([["Average", formatNumber(result.average)], ["Lowest", formatNumber(result.min)], ["Highest", formatNumber(result.max)]]));
    body.push(barChart(rows, answered, `Rating distribution of question ${index + 1}`));
  } else if (result.type === "number") {
    body.push(statList([["Average", formatNumber(result.average)], ["Minimum", formatNumber(result.min)], ["Maximum", formatNumber(result.max)]]));
  } else {
    body.push(el("p", { text: "Text answers are listed in the responses table below." }));
  }
  return el("section", { class: "card" }, heading, meta, ...body);
}

async function loadResults() {
  try {
    const results = await authRequest("/survey/results", { query: { survey_id: surveyId } });
    const count = Number(results.response_count || 0);
    $("results-summary").textContent =
      count === 0 ? "No responses yet. Share the link to collect some." : `Based on ${count} ${count === 1 ? "response" : "responses"}.`;
    replaceChildren($("results"), ...results.questions.map(questionResult));
  } catch (error) {
    $("results-summary").textContent = `The results could not be loaded: ${error.message}`;
  }
}

// --- Responses table ---------------------------------------------------------

// Tokens of the pages seen so far; the last one is the current page's.
const pageTokens = [null];

function formatAnswer(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.join("; ") : "—";
  if (typeof value === "number") return formatNumber(value);
  return String(value);
}

function renderResponses(responses) {
  const questions = survey.questions;
  const header = el(
    "tr",
    {},
    el("th", { attrs: { scope: "col" }, text: "Submitted" }),
    questions.map((question, index) => el("th", { attrs: { scope: "col" }, text: `${index + 1}. ${question.text}` })),
  );
  const rows = responses.map((response) =>
    el(
      "tr",
      {},
      el("td", { text: formatDate(response.submitted_at) }),
      questions.map((question) => el("td", { class: "pre-wrap", text: formatAnswer((response.answers || {})[question.id]) })),
    ),
  );
  const first = (pageTokens.length - 1) * RESPONSES_PAGE_SIZE + 1;
  replaceChildren(
    $("responses-table"),
    el("caption", { text: `Responses ${first} to ${first + responses.length - 1}, oldest first` }),
    el("thead", {}, header),
    el("tbody", {}, rows),
  );
}

async function loadResponses() {
  const status = $("responses-status");
  status.textContent = "Loading responses…";
  try {
    const page = await authRequest("/survey/responses", {
      query: { survey_id: surveyId, limit: RESPONSES_PAGE_SIZE, next_token: pageTokens.at(-1) },
    });
    const responses = page.responses || [];
    $("responses-wrap").hidden = responses.length === 0;
    status.textContent = responses.length === 0 && pageTokens.length === 1 ? "No responses yet." : "";
    if (responses.length) {
      renderResponses(responses);
    }
    $("responses-prev").hidden = pageTokens.length === 1;
    $("responses-next").hidden = !page.next_token;
    $("responses-next").dataset.token = page.next_token || "";
  } catch (error) {
    status.textContent = `The responses could not be loaded: ${error.message}`;
  }
}

/** Keep keyboard focus on a paging button, or the table when the pressed one is now hidden. */
function keepPagingFocus(pressed) {
  if (!pressed.hidden) {
    pressed.focus();
  } else if (!$("responses-wrap").hidden) {
    $("responses-wrap").focus();
  }
}

// --- CSV export --------------------------------------------------------------

function fileName(title) {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
  return `${slug || "survey"}-responses.csv`;
}

async function downloadCsv() {
  showAlert(null);
  await whileBusy($("download-csv"), "Preparing CSV…", async () => {
    try {
      const response = await authRequest("/survey/export", {
        query: { survey_id: surveyId, format: "csv" },
        raw: true,
      });
      const blob = await response.blob();
      const url = URL.createObjectURL(new Blob([blob], { type: "text/csv" }));
      const link = el("a", { href: url, download: fileName(survey.title), hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      // Revoke after the click has started the download, not before.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      showNotice("The CSV file was downloaded.");
    } catch (error) {
      showAlert(error.message);
    }
  });
}

// --- Delete ------------------------------------------------------------------

function openDeleteDialog() {
  const count = survey.response_count;
  $("delete-dialog-text").textContent =
    `"${survey.title}" and its ${count} ${count === 1 ? "response" : "responses"} will be deleted. This cannot be undone.`;
  $("delete-dialog").showModal();
}

async function confirmDelete() {
  const button = $("confirm-delete");
  await whileBusy(button, "Deleting…", async () => {
    try {
      await authRequest("/survey", { method: "DELETE", query: { survey_id: surveyId } });
      leaveNotice(`The survey "${survey.title}" was deleted.`);
      window.location.assign(new URL("index.html", document.baseURI).href);
    } catch (error) {
      $("delete-dialog").close();
      showAlert(error.message);
    }
  });
}

// --- Start -------------------------------------------------------------------

async function init() {
  if (!initOwnerPage()) {
    return;
  }
  if (!surveyId) {
    $("loading").hidden = true;
    showAlert("No survey was given. Open a survey from your list.");
    return;
  }
  try {
    survey = await authRequest("/survey", { query: { survey_id: surveyId } });
  } catch (error) {
    $("loading").hidden = true;
    showAlert(error.message);
    return;
  }
  $("loading").hidden = true;
  renderSurvey();
  $("survey-view").hidden = false;

  const params = new URLSearchParams(window.location.search);
  if (params.has("created")) showNotice("The survey was created. Share the link below to collect responses.");
  if (params.has("saved")) showNotice("Your changes were saved.");

  $("status-switch").addEventListener("click", toggleStatus);
  $("copy-link").addEventListener("click", copyLink);
  $("download-csv").addEventListener("click", downloadCsv);
  $("delete-survey").addEventListener("click", openDeleteDialog);
  $("confirm-delete").addEventListener("click", confirmDelete);
  $("responses-next").addEventListener("click", async () => {
    pageTokens.push($("responses-next").dataset.token);
    await loadResponses();
    keepPagingFocus($("responses-next"));
  });
  $("responses-prev").addEventListener("click", async () => {
    pageTokens.pop();
    await loadResponses();
    keepPagingFocus($("responses-prev"));
  });

  await Promise.all([loadResults(), loadResponses()]);
}

init();
