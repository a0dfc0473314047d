/* A thread's page: the poll for new messages (every 10 s, see messages/_poll.html) rests while the
   tab is hidden, and asks at once when it is shown again. Without JavaScript: "Actualiser". */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.detail.elt && event.detail.elt.id === "poll") event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    var poll = document.getElementById("poll");
    if (!document.hidden && poll && window.htmx) window.htmx.trigger(poll, "shown");
  });
})();
