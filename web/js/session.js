// Signed-in session: tokens, silent refresh and authenticated requests.
//
// Tokens live in sessionStorage: they survive a reload of the tab but end
// with it, and other tabs or windows never see them. That keeps a refresh
// token (valid for days) off a shared computer once the tab is closed, at the
// cost of signing in again in a new tab. Any script on the page can read
// either storage, so the XSS defence is the CSP plus textContent-only
// rendering, not the storage choice.
import { ApiError, request } from "./http.js";

const STORAGE_KEY = "survey.session";
const NOTICE_KEY = "survey.notice";
// Refresh this long before `expires_in` runs out, so a request sent just
// before expiry does not arrive with a dead token.
const EXPIRY_MARGIN_MS = 60_000;

let refreshInFlight = null;

/** Return the stored session `{email, id_token, access_token, refresh_token, expires_at}` or null. */
export function currentSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
    return session && typeof session.id_token === "string" ? session : null;
  } catch {
    return null;
  }
}

function storeSession(session) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

/** Sign in with email and password and store the tokens. */
export async function signIn(email, password) {
  const tokens = await request("/auth/login", { method: "POST", body: { email, password } });
  storeSession({
    email,
    id_token: tokens.id_token,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + Number(tokens.expires_in || 3600) * 1000,
  });
}

/** Forget the tokens of this tab. */
export function signOut(notice = null) {
  sessionStorage.removeItem(STORAGE_KEY);
  if (notice) {
    sessionStorage.setItem(NOTICE_KEY, notice);
  }
}

/** Leave a message for the next page of this tab to show (e.g. after a redirect). */
export function leaveNotice(message) {
  sessionStorage.setItem(NOTICE_KEY, message);
}

/** Return and clear the message left for the sign-in page (e.g. "session expired"). */
export function takeNotice() {
  const notice = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return notice;
}

/** Exchange the refresh token for new tokens. Concurrent callers share one exchange. */
function refreshTokens(session) {
  if (!refreshInFlight) {
    refreshInFlight = request("/auth/refresh", {
      method: "POST",
      body: { refresh_token: session.refresh_token },
    })
      .then((tokens) => {
        const renewed = {
          ...session,
          id_token: tokens.id_token,
          access_token: tokens.access_token,
          expires_at: Date.now() + Number(tokens.expires_in || 3600) * 1000,
        };
        storeSession(renewed);
        return renewed;
      })
      .finally(() => {
        refreshInFlight = null;
      });
  }
  return refreshInFlight;
}

/** Sign out and go back to sign-in with a message, because the session expired and could not be renewed. */
function expireSession() {
  signOut("Your session has expired. Please sign in again.");
  redirectToSignIn();
  return new ApiError(401, "unauthorized", "Your session has expired. Please sign in again.");
}

/** Send the browser to the sign-in page, remembering where to come back to. */
export function redirectToSignIn() {
  const back = window.location.pathname.split("/").pop() + window.location.search;
  const target = new URL("index.html", document.baseURI);
  if (back && !back.startsWith("index.html")) {
    target.searchParams.set("next", back);
  }
  window.location.assign(target.href);
}

async function validSession() {
  let session = currentSession();
  if (!session) {
    throw expireSession();
  }
  if (Date.now() > session.expires_at - EXPIRY_MARGIN_MS) {
    try {
      session = await refreshTokens(session);
    } catch (error) {
      if (error instanceof ApiError && error.code === "network") {
        throw error;
      }
      throw expireSession();
    }
  }
  return session;
}

/**
 * Send an owner request with the ID token (it carries the email the API
 * stores as the owner's). A 401 gets one silent refresh and retry.
 */
export async function authRequest(path, options = {}) {
  let session = await validSession();
  try {
    return await request(path, withToken(options, session));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      throw error;
    }
  }
  try {
    session = await refreshTokens(session);
  } catch (error) {
    if (error instanceof ApiError && error.code === "network") {
      throw error;
    }
    throw expireSession();
  }
  try {
    return await request(path, withToken(options, session));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw expireSession();
    }
    throw error;
  }
}

function withToken(options, session) {
  return { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${session.id_token}` } };
}

/** Return the page's session, or send the browser to sign-in and return null. */
export function requireSession() {
  const session = currentSession();
  if (!session) {
    redirectToSignIn();
    return null;
  }
  return session;
}
