// The article list (ui/articles.py), run by Gradio as its js_on_load: a Remove button asks the
// server to confirm the removal of its article (nothing is removed before the confirmation).
element.addEventListener("click", function (event) {
  const button = event.target.closest("button[data-article]");
  if (button) {
    trigger("select", {article: button.getAttribute("data-article")});
  }
});
