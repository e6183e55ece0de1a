/* A table or a display formula wider than the screen scrolls sideways inside its own box
   (site.css, and Material's table style). A keyboard can scroll such a box only when it can
   take the focus, so each one that scrolls gets tabindex="0" and a name (axe-core's
   scrollable-region-focusable); one that fits loses both, as Material does for code blocks.
   Checked again whenever a box changes size (a rotated phone, a resized window). Runs after
   Material's script has wrapped the tables (DOMContentLoaded), on every engine's theme. */
(function () {
  "use strict";
  var SELECTOR = ".md-typeset table:not([class]), .md-typeset div.math";

  function update(box, scrolls) {
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      var added = ["tabindex"];
      if (box.tagName === "DIV") {
        box.setAttribute("role", "region");
        added.push("role");
      }
      if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby") && !box.querySelector("caption")) {
        box.setAttribute("aria-label", box.tagName === "DIV" ? "Formula (scrolls sideways)" : "Table (scrolls sideways)");
        added.push("aria-label");
      }
      box.setAttribute("data-scroll-region", added.join(" "));
    } else if (!scrolls && box.hasAttribute("data-scroll-region")) {
      box.getAttribute("data-scroll-region").split(" ").forEach(function (name) {
        box.removeAttribute(name);
      });
      box.removeAttribute("data-scroll-region");
    }
  }

  function start() {
    var boxes = document.querySelectorAll(SELECTOR);
    if (!boxes.length) return;
    // All widths are read before any attribute is written: one layout, not one per box.
    function check(targets) {
      var scrolls = targets.map(function (box) {
        return box.scrollWidth > box.clientWidth + 1;
      });
      targets.forEach(function (box, i) {
        update(box, scrolls[i]);
      });
    }
    if (typeof ResizeObserver === "undefined") {
      check(Array.prototype.slice.call(boxes));
      return;
    }
    var observer = new ResizeObserver(function (entries) {
      check(
        entries.map(function (entry) {
          return entry.target;
        })
      );
    });
    boxes.forEach(function (box) {
      observer.observe(box);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
