// A text field of a CSV a person may open in a spreadsheet (predictions.csv,
// latents): gene ids come from the user's files, or from files someone else
// made. OWASP's "CSV Injection": Excel, LibreOffice and Google Sheets take a
// cell that begins with = + - @ (or a tab or carriage return) for a formula,
// which can run commands or send data away. Such a field gets a leading single
// quote, which spreadsheets show as text and no real gene id begins with; a
// field holding a comma, a double quote or a line break is quoted (RFC 4180).

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvTextField(text: string): string {
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
