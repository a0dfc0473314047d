/* Slow phones: every htmx request shows it is working (a bar at the top, aria-busy on what it
   replaces), and one that cannot reach the server says so in French with
   a retry, instead of doing nothing. Without JavaScript the browser's own navigation does both. */
(function () {
  "use strict";
  var failed = null;

  function banner() { return document.getElementById("net-error"); }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail;
    document.documentElement.classList.add("is-loading");
    if (detail.target) detail.target.setAttribute("aria-busy", "true");
    if (banner()) banner().hidden = true;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    document.documentElement.classList.remove("is-loading");
    if (detail.target) detail.target.removeAttribute("aria-busy");
  });

  function fail(event) {
    var box = banner();
    if (!box) return;
    failed = event.detail.elt;
    box.querySelector("[data-message]").textContent = navigator.onLine === false
      ? "Vous êtes hors ligne : rien n'a été envoyé. Reconnectez-vous puis réessayez."
      : "Le serveur ne répond pas : rien n'a été changé. Vérifiez votre connexion puis réessayez.";
    box.hidden = false;
    box.querySelector("button").focus();
  }
  document.addEventListener("htmx:sendError", fail);
  document.addEventListener("htmx:timeout", fail);

  // The dashboard menu is a sideways strip on phones: bring its current tab into view.
  function showCurrentTab() {
    var link = document.querySelector(".sidebar [aria-current=page]");
    var strip = link && link.closest("ul");
    if (!strip || strip.scrollWidth <= strip.clientWidth) return;
    var offset = link.getBoundingClientRect().left - strip.getBoundingClientRect().left;
    strip.scrollLeft += offset - (strip.clientWidth - link.offsetWidth) / 2;
  }
  document.addEventListener("DOMContentLoaded", showCurrentTab);
  document.addEventListener("htmx:afterSettle", showCurrentTab);

  // A "copy" button (inside data-copy = the id of a read-only field) is shown only with
  // JavaScript; without it the field is still there to select by hand.
  function showCopyButtons(root) {
    (root || document).querySelectorAll("[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(); });
  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.detail.elt); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    var field = button && document.getElementById(button.dataset.copy);
    if (!field) return;
    var status = button.parentNode.querySelector("[data-copy-status]");
    function say(text) { if (status) status.textContent = text; }
    field.select();
    var done = function () { say("Lien copié."); };
    var manual = function () { say("Copiez le lien sélectionné (appui long, puis « Copier »)."); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, manual);
    } else {
      try { if (document.execCommand("copy")) done(); else manual(); } catch (e) { manual(); }
    }
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("[data-retry]")) return;
    var elt = failed;
    banner().hidden = true;
    if (!elt || !elt.isConnected) { window.location.reload(); return; }
    if (elt.tagName === "FORM") elt.requestSubmit(); else elt.click();
  });

  // A positioning question: A, B, C, D pick an answer and N "je ne sais pas", as the original.
  // Without JavaScript the radios have accesskeys and Enter submits the form.
  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("form[data-answer-keys]");
    if (!form || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio"))) return;
    var key = (event.key || "").toUpperCase();
    if ("ABCDN".indexOf(key) === -1 || key.length !== 1) return;
    var radio = form.querySelector('input[name="choice"][value="' + key + '"]');
    if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
  });
})();
