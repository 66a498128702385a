// Survey rules of the API, checked in the browser before sending so errors
// show next to the field. The API checks them again and stays the authority.

export const QUESTION_TYPES = [
  { value: "single_choice", label: "Single choice" },
  { value: "multiple_choice", label: "Multiple choice" },
  { value: "rating", label: "Rating" },
  { value: "number", label: "Number" },
  { value: "text", label: "Text" },
];

export const LIMITS = {
  titleMax: 200,
  descriptionMax: 2000,
  questionsMax: 100,
  questionTextMax: 500,
  optionsMin: 2,
  optionsMax: 50,
  // NOTE: the API documents no option length limit; 200 is the backend's own (OPTION_MAX_LENGTH).
  optionTextMax: 200,
  ratingLowest: 0,
  ratingHighest: 10,
  textMaxLength: 5000,
  textDefaultMaxLength: 2000,
  maxResponsesMax: 1_000_000,
  // The API stores numbers exactly only within this magnitude.
  numberAbsMax: 1e12,
};

function outsideNumberRange(value) {
  return Math.abs(value) > LIMITS.numberAbsMax;
}

export function isChoice(type) {
  return type === "single_choice" || type === "multiple_choice";
}

/** Return a new question of `type` with the API's defaults. */
export function defaultQuestion(type = "single_choice") {
  const question = { type, text: "", required: false };
  if (isChoice(type)) {
    question.options = ["", ""];
  } else if (type === "rating") {
    question.min = 1;
    question.max = 5;
  } else if (type === "text") {
    question.max_length = LIMITS.textDefaultMaxLength;
  }
  return question;
}

/**
 * Validate a survey document as the API would. Returns a list of
 * `{field, message}` where `field` is the API's path, e.g. `questions[2].options`
 * (question indexes count from 0, as in the API's messages).
 */
export function validateSurvey(survey, { checkQuestions = true } = {}) {
  const errors = [];
  const add = (field, message) => errors.push({ field, message });

  const title = (survey.title || "").trim();
  if (!title) {
    add("title", "Enter a title.");
  } else if (title.length > LIMITS.titleMax) {
    add("title", `The title has ${title.length} characters; the maximum is ${LIMITS.titleMax}.`);
  }
  if ((survey.description || "").length > LIMITS.descriptionMax) {
    add("description", `The description has ${survey.description.length} characters; the maximum is ${LIMITS.descriptionMax}.`);
  }

  if (survey.max_responses !== null && survey.max_responses !== undefined) {
    const limit = survey.max_responses;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.maxResponsesMax) {
      add("max_responses", `The response limit must be a whole number from 1 to ${LIMITS.maxResponsesMax.toLocaleString("en")}.`);
    }
  }
  if (survey.closes_at === "invalid") {
    add("closes_at", "Enter a valid closing date and time.");
  }

  if (checkQuestions) {
    validateQuestions(survey.questions || [], add);
  }
  return errors;
}

function validateQuestions(questions, add) {
  if (questions.length === 0) {
    add("questions", "Add at least one question.");
  } else if (questions.length > LIMITS.questionsMax) {
    add("questions", `A survey can have at most ${LIMITS.questionsMax} questions.`);
  }
  questions.forEach((question, index) => validateQuestion(question, `questions[${index}]`, add));
}

function validateQuestion(question, path, add) {
  const text = (question.text || "").trim();
  if (!text) {
    add(`${path}.text`, "Enter the question text.");
  } else if (text.length > LIMITS.questionTextMax) {
    add(`${path}.text`, `The question has ${text.length} characters; the maximum is ${LIMITS.questionTextMax}.`);
  }

  if (isChoice(question.type)) {
    validateOptions(question.options || [], `${path}.options`, add);
  } else if (question.type === "rating") {
    validateRating(question, path, add);
  } else if (question.type === "number") {
    validateNumberRange(question, path, add);
  } else if (question.type === "text") {
    const maxLength = question.max_length;
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > LIMITS.textMaxLength) {
      add(`${path}.max_length`, `The maximum length must be a whole number from 1 to ${LIMITS.textMaxLength}.`);
    }
  } else {
    add(`${path}.type`, "Choose a question type.");
  }
}

function validateOptions(options, path, add) {
  const trimmed = options.map((option) => (option || "").trim());
  trimmed.forEach((option, index) => {
    if (!option) {
      add(`${path}[${index}]`, "Enter the option text or remove the option.");
    } else if (option.length > LIMITS.optionTextMax) {
      add(`${path}[${index}]`, `The option has ${option.length} characters; the maximum is ${LIMITS.optionTextMax}.`);
    } else if (trimmed.indexOf(option) !== index) {
      add(`${path}[${index}]`, "This option repeats an earlier one; options must be distinct.");
    }
  });
  if (options.length < LIMITS.optionsMin || options.length > LIMITS.optionsMax) {
    add(path, `A choice question needs ${LIMITS.optionsMin} to ${LIMITS.optionsMax} options.`);
  }
}

function validateRating(question, path, add) {
  const { min, max } = question;
  const inScale = (value) => Number.isInteger(value) && value >= LIMITS.ratingLowest && value <= LIMITS.ratingHighest;
  if (!inScale(min)) {
    add(`${path}.min`, `The lowest rating must be a whole number from ${LIMITS.ratingLowest} to ${LIMITS.ratingHighest}.`);
  }
  if (!inScale(max)) {
    add(`${path}.max`, `The highest rating must be a whole number from ${LIMITS.ratingLowest} to ${LIMITS.ratingHighest}.`);
  }
  if (inScale(min) && inScale(max) && min >= max) {
    add(`${path}.max`, "The highest rating must be above the lowest rating.");
  }
}

function validateNumberRange(question, path, add) {
  const { min, max } = question;
  if (min !== undefined && min !== null && !Number.isFinite(min)) {
    add(`${path}.min`, "The minimum must be a number or empty.");
  }
  if (max !== undefined && max !== null && !Number.isFinite(max)) {
    add(`${path}.max`, "The maximum must be a number or empty.");
  }
  for (const [name, value] of [["min", min], ["max", max]]) {
    if (Number.isFinite(value) && outsideNumberRange(value)) {
      add(`${path}.${name}`, "Use a number from -1,000,000,000,000 to 1,000,000,000,000.");
    }
  }
  if (Number.isFinite(min) && Number.isFinite(max) && min > max) {
    add(`${path}.max`, "The maximum must not be below the minimum.");
  }
}

/** Validate one answer of a respondent. Returns a message, or null when the answer is valid. */
export function validateAnswer(question, value) {
  const empty =
    value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
  if (empty) {
    return question.required ? "This question requires an answer." : null;
  }
  if (question.type === "rating") {
    return Number.isInteger(value) && value >= question.min && value <= question.max
      ? null
      : `Choose a rating from ${question.min} to ${question.max}.`;
  }
  if (question.type === "number") {
    return validateNumberAnswer(question, value);
  }
  if (question.type === "text") {
    const maxLength = question.max_length ?? LIMITS.textDefaultMaxLength;
    const length = [...value].length;
    return length > maxLength ? `The answer has ${length} characters; the maximum is ${maxLength}.` : null;
  }
  return null;
}

function validateNumberAnswer(question, value) {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return "Enter a number, for example 12 or 3.5.";
  }
  if (outsideNumberRange(value)) {
    return "Enter a number from -1,000,000,000,000 to 1,000,000,000,000.";
  }
  const hasMin = typeof question.min === "number";
  const hasMax = typeof question.max === "number";
  if (hasMin && hasMax && (value < question.min || value > question.max)) {
    return `Enter a number from ${question.min} to ${question.max}.`;
  }
  if (hasMin && value < question.min) {
    return `Enter a number of at least ${question.min}.`;
  }
  if (hasMax && value > question.max) {
    return `Enter a number of at most ${question.max}.`;
  }
  return null;
}
