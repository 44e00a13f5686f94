/* wijkkompas: text from data into HTML. Every name, label or number that reaches
   innerHTML or a tooltip goes through wkEsc first. */
function wkEsc(text) {
  return (text === null || text === undefined ? "" : String(text))
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
