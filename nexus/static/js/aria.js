/* ARIA: a live character count under the question box. The server still enforces the limit and
   refuses a longer question in French, keeping the text; nothing is ever cut here. */
(function () {
  "use strict";
  function update(box) {
    var counter = document.querySelector('[data-counter="' + box.id + '"]');
    if (!counter) return;
    var max = parseInt(counter.getAttribute("data-max"), 10);
    var length = box.value.replace(/\r\n/g, "\n").trim().length;
    counter.textContent = length.toLocaleString("fr-FR") + " / " + max.toLocaleString("fr-FR") + " caractères";
    counter.classList.toggle("over", length > max);
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box && box.id && box.tagName === "TEXTAREA") update(box);
  });
})();
