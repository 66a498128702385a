// The start page: sign in, sign up, confirm, and the list of the user's surveys.
import { el, formatDate, replaceChildren } from "../dom.js";
import { clearFieldErrors, setFieldError, showAlert, showNotice, whileBusy } from "../forms.js";
import { ApiError, loadConfig, request } from "../http.js";
import { showAccount } from "../layout.js";
import { authRequest, currentSession, signIn, takeNotice } from "../session.js";

const PAGE_SIZE = 20;
const VIEWS = ["sign-in-view", "sign-up-view", "confirm-view", "dashboard-view"];
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const $ = (id) => document.getElementById(id);

function showView(id, focusId = null) {
  for (const view of VIEWS) {
    $(view).hidden = view !== id;
  }
  showAlert(null);
  const focusTarget = focusId ? $(focusId) : null;
  if (focusTarget) {
    focusTarget.focus();
  }
}

/** Return the page to open after sign-in: only a page of this site, never another origin. */
function nextPage() {
  const next = new URLSearchParams(window.location.search).get("next") || "";
  return /^[a-z]+\.html(\?[A-Za-z0-9_=&%-]*)?$/.test(next) ? next : null;
}

// --- Sign in, sign up, confirm --------------------------------------------

function validateCredentials(form, { newPassword }) {
  clearFieldErrors(form);
  const email = form.elements.email;
  const password = form.elements.password;
  let valid = true;
  if (!EMAIL_PATTERN.test(email.value.trim())) {
    setFieldError(email, "Enter an email address like name@example.com.");
    valid = false;
  }
  let passwordProblem = null;
  if (newPassword) {
    passwordProblem = passwordRuleProblem(password.value);
  } else if (!password.value) {
    passwordProblem = "Enter your password.";
  }
  if (passwordProblem) {
    setFieldError(password, passwordProblem);
    valid = false;
  }
  if (!valid) {
    form.querySelector("[aria-invalid='true']").focus();
  }
  return valid;
}

function passwordRuleProblem(password) {
  if (password.length < 8) return "The password needs at least 8 characters.";
  if (password.length > 256) return "The password can have at most 256 characters.";
  if (!/[A-Z]/.test(password)) return "The password needs an uppercase letter.";
  if (!/[a-z]/.test(password)) return "The password needs a lowercase letter.";
  if (!/[0-9]/.test(password)) return "The password needs a digit.";
  return null;
}

/** Put an API error next to the form field it names, or in the page alert. */
function showFormError(form, error) {
  const input = error.field ? form.elements[error.field] : null;
  if (input && error.status === 400) {
    // Messages start with the field name ("code is wrong; ..."), lower case.
    setFieldError(input, error.message.charAt(0).toUpperCase() + error.message.slice(1));
    input.focus();
  } else {
    showAlert(error.message);
  }
}

async function completeSignIn(email, password) {
  await signIn(email, password);
  const next = nextPage();
  if (next) {
    window.location.assign(new URL(next, document.baseURI).href);
    return;
  }
  history.replaceState(null, "", window.location.pathname);
  await showDashboard();
}

function openConfirm(email, intro) {
  $("confirm-email").value = email;
  $("confirm-intro").textContent = intro;
  showView("confirm-view", "confirm-code");
}

async function onSignIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!validateCredentials(form, { newPassword: false })) {
    return;
  }
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  showAlert(null);
  await whileBusy(form.querySelector("button[type=submit]"), "Signing in…", async () => {
    try {
      await completeSignIn(email, password);
    } catch (error) {
      if (error instanceof ApiError && error.code === "user_not_confirmed") {
        pendingPassword = password;
        openConfirm(email, "Your email address is not confirmed yet. Enter the code we sent you.");
        return;
      }
      showAlert(error.message);
    }
  });
}

// Kept in memory only, so a confirmed sign-up can sign in without asking again.
let pendingPassword = null;

async function onSignUp(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!validateCredentials(form, { newPassword: true })) {
    return;
  }
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  showAlert(null);
  await whileBusy(form.querySelector("button[type=submit]"), "Creating account…", async () => {
    try {
      const config = await loadConfig();
      const result = await request("/auth/signup", { method: "POST", body: { email, password } });
      if (result.confirmed && !config.signup_requires_code) {
        await completeSignIn(email, password);
        return;
      }
      pendingPassword = password;
      openConfirm(email, "We sent a confirmation code to your email address. Enter it below.");
    } catch (error) {
      showFormError(form, error);
    }
  });
}

async function onConfirm(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFieldErrors(form);
  const email = form.elements.email.value.trim();
  const code = form.elements.code.value.trim();
  if (!EMAIL_PATTERN.test(email)) {
    setFieldError(form.elements.email, "Enter an email address like name@example.com.");
    form.elements.email.focus();
    return;
  }
  if (!code) {
    setFieldError(form.elements.code, "Enter the code from the email.");
    form.elements.code.focus();
    return;
  }
  showAlert(null);
  await whileBusy(form.querySelector("button[type=submit]"), "Confirming…", async () => {
    try {
      await request("/auth/confirm", { method: "POST", body: { email, code } });
    } catch (error) {
      showFormError(form, error);
      return;
    }
    if (pendingPassword) {
      const password = pendingPassword;
      pendingPassword = null;
      try {
        await completeSignIn(email, password);
        return;
      } catch (error) {
        showAlert(error.message);
      }
    }
    $("sign-in-email").value = email;
    showView("sign-in-view", "sign-in-password");
    showNotice("Your email address is confirmed. You can sign in now.");
  });
}

// --- Dashboard --------------------------------------------------------------

let nextToken = null;

function surveyItem(summary) {
  const status = summary.status === "open" ? "Open" : "Closed";
  const count = Number(summary.response_count || 0);
  return el(
    "li",
    { class: "card" },
    el("a", { href: `survey.html?id=${encodeURIComponent(summary.survey_id)}`, text: summary.title }),
    el(
      "span",
      { class: "meta" },
      el("span", { class: `status-badge status-${summary.status === "open" ? "open" : "closed"}`, text: status }),
      el("span", { text: `${count} ${count === 1 ? "response" : "responses"}` }),
      el("span", { text: `Created ${formatDate(summary.created_at)}` }),
    ),
  );
}

async function loadSurveys({ append }) {
  const list = $("survey-list");
  const status = $("survey-list-status");
  const more = $("load-more");
  status.textContent = "Loading surveys…";
  try {
    const page = await authRequest("/surveys", { query: { limit: PAGE_SIZE, next_token: append ? nextToken : null } });
    const items = page.surveys.map(surveyItem);
    if (append) {
      list.append(...items);
    } else {
      replaceChildren(list, ...items);
    }
    nextToken = page.next_token || null;
    more.hidden = !nextToken;
    const listedCount = list.children.length;
    status.textContent =
      listedCount === 0
        ? "You have no surveys yet."
        : `Showing ${listedCount} ${listedCount === 1 ? "survey" : "surveys"}.`;
  } catch (error) {
    status.textContent = "";
    showAlert(error.message);
  }
}

async function showDashboard() {
  showAccount(currentSession());
  showView("dashboard-view");
  await loadSurveys({ append: false });
}

function init() {
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-up-form").addEventListener("submit", onSignUp);
  $("confirm-form").addEventListener("submit", onConfirm);
  $("show-sign-up").addEventListener("click", () => showView("sign-up-view", "sign-up-email"));
  $("show-sign-in").addEventListener("click", () => showView("sign-in-view", "sign-in-email"));
  $("confirm-back").addEventListener("click", () => showView("sign-in-view", "sign-in-email"));
  $("load-more").addEventListener("click", (event) =>
    whileBusy(event.currentTarget, "Loading…", () => loadSurveys({ append: true })),
  );

  const notice = takeNotice();
  if (currentSession()) {
    showDashboard();
  } else {
    showView(window.location.hash === "#sign-up" ? "sign-up-view" : "sign-in-view");
  }
  if (notice) {
    showNotice(notice);
  }
}

init();
