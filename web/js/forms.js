// Form feedback: page alerts and errors placed next to the field they concern.
import { el } from "./dom.js";

/** Show `message` in the page's alert region (role="alert"), or clear it with null. */
export function showAlert(message, { id = "page-alert" } = {}) {
  const region = document.getElementById(id);
  if (region) {
    region.textContent = message || "";
  }
}

/** Show a polite status message (role="status"), or clear it with null. */
export function showNotice(message, { id = "page-notice" } = {}) {
  const region = document.getElementById(id);
  if (region) {
    region.textContent = message || "";
  }
}

/**
 * Attach an error message to `input`: a paragraph after `anchor` (the input
 * itself unless given), `aria-invalid` and `aria-describedby` so screen
 * readers read the message with the field.
 */
export function setFieldError(input, message, anchor = input) {
  clearFieldError(input);
  if (!message) {
    return;
  }
  const errorId = `${input.id}-error`;
  const paragraph = el("p", { class: "field-error", id: errorId, text: message });
  paragraph.dataset.errorFor = input.id;
  anchor.after(paragraph);
  input.setAttribute("aria-invalid", "true");
  const describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  describedBy.push(errorId);
  input.setAttribute("aria-describedby", describedBy.join(" "));
}

/** Remove the error that setFieldError attached to `input`. */
export function clearFieldError(input) {
  const errorId = `${input.id}-error`;
  document.getElementById(errorId)?.remove();
  input.removeAttribute("aria-invalid");
  const describedBy = (input.getAttribute("aria-describedby") || "")
    .split(" ")
    .filter((id) => id && id !== errorId);
  if (describedBy.length) {
    input.setAttribute("aria-describedby", describedBy.join(" "));
  } else {
    input.removeAttribute("aria-describedby");
  }
}

/** Remove every field error inside `root`. */
export function clearFieldErrors(root) {
  for (const paragraph of root.querySelectorAll(".field-error")) {
    const input = paragraph.dataset.errorFor ? document.getElementById(paragraph.dataset.errorFor) : null;
    if (input) {
      clearFieldError(input);
    } else {
      paragraph.remove();
    }
  }
}

/** Disable a button and show `busyLabel` while `work` runs, then return work's result. */
export async function whileBusy(button, busyLabel, work) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}
