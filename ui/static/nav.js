// The sidebar's list of saved conversations (ui/saved.py), run by Gradio as the list's
// js_on_load, with its `element`, `trigger` and `watch`. Each conversation has its address,
// ?c=ID: a click pushes it, Back/Forward open the conversation it names, and the list says
// (data-address, data-push) which address the page should show after the server answered.
function conversationIn(search) {
  return new URLSearchParams(search).get("c") || "";
}
function addressOf(conversation) {
  const params = new URLSearchParams(location.search);
  if (conversation) { params.set("c", conversation); } else { params.delete("c"); }
  const query = params.toString();
  return location.pathname + (query ? "?" + query : "") + location.hash;
}
function followAddress() {
  const nav = element.querySelector("nav[data-address]");
  if (!nav) { return; }
  const wanted = nav.getAttribute("data-address");
  if (wanted === conversationIn(location.search)) { return; }
  if (nav.hasAttribute("data-push")) {
    history.pushState(null, "", addressOf(wanted));
  } else {
    history.replaceState(null, "", addressOf(wanted));
  }
}
element.addEventListener("click", function (event) {
  const link = event.target.closest("a[data-conversation]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey ||
      event.altKey) {
    return;  // a new tab or window opens the address itself
  }
  event.preventDefault();
  const conversation = link.getAttribute("data-conversation");
  if (conversation !== conversationIn(location.search)) {
    history.pushState(null, "", addressOf(conversation));
  }
  trigger("select", {conversation: conversation});
  // On a phone the list is a drawer over the chat: close it to show the conversation.
  if (window.matchMedia("(max-width: 768px)").matches) {
    const toggle = document.querySelector("#qa-sidebar.open .toggle-button");
    if (toggle) { toggle.click(); }
  }
});
window.removeEventListener("popstate", window.qaOpenAddressed || function () {});
window.qaOpenAddressed = function () {
  trigger("select", {conversation: conversationIn(location.search)});
};
window.addEventListener("popstate", window.qaOpenAddressed);
watch("value", followAddress);
