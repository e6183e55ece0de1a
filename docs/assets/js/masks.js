/* Masks over time: a fresh dropout mask at every step of a sequence vs one mask locked for the
 * whole sequence. The Python twin is snippets/playground/time_masks.py. */
(function () {
  "use strict";
  var P = window.Playground;
  var el = P.el;

  P.add("masks", function (mount) {
    var units = Number(mount.dataset.units);
    var random = P.rng(7);
    var state = { p: Number(mount.dataset.p), steps: Number(mount.dataset.steps), fresh: null, locked: null };

    var slider = el("input", { type: "range", min: "0", max: "0.9", step: "0.05", class: "pg-slider", "aria-label": "Drop probability p, slider", "data-field": "p-slider" });
    slider.value = String(state.p);
    var pField = P.field({ name: "p", label: "Drop probability p", value: mount.dataset.p, parse: P.parseDropProb });
    pField.node.insertBefore(slider, pField.input);
    var stepsField = P.field({ name: "steps", label: "Time steps", value: mount.dataset.steps, parse: P.parseSteps, inputmode: "numeric" });
    var resample = el("button", { type: "button", class: "md-button", "data-action": "resample", text: "Resample" });
    var stale = el("p", { class: "pg-stale-note", hidden: "" });
    var freshGrid = el("div", { class: "pg-grid pg-grid--time", role: "img", "data-grid": "fresh" });
    var lockedGrid = el("div", { class: "pg-grid pg-grid--time", role: "img", "data-grid": "locked" });
    var stats = el("tbody");

    mount.appendChild(el("div", { class: "pg-controls" }, [pField.node, stepsField.node, el("div", { class: "pg-buttons" }, [resample])]));
    mount.appendChild(stale);
    mount.appendChild(el("div", { class: "pg-pair" }, [
      el("figure", { class: "pg-channel" }, [freshGrid, el("figcaption", { text: "Fresh mask at every step (naive dropout)" })]),
      el("figure", { class: "pg-channel" }, [lockedGrid, el("figcaption", { text: "One mask locked for the sequence (variational dropout)" })]),
    ]));
    mount.appendChild(el("p", { class: "pg-hint", text: "Rows are time steps, top to bottom; columns are hidden units. A filled square is a kept unit, an empty one a dropped unit." }));
    var captionId = "pg-masks-caption-" + document.querySelectorAll("[data-widget=masks][data-ready]").length;
    mount.appendChild(el("p", { class: "pg-caption", id: captionId, text: "What the two schemes do to one unit over the sequence" }));
    mount.appendChild(el("div", { class: "md-typeset__table pg-table" }, [el("table", { "aria-labelledby": captionId }, [
      el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "Per unit" }), el("th", { scope: "col", text: "Fresh masks" }), el("th", { scope: "col", text: "Locked mask" })])]),
      stats,
    ])]));

    function sample() {
      var keep = 1 - state.p;
      state.fresh = [];
      for (var t = 0; t < state.steps; t++) {
        state.fresh.push([]);
        for (var u = 0; u < units; u++) {
          state.fresh[t].push(random() < keep ? 1 : 0);
        }
      }
      var row = [];
      for (var u2 = 0; u2 < units; u2++) {
        row.push(random() < keep ? 1 : 0);
      }
      state.locked = state.fresh.map(function () { return row.slice(); });
    }

    function draw(grid, masks, name) {
      grid.textContent = "";
      grid.style.gridTemplateColumns = "repeat(" + units + ", 1fr)";
      var dropped = 0, keptAll = 0;
      masks.forEach(function (row, t) {
        row.forEach(function (kept, u) {
          dropped += kept ? 0 : 1;
          grid.appendChild(el("span", { class: "pg-dot" + (kept ? " pg-dot--kept" : ""), "data-t": t, "data-u": u, "data-kept": kept }));
        });
      });
      for (var u = 0; u < units; u++) {
        keptAll += masks.every(function (row) { return row[u] === 1; }) ? 1 : 0;
      }
      grid.setAttribute("aria-label", name + ": " + masks.length + " steps by " + units + " units, " + dropped + " of " + masks.length * units + " entries dropped");
      return keptAll;
    }

    function render() {
      var p = state.p, T = state.steps;
      var freshAll = draw(freshGrid, state.fresh, "Fresh masks");
      var lockedAll = draw(lockedGrid, state.locked, "Locked mask");
      var rows = [
        ["Probability that a unit is kept at every step", ["fresh-kept", P.show(Math.pow(1 - p, T), 4)], ["locked-kept", P.show(1 - p, 4)]],
        ["Expected number of mask changes per unit", ["fresh-flips", P.show((T - 1) * 2 * p * (1 - p), 2)], ["locked-flips", P.show(0, 2)]],
        ["Units kept at every step in this sample", ["fresh-sample", freshAll + " of " + units], ["locked-sample", lockedAll + " of " + units]],
      ];
      stats.textContent = "";
      rows.forEach(function (r) {
        stats.appendChild(el("tr", {}, [el("th", { scope: "row", text: r[0] })].concat(r.slice(1).map(function (c) {
          return el("td", { "data-value": c[0], text: c[1] });
        }))));
      });
    }

    function update() {
      var p = pField.read(), steps = stepsField.read();
      var ok = p !== undefined && steps !== undefined;
      stale.hidden = ok;
      mount.classList.toggle("pg-is-stale", !ok);
      if (!ok) {
        stale.textContent = "Fix the field marked above; the grids show the last valid input.";
        return;
      }
      slider.value = String(Math.min(p, 0.9));
      state.p = p;
      state.steps = steps;
      sample();
      render();
    }

    pField.input.addEventListener("input", update);
    stepsField.input.addEventListener("input", update);
    slider.addEventListener("input", function () {
      pField.input.value = slider.value;
      update();
    });
    resample.addEventListener("click", function () {
      sample();
      render();
    });
    update();
  });
})();
