/* Dropout playground: a 4-channel feature map, three kinds of mask, inverted-dropout outputs
 * and a running mean over resampled masks. The Python twin is snippets/playground/dropout_grid.py. */
(function () {
  "use strict";
  var P = window.Playground;
  var el = P.el;

  var MODES = [
    { value: "element", label: "Element-wise (nn.Dropout)" },
    { value: "channel", label: "Channel-wise (nn.Dropout2d)" },
    { value: "block", label: "Blocks (DropBlock-style)" },
  ];
  var VIEWS = [
    { value: "output", label: "Output h\u0303 for this mask" },
    { value: "mean", label: "Running mean of h\u0303" },
    { value: "h", label: "Original h" },
  ];

  function radios(legend, name, options, checked) {
    var set = el("fieldset", { class: "pg-radios" }, [el("legend", { text: legend })]);
    options.forEach(function (option) {
      var id = name + "-" + option.value;
      var input = el("input", { type: "radio", name: name, id: id, value: option.value });
      input.checked = option.value === checked;
      set.appendChild(el("span", { class: "pg-radio" }, [input, el("label", { for: id, text: option.label })]));
    });
    return set;
  }

  P.add("dropout", function (mount) {
    var h = JSON.parse(mount.getAttribute("data-h"));
    var names = mount.getAttribute("data-channels").split("|");
    var block = Number(mount.getAttribute("data-block"));
    var C = h.length, H = h[0].length, W = h[0][0].length;
    var random = P.rng(1);
    var uid = "pg-dropout-" + document.querySelectorAll("[data-widget=dropout][data-ready]").length;

    var state = { p: 0.5, mode: "element", view: "output", mask: null, sum: null, samples: 0 };

    function zeros() {
      return h.map(function (ch) { return ch.map(function (row) { return row.map(function () { return 0; }); }); });
    }

    function keepAll() {
      return h.map(function (ch) { return ch.map(function (row) { return row.map(function () { return 1; }); }); });
    }

    function seedRate(p) {
      return 1 - Math.pow(1 - p, 1 / (block * block));
    }

    // Each unit is kept with probability 1 - p in every mode, as in the Python masks.
    function sampleMask() {
      var keep = 1 - state.p;
      var mask = keepAll();
      for (var c = 0; c < C; c++) {
        if (state.mode === "channel") {
          var kept = random() < keep ? 1 : 0;
          mask[c] = mask[c].map(function (row) { return row.map(function () { return kept; }); });
        } else if (state.mode === "element") {
          for (var i = 0; i < H; i++) {
            for (var j = 0; j < W; j++) {
              mask[c][i][j] = random() < keep ? 1 : 0;
            }
          }
        } else {
          // Seeds on a grid padded by block - 1: every unit is covered by block * block seeds.
          var gamma = seedRate(state.p);
          var seeds = [];
          for (var a = 0; a < H + block - 1; a++) {
            seeds.push([]);
            for (var b = 0; b < W + block - 1; b++) {
              seeds[a].push(random() < gamma);
            }
          }
          for (var i2 = 0; i2 < H; i2++) {
            for (var j2 = 0; j2 < W; j2++) {
              var hit = false;
              for (var di = 0; di < block && !hit; di++) {
                for (var dj = 0; dj < block && !hit; dj++) {
                  hit = seeds[i2 + di][j2 + dj];
                }
              }
              mask[c][i2][j2] = hit ? 0 : 1;
            }
          }
        }
      }
      return mask;
    }

    function output(c, i, j) {
      return (h[c][i][j] * state.mask[c][i][j]) / (1 - state.p);
    }

    function addSample() {
      for (var c = 0; c < C; c++) {
        for (var i = 0; i < H; i++) {
          for (var j = 0; j < W; j++) {
            state.sum[c][i][j] += output(c, i, j);
          }
        }
      }
      state.samples += 1;
    }

    function restartMean() {
      state.sum = zeros();
      state.samples = 0;
      addSample();
    }

    // ----- controls
    var modeSet = radios("Mask", uid + "-mode", MODES, state.mode);
    var slider = el("input", {
      type: "range", min: "0", max: "0.9", step: "0.05", class: "pg-slider",
      "aria-label": "Drop probability p, slider", "data-field": "p-slider",
    });
    slider.value = String(state.p);
    var pField = P.field({ name: "p", label: "Drop probability p", value: String(state.p), parse: P.parseDropProb });
    pField.node.insertBefore(slider, pField.input);

    var resample = el("button", { type: "button", class: "md-button", "data-action": "resample", text: "Resample" });
    var resample100 = el("button", { type: "button", class: "md-button", "data-action": "resample-100", text: "Resample 100\u00d7" });
    var keepButton = el("button", { type: "button", class: "md-button", "data-action": "keep-all", text: "Keep every unit" });
    var viewSet = radios("Show", uid + "-view", VIEWS, state.view);

    var status = el("p", { class: "pg-status", "aria-live": "polite" });
    var stale = el("p", { class: "pg-stale-note", hidden: "" });
    var grids = el("div", { class: "pg-channels" });

    mount.appendChild(el("div", { class: "pg-controls" }, [
      modeSet, pField.node, el("div", { class: "pg-buttons" }, [resample, resample100, keepButton]), viewSet,
    ]));
    mount.appendChild(el("p", { class: "pg-hint", text: "Press a unit (click, or Enter or Space; arrow keys move within a channel) to drop or keep it by hand." }));
    mount.appendChild(status);
    mount.appendChild(stale);
    mount.appendChild(grids);

    // ----- the grids: one group of toggle buttons per channel, one tab stop each
    var cells = [];
    names.forEach(function (name, c) {
      var group = el("div", { class: "pg-grid", role: "group", "aria-label": "Channel " + (c + 1) + ": " + name, "data-channel": String(c) });
      group.style.gridTemplateColumns = "repeat(" + W + ", 1fr)";
      cells.push([]);
      for (var i = 0; i < H; i++) {
        cells[c].push([]);
        for (var j = 0; j < W; j++) {
          var cell = el("button", { type: "button", class: "pg-cell", tabindex: i === 0 && j === 0 ? "0" : "-1", "data-c": c, "data-i": i, "data-j": j });
          cells[c][i].push(cell);
          group.appendChild(cell);
        }
      }
      grids.appendChild(el("figure", { class: "pg-channel" }, [group, el("figcaption", { text: "Channel " + (c + 1) + ": " + name })]));
    });

    function render() {
      var kept = 0;
      for (var c = 0; c < C; c++) {
        for (var i = 0; i < H; i++) {
          for (var j = 0; j < W; j++) {
            var dropped = state.mask[c][i][j] === 0;
            kept += dropped ? 0 : 1;
            var value = state.view === "output" ? output(c, i, j)
              : state.view === "mean" ? state.sum[c][i][j] / state.samples : h[c][i][j];
            var text = P.show(value, 2);
            var cell = cells[c][i][j];
            cell.textContent = text;
            cell.setAttribute("aria-pressed", dropped ? "true" : "false");
            cell.setAttribute("aria-label", "Row " + (i + 1) + ", column " + (j + 1) + ": " + text + (dropped ? ", dropped" : ""));
            var showDrop = dropped && state.view === "output";
            cell.classList.toggle("pg-cell--dropped", showDrop);
            var colour = P.heat(value / 2);
            cell.style.background = showDrop ? "" : colour.background;
            cell.style.color = showDrop ? "" : colour.color;
          }
        }
      }
      var gap = 0;
      for (var c2 = 0; c2 < C; c2++) {
        for (var i2 = 0; i2 < H; i2++) {
          for (var j2 = 0; j2 < W; j2++) {
            gap = Math.max(gap, Math.abs(state.sum[c2][i2][j2] / state.samples - h[c2][i2][j2]));
          }
        }
      }
      status.textContent = "";
      function part(label, key, value) {
        status.appendChild(document.createTextNode(label));
        status.appendChild(el("strong", { "data-value": key, text: value }));
      }
      part("Kept ", "kept", String(kept));
      status.appendChild(document.createTextNode(" of " + C * H * W + " units; survivors are multiplied by 1/(1 \u2212 p) = "));
      part("", "scale", P.show(1 / (1 - state.p), 2));
      if (state.mode === "block") {
        part(". Seed rate \u03b3 = ", "gamma", P.show(seedRate(state.p), 4));
        status.appendChild(document.createTextNode(" for " + block + "\u00d7" + block + " blocks"));
      }
      part(". Running mean over ", "samples", String(state.samples));
      part(" masks: largest |mean \u2212 h| = ", "gap", P.show(gap, 3));
      status.appendChild(document.createTextNode("."));
    }

    // ----- events
    function setP(p) {
      state.p = p;
      stale.hidden = true;
      grids.classList.remove("pg-stale");
      restartMean();
      render();
    }

    pField.input.addEventListener("input", function () {
      var p = pField.read();
      if (p === undefined) {
        stale.hidden = false;
        stale.textContent = "Showing p = " + state.p + ", the last valid value.";
        grids.classList.add("pg-stale");
        return;
      }
      slider.value = String(Math.min(p, 0.9));
      setP(p);
    });
    slider.addEventListener("input", function () {
      pField.input.value = slider.value;
      pField.read(); // clears a message left from typing
      setP(Number(slider.value));
    });
    modeSet.addEventListener("change", function (event) {
      state.mode = event.target.value;
      state.mask = sampleMask();
      restartMean();
      render();
    });
    viewSet.addEventListener("change", function (event) {
      state.view = event.target.value;
      render();
    });
    resample.addEventListener("click", function () {
      state.mask = sampleMask();
      addSample();
      render();
    });
    resample100.addEventListener("click", function () {
      for (var k = 0; k < 100; k++) {
        state.mask = sampleMask();
        addSample();
      }
      render();
    });
    keepButton.addEventListener("click", function () {
      state.mask = keepAll();
      render();
    });
    grids.addEventListener("click", function (event) {
      var cell = event.target.closest(".pg-cell");
      if (!cell) {
        return;
      }
      var c = Number(cell.dataset.c), i = Number(cell.dataset.i), j = Number(cell.dataset.j);
      state.mask[c][i][j] = 1 - state.mask[c][i][j];
      render();
    });
    grids.addEventListener("keydown", function (event) {
      var cell = event.target.closest(".pg-cell");
      var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      var move = cell && moves[event.key];
      if (!move) {
        return;
      }
      event.preventDefault();
      var c = Number(cell.dataset.c);
      var i = Math.max(0, Math.min(H - 1, Number(cell.dataset.i) + move[0]));
      var j = Math.max(0, Math.min(W - 1, Number(cell.dataset.j) + move[1]));
      cell.setAttribute("tabindex", "-1");
      cells[c][i][j].setAttribute("tabindex", "0");
      cells[c][i][j].focus();
    });

    P.onSchemeChange(render);
    state.mask = sampleMask();
    restartMean();
    render();
  });
})();
