// The API client core: configuration, requests and readable errors. The
// respondent page uses only this module, so it stays free of session code.

/** An API or network failure with a message that can be shown to people as is. */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const NETWORK_MESSAGE =
  "The service could not be reached. Check your connection and try again.";

let configPromise = null;

/** Load `config.json` (next to the HTML pages) once per page. */
export function loadConfig() {
  if (!configPromise) {
    configPromise = fetch(new URL("config.json", document.baseURI), { cache: "no-store" })
      .then(async (response) => {
        if (!response.ok) {
          throw new ApiError(response.status, "config", `The site configuration could not be loaded (HTTP ${response.status}).`);
        }
        const config = await response.json();
        if (typeof config.api_url !== "string" || !config.api_url) {
          throw new ApiError(0, "config", "The site configuration has no api_url.");
        }
        return { ...config, api_url: config.api_url.replace(/\/+$/, "") };
      })
      .catch((error) => {
        configPromise = null;
        if (error instanceof ApiError) {
          throw error;
        }
        throw new ApiError(0, "config", "The site configuration could not be loaded. Reload the page to try again.");
      });
  }
  return configPromise;
}

/** Build the API URL of `path` with the query parameters that are not null. */
export function apiUrl(config, path, query = {}) {
  const url = new URL(config.api_url + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") {
      url.searchParams.set(name, String(value));
    }
  }
  return url;
}

/**
 * Send one request to the API and return the parsed JSON body (or the text for
 * non-JSON responses). Throws ApiError with the API's `message` on a non-2xx
 * status, and with a connection message when the request got no response at all.
 */
export async function request(path, { method = "GET", query, body, headers = {}, raw = false } = {}) {
  const config = await loadConfig();
  const init = { method, headers: { ...headers }, cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(apiUrl(config, path, query), init);
  } catch {
    throw new ApiError(0, "network", NETWORK_MESSAGE);
  }

  if (!response.ok) {
    throw await errorFromResponse(response);
  }
  if (raw) {
    return response;
  }
  if (response.status === 204) {
    return null;
  }
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      throw new ApiError(response.status, "bad_response", "The service sent a response that could not be read. Try again.");
    }
  }
  return response.text();
}

/** Turn a failed response into an ApiError carrying the API's own message. */
export async function errorFromResponse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const code = body && typeof body.error === "string" ? body.error : "http_" + response.status;
  const message =
    body && typeof body.message === "string" && body.message.trim()
      ? body.message
      : fallbackMessage(response.status);
  const field = body && typeof body.field === "string" ? body.field : fieldFromMessage(message);
  return new ApiError(response.status, code, message, field);
}

function fallbackMessage(status) {
  if (status === 401) return "You are not signed in, or your session has expired.";
  if (status === 403) return "You do not have access to this.";
  if (status === 404) return "Not found.";
  if (status === 410) return "This survey no longer accepts responses.";
  if (status === 413) return "The request is too large.";
  if (status === 429) return "Too many requests. Wait a moment and try again.";
  if (status >= 500) return `The service failed (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

// Validation messages name the field first or inside the text, as in
// "questions[2].options must contain 2 to 50 options, got 1." or "answers.q3 is required.".
const FIELD_PATTERN =
  /\b(questions\[\d+\](?:\.[a-z_]+(?:\[\d+\])?)?|answers(?:\.|\[)["']?[A-Za-z0-9_-]+["']?\]?|title|description|closes_at|max_responses|questions|email|password|code|status)(?![\w[.])/;

/** Return the first field path named in an API validation message, or null. */
export function fieldFromMessage(message) {
  const match = FIELD_PATTERN.exec(message || "");
  if (!match) {
    return null;
  }
  return match[1].replace(/\[["']([^"'\]]+)["']\]/, ".$1").replace(/^answers\[([^\]]+)\]$/, "answers.$1");
}

/**
 * Strip the field path the API puts in front of a validation message, for
 * showing the message next to that field: "answers.q1 is required." becomes
 * "Is required.".
 */
export function messageWithoutField(message, field) {
  if (!field || !message.startsWith(field)) {
    return message;
  }
  const rest = message.slice(field.length).replace(/^\s*[:-]?\s*/, "");
  return rest ? rest.charAt(0).toUpperCase() + rest.slice(1) : message;
}

/** Return a fresh Idempotency-Key: 32 hex characters from the browser's CSPRNG. */
export function newIdempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
