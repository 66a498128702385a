// The header of the signed-in pages: who is signed in and the sign-out button.
import { currentSession, requireSession, signOut } from "./session.js";

/** Fill the header of a signed-in page and return the session, or redirect to sign-in and return null. */
export function initOwnerPage() {
  const session = requireSession();
  if (!session) {
    return null;
  }
  showAccount(session);
  return session;
}

/** Show the account's email and wire the sign-out button. */
export function showAccount(session = currentSession()) {
  const nav = document.getElementById("site-nav");
  const accountEmail = document.getElementById("account-email");
  const button = document.getElementById("sign-out");
  if (!nav || !session) {
    return;
  }
  accountEmail.textContent = session.email || "";
  nav.hidden = false;
  button.addEventListener("click", () => {
    signOut("You are signed out.");
    window.location.assign(new URL("index.html", document.baseURI).href);
  });
}
