// The page script of `qa serve` (ui/page.py puts it in the page's <head>). Our own code only:
// article content never reaches it as code.

const PHONE = "(max-width: 768px)";
let lastCitation = null;  // the [n] or chip that opened the Sources, for "Back to the answer"

// Clicking a [n] marker or a source chip shows the Sources of that answer (each answer has
// its section, #qa-turn-T) and opens and highlights the passage; on a phone the Sources open
// as a sheet over the chat. The [n]'s preview closes: the passage is now in view, and the
// preview could sit over its highlight.
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest('a[href*="#qa-cite-"]');
  if (!link) { return; }
  event.preventDefault();
  event.stopPropagation();
  hidePreview();
  const target = document.getElementById(link.getAttribute("href").split("#").pop());
  if (!target) { return; }
  const section = target.closest(".qa-turn");
  if (section) {
    section.parentElement.querySelectorAll(".qa-turn").forEach(function (other) {
      other.hidden = other !== section;
    });
  }
  lastCitation = link;
  const column = document.getElementById("qa-sources-column");
  if (column && window.matchMedia(PHONE).matches) { column.setAttribute("data-sheet", "open"); }
  target.open = true;
  target.classList.add("qa-flash");
  setTimeout(function () { target.classList.remove("qa-flash"); }, 1600);
  target.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
// Hovering or focusing a [n] previews its quote (the answer's hidden .qa-preview) in one
// floating box, placed in the window so the chat's edges never cut it.
const tooltip = document.createElement("div");
tooltip.id = "qa-tooltip";
tooltip.setAttribute("role", "tooltip");
tooltip.hidden = true;
function showPreview(reference) {
  const preview = reference.querySelector(".qa-preview");
  const link = reference.querySelector(".qa-cite");
  if (!preview || !link) { return; }
  if (!tooltip.isConnected) { document.body.appendChild(tooltip); }
  tooltip.textContent = preview.textContent;
  tooltip.hidden = false;
  link.setAttribute("aria-describedby", "qa-tooltip");
  const box = link.getBoundingClientRect();
  const width = Math.min(420, window.innerWidth - 16);
  tooltip.style.width = width + "px";
  tooltip.style.left = Math.max(8, Math.min(box.left, window.innerWidth - width - 8)) + "px";
  const above = box.top - tooltip.offsetHeight - 6;
  tooltip.style.top = (above > 8 ? above : box.bottom + 6) + "px";
}
function hidePreview() { tooltip.hidden = true; }
["mouseover", "focusin"].forEach(function (kind) {
  document.addEventListener(kind, function (event) {
    const reference = event.target.closest && event.target.closest(".qa-ref");
    if (reference) { showPreview(reference); }
  });
});
["mouseout", "focusout"].forEach(function (kind) {
  document.addEventListener(kind, function (event) {
    if (event.target.closest && event.target.closest(".qa-ref")) { hidePreview(); }
  });
});
// "Did you mean <question respelled>?" (an abstention naming a name no article writes so):
// the link puts that question in the box, to ask with Enter or edit first.
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest("a.qa-suggest");
  if (!link) { return; }
  event.preventDefault();
  const box = document.querySelector("#qa-question textarea");
  if (!box) { return; }
  box.value = link.textContent;
  box.dispatchEvent(new Event("input", {bubbles: true}));
  box.focus();
});
// "Back to the answer" (a phone's Sources sheet) closes the sheet and returns to the [n].
function closeSheet() {
  const column = document.getElementById("qa-sources-column");
  if (!column || !column.hasAttribute("data-sheet")) { return false; }
  column.removeAttribute("data-sheet");
  if (lastCitation && lastCitation.isConnected) {
    lastCitation.scrollIntoView({block: "center"});
    lastCitation.focus({preventScroll: true});
  }
  return true;
}
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest(".qa-back")) { closeSheet(); }
});
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
// Escape closes a phone's Sources sheet, else folds the open sources of the Sources panel (and
// gives the question box the focus when it was inside the panel); Enter in the question box
// sends (Gradio's submit).
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  if (!tooltip.hidden) { hidePreview(); return; }
  if (closeSheet()) { return; }
  const panel = document.getElementById("qa-sources");
  if (!panel) { return; }
  panel.querySelectorAll("details[open]").forEach(function (d) { d.open = false; });
  if (panel.contains(document.activeElement)) {
    const box = document.querySelector("#qa-question textarea");
    if (box) { box.focus(); }
  }
});
// Enter in an empty question box does nothing, and not even a request leaves the page: an empty
// question's round trip (and the Ask/Stop update chained after it) could land after the next
// question was typed and wipe it from the box (CI saw Ask stay disabled over the wiped box; the
// wipe was reproduced on a loaded machine in 2 runs of 6).
function emptyEnter(event) {
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) { return; }
  const box = event.target;
  if (!box.closest || !box.closest("#qa-question") || box.value.trim()) { return; }
  event.preventDefault();
  event.stopPropagation();
}
document.addEventListener("keydown", emptyEnter, true);
document.addEventListener("keypress", emptyEnter, true);
// Ask is enabled only while the question box holds a question. It reads the box itself, not
// the value an event was given: an answer's last step can run after the next question was
// typed, and Gradio may draw the button anew (CI once saw Ask stay disabled under a typed
// question). ui/chat.py calls it on each change of the box; typing and a new button call it too.
function syncAsk() {
  const ask = document.querySelector("#qa-ask");
  const box = document.querySelector("#qa-question textarea");
  if (!ask || !box) { return; }
  const empty = !box.value.trim();
  if (ask.disabled !== empty) { ask.disabled = empty; }
}
// Again once Gradio has written a value it set into the box (the change event can come first).
window.qaSyncAsk = function () { syncAsk(); setTimeout(syncAsk, 50); };
document.addEventListener("input", function (event) {
  if (event.target.closest && event.target.closest("#qa-question")) { syncAsk(); }
}, true);
// And twice a second: Gradio may also write the box's value itself (a value set by a property
// raises no event), and a missed write must not leave Ask disabled under a typed question.
setInterval(syncAsk, 500);
// On a wide screen the conversations stay open beside the chat; on a phone they are a drawer,
// shut until asked for (Gradio's sidebar opens or shuts for every width alike).
window.qaOpenSidebar = function () {
  window.qaSyncAsk();
  const sidebar = document.getElementById("qa-sidebar");
  if (sidebar && !sidebar.classList.contains("open") && !window.matchMedia(PHONE).matches) {
    const toggle = sidebar.querySelector(".toggle-button");
    if (toggle) { toggle.click(); }
  }
};
// On a phone the composer is pinned over the bottom of the window (qa.css): the page leaves it
// its height, --qa-composer, measured here as it changes (a long question grows the box).
const composerSize = new ResizeObserver(function () {
  const composer = document.getElementById("qa-composer");
  if (composer) {
    document.documentElement.style.setProperty("--qa-composer", composer.offsetHeight + "px");
  }
});
let measuredComposer = null;
function measureComposer() {
  const composer = document.getElementById("qa-composer");
  if (!composer || composer === measuredComposer) { return; }
  composerSize.observe(composer);  // measures it at once, then on every change of its size
  measuredComposer = composer;
}
// Gradio names the upload area "Click to upload or drop files" while it shows "Drop File Here
// - or - Click to Upload": without the attribute the visible words are its name (axe's
// label-content-name-mismatch, a serious violation).
new MutationObserver(function () {
  document.querySelectorAll("#qa-upload button[aria-label]").forEach(function (b) {
    b.removeAttribute("aria-label");
  });
  syncAsk();  // a button Gradio drew anew starts from its own state
  measureComposer();  // once Gradio has drawn it
  // Gradio also writes the button's disabled property again whenever one of its props changes
  // (Stop and Ask trade places after every answer): an attribute change, not a new node.
}).observe(document.documentElement, {
  childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"],
});
