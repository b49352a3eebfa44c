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
  // Board and list on a phone (the CSS's 40rem): the board shows one stage at a time, chosen by a tablist
  // (arrow keys, Home and End move between tabs); without JavaScript its links reload the board at that stage.
  // Wider, every stage shows and the tabs are hidden. The folded filters open by themselves on a wide screen.
  var phone = window.matchMedia ? window.matchMedia("(max-width: 40rem)") : { matches: false };
  function setupTabs(root) {
    var nav = root.querySelector("[data-board-tabs]");
    var board = root.querySelector("[data-board]");
    if (!nav || !board || nav.dataset.tabsReady) return;
    nav.dataset.tabsReady = "1";
    var tabs = Array.prototype.slice.call(nav.querySelectorAll("a[data-stage]"));
    function panel(tab) { return board.querySelector("#stage-" + tab.dataset.stage); }
    function current() {
      var c = board.querySelector(".column.is-current");
      return c ? c.dataset.status : (tabs[0] && tabs[0].dataset.stage);
    }
    function select(stage, focus) {
      tabs.forEach(function (t) {
        var on = t.dataset.stage === stage;
        var p = panel(t);
        if (p) p.classList.toggle("is-current", on);
        if (phone.matches) {
          t.setAttribute("aria-selected", on ? "true" : "false");
          t.tabIndex = on ? 0 : -1;
          if (on && focus) t.focus();
        } else if (on) {
          t.setAttribute("aria-current", "true");
        } else {
          t.removeAttribute("aria-current");
        }
      });
    }
    function apply() {
      var stage = current();
      tabs.forEach(function (t) {
        var p = panel(t);
        if (phone.matches) {
          nav.setAttribute("role", "tablist");
          t.setAttribute("role", "tab");
          t.setAttribute("aria-controls", "stage-" + t.dataset.stage);
          t.removeAttribute("aria-current");
          if (p) p.setAttribute("role", "tabpanel");
        } else {
          nav.removeAttribute("role");
          t.removeAttribute("role");
          t.removeAttribute("aria-controls");
          t.removeAttribute("aria-selected");
          t.removeAttribute("tabindex");
          if (p) p.removeAttribute("role");
        }
      });
      select(stage, false);
    }
    nav.addEventListener("click", function (e) {
      var tab = e.target.closest && e.target.closest("a[data-stage]");
      if (!tab || !phone.matches) return;
      e.preventDefault();
      select(tab.dataset.stage, true);
      if (window.history && history.replaceState) history.replaceState(history.state, "", tab.href);
    });
    nav.addEventListener("keydown", function (e) {
      if (!phone.matches) return;
      var i = tabs.indexOf(document.activeElement);
      if (i < 0) return;
      var j = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (j === undefined) return;
      e.preventDefault();
      j = (j + tabs.length) % tabs.length;
      select(tabs[j].dataset.stage, true);
    });
    if (phone.addEventListener) phone.addEventListener("change", apply);
    apply();
  }
  function setupFilters(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-filters-fold]"), function (d) {
      if (d.dataset.foldReady) return;
      d.dataset.foldReady = "1";
      if (!phone.matches) d.open = true;
    });
  }
  // After a move or its undo the page names the card: keep focus on it, on whichever stage it now is.
  function focusMoved(root) {
    var card = root.querySelector("[data-moved]");
    if (!card || card.dataset.focused) return;
    card.dataset.focused = "1";
    card.focus({ preventScroll: false });
  }
  function init() { setupBoard(document); setupTabs(document); setupFilters(document); focusMoved(document); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
