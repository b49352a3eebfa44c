// Frontdesk staff pages: small enhancements where JavaScript runs. Every action also works without it.
(function () {
  "use strict";
  // Board: drag a card onto a later column to move it there. The card's own move form is reused, so the
  // request carries its CSRF token and the server checks the move like any other.
  function setupBoard(root) {
    var board = root.querySelector("[data-board]");
    if (!board || board.dataset.dragReady) return;
    board.dataset.dragReady = "1";
    var columns = Array.prototype.slice.call(board.querySelectorAll(".column"));
    var order = columns.map(function (c) { return c.dataset.status; });
    var dragged = null;
    board.addEventListener("dragstart", function (e) {
      var card = e.target.closest && e.target.closest(".card");
      if (!card) return;
      dragged = card;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.dataset.ref);
      card.classList.add("dragging");
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      columns.forEach(function (c) { c.classList.remove("drop-target"); });
      dragged = null;
    });
    columns.forEach(function (col) {
      col.addEventListener("dragover", function (e) {
        if (!dragged) return;
        if (order.indexOf(col.dataset.status) > order.indexOf(dragged.dataset.status)) {
          e.preventDefault();
          col.classList.add("drop-target");
        }
      });
      col.addEventListener("dragleave", function () { col.classList.remove("drop-target"); });
      col.addEventListener("drop", function (e) {
        e.preventDefault();
        col.classList.remove("drop-target");
        if (!dragged) return;
        var form = dragged.querySelector("form.move");
        if (!form) return;
        form.querySelector("input[name=to]").value = col.dataset.status;
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      });
    });
  }
  function init() { setupBoard(document); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
