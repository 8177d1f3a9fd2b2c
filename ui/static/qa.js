// The page script of `qa serve` (ui/page.py puts it in the page's <head>). Our own code only:
// article content never reaches it as code.

// Clicking a [n] marker opens and highlights its source in the Sources panel.
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest('a[href*="#qa-cite-"]');
  if (!link) { return; }
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById(link.getAttribute("href").split("#").pop());
  if (!target) { return; }
  target.open = true;
  target.classList.add("qa-flash");
  setTimeout(function () { target.classList.remove("qa-flash"); }, 1600);
  target.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
// The copy button of an answer copies the answer with its sources (the text `qa chat` prints,
// kept hidden in the Sources panel as #qa-copy-N) instead of the message's escaped Markdown.
// An answer is matched to its turn N by its [n] links (#qa-cite-N-n); a message without them
// keeps Gradio's own copy.
document.addEventListener("click", function (event) {
  const button = event.target.closest && event.target.closest("#qa-chat button");
  if (!button || !/copy/i.test(button.getAttribute("aria-label") || button.title || "")) {
    return;
  }
  // Gradio puts a message's buttons inside its row or right after it.
  const panel = button.closest(".message-buttons");
  const row = button.closest(".message-row") || (panel && panel.previousElementSibling);
  const link = row && row.querySelector('a[href*="#qa-cite-"]');
  if (!link) { return; }
  const turn = link.getAttribute("href").split("#qa-cite-").pop().split("-")[0];
  const text = document.getElementById("qa-copy-" + turn);
  if (!text || !navigator.clipboard) { return; }
  event.preventDefault();
  event.stopPropagation();
  navigator.clipboard.writeText(text.textContent);
}, true);
// Escape folds the open sources of the Sources panel (and gives the question box the focus
// when it was inside the panel); Enter in the question box sends (Gradio's submit).
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  const panel = document.getElementById("qa-sources");
  if (!panel) { return; }
  panel.querySelectorAll("details[open]").forEach(function (d) { d.open = false; });
  if (panel.contains(document.activeElement)) {
    const box = document.querySelector("#qa-question textarea");
    if (box) { box.focus(); }
  }
});
// Gradio names the upload area "Click to upload or drop files" while it shows "Drop File Here
// - or - Click to Upload": without the attribute the visible words are its name (axe's
// label-content-name-mismatch, a serious violation).
new MutationObserver(function () {
  document.querySelectorAll("#qa-upload button[aria-label]").forEach(function (b) {
    b.removeAttribute("aria-label");
  });
}).observe(document.documentElement, {childList: true, subtree: true});
