/* Batch-norm calculator: mu, sigma^2, x_hat and y step by step for one channel, and PyTorch's
 * running statistics with evaluation-mode outputs. The Python twin is snippets/playground/bn_steps.py. */
(function () {
  "use strict";
  var P = window.Playground;
  var el = P.el;

  var tables = 0;

  // A caption as a paragraph above the table: inside Material's scrolling tables a <caption>
  // would be cut off on a phone.
  function table(caption, headers) {
    var id = "pg-bn-table-" + (++tables);
    var head = el("tr", {}, headers.map(function (h) { return el("th", { scope: "col", text: h }); }));
    var body = el("tbody");
    var node = el("div", {}, [
      el("p", { class: "pg-caption", id: id, text: caption }),
      el("div", { class: "md-typeset__table pg-table" }, [el("table", { "aria-labelledby": id, tabindex: "0" }, [el("thead", {}, [head]), body])]),
    ]);
    return { node: node, body: body };
  }

  function fill(body, columns, rows) {
    body.textContent = "";
    for (var r = 0; r < rows; r++) {
      body.appendChild(el("tr", {}, columns.map(function (col) {
        return el("td", { "data-col": col.key, text: col.values[r] });
      })));
    }
  }

  P.add("batchnorm", function (mount) {
    var d = mount.dataset;
    var fields = {
      batch: P.field({ name: "batch", label: "Mini-batch x (one channel)", value: d.x, parse: P.parseBatch, wide: true }),
      gamma: P.field({ name: "gamma", label: "\u03b3 (scale)", value: d.gamma, parse: function (t) { return P.parseNumber(t, "\u03b3"); } }),
      beta: P.field({ name: "beta", label: "\u03b2 (shift)", value: d.beta, parse: function (t) { return P.parseNumber(t, "\u03b2"); } }),
      eps: P.field({ name: "eps", label: "\u03b5", value: d.eps, parse: function (t) { return P.parsePositive(t, "\u03b5"); } }),
      momentum: P.field({ name: "momentum", label: "Momentum", value: d.momentum, parse: P.parseMomentum }),
    };
    var running = { mean: 0, variance: 1, steps: 0 };
    var last = null; // last valid inputs

    function read() {
      var values = {};
      var ok = true;
      Object.keys(fields).forEach(function (key) {
        values[key] = fields[key].read();
        ok = ok && values[key] !== undefined;
      });
      return ok ? values : null;
    }

    var steps = el("ol", { class: "pg-steps" });
    var trainTable = table("Training mode: normalized with this batch's own statistics",
      ["i", "x\u1d62", "x\u1d62 \u2212 \u03bc", "x\u0302\u1d62 = (x\u1d62 \u2212 \u03bc) / \u221a(\u03c3\u00b2 + \u03b5)", "y\u1d62 = \u03b3 x\u0302\u1d62 + \u03b2"]);
    var trainButton = el("button", { type: "button", class: "md-button md-button--primary", "data-action": "train-step", text: "Training step: update the running statistics" });
    var resetButton = el("button", { type: "button", class: "md-button", "data-action": "reset", text: "Reset running statistics" });
    var runningLine = el("p", { class: "pg-status", "aria-live": "polite" });
    var evalTable = table("Evaluation mode: normalized with the running statistics",
      ["i", "x\u1d62", "training y\u1d62", "evaluation y\u1d62"]);
    var stale = el("p", { class: "pg-stale-note", hidden: "" });

    mount.appendChild(el("div", { class: "pg-controls pg-controls--fields" }, Object.keys(fields).map(function (k) { return fields[k].node; })));
    mount.appendChild(stale);
    mount.appendChild(el("h2", { class: "pg-heading", text: "Step by step, in training mode" }));
    mount.appendChild(steps);
    mount.appendChild(trainTable.node);
    mount.appendChild(el("h2", { class: "pg-heading", text: "Running statistics and evaluation mode" }));
    mount.appendChild(el("div", { class: "pg-buttons" }, [trainButton, resetButton]));
    mount.appendChild(runningLine);
    mount.appendChild(evalTable.node);

    function line(parts) {
      return el("li", {}, parts.map(function (part) {
        return typeof part === "string" ? part : el("strong", { "data-value": part[0], text: part[1] });
      }));
    }

    function compute(v) {
      var x = v.batch, n = x.length;
      var sum = 0;
      x.forEach(function (xi) { sum += xi; });
      var mean = sum / n;
      var centred = x.map(function (xi) { return xi - mean; });
      var sq = 0;
      centred.forEach(function (c) { sq += c * c; });
      var variance = sq / n; // biased: divide by N, as the normalization does
      var xHat = centred.map(function (c) { return c / Math.sqrt(variance + v.eps); });
      var y = xHat.map(function (xh) { return v.gamma * xh + v.beta; });
      return { mean: mean, variance: variance, unbiased: sq / (n - 1), centred: centred, xHat: xHat, y: y };
    }

    function render() {
      var v = last, r = compute(v), f = function (a) { return a.map(function (x) { return P.show(x, 4); }); };
      var n = v.batch.length;
      steps.textContent = "";
      steps.appendChild(line(["Mean: \u03bc = (sum of x\u1d62) / N = ", ["mean", P.show(r.mean, 4)], " with N = " + n]));
      steps.appendChild(line(["Variance: \u03c3\u00b2 = mean of (x\u1d62 \u2212 \u03bc)\u00b2 = ", ["var", P.show(r.variance, 4)], " (divided by N)"]));
      steps.appendChild(line(["Normalize: x\u0302\u1d62 = (x\u1d62 \u2212 \u03bc) / \u221a(\u03c3\u00b2 + \u03b5), then scale and shift: y\u1d62 = \u03b3 x\u0302\u1d62 + \u03b2 (table)"]));
      var index = v.batch.map(function (_, i) { return String(i + 1); });
      fill(trainTable.body, [
        { key: "i", values: index },
        { key: "x", values: v.batch.map(String) },
        { key: "centred", values: f(r.centred) },
        { key: "x_hat", values: f(r.xHat) },
        { key: "y", values: f(r.y) },
      ], n);
      var evalY = v.batch.map(function (xi) {
        return v.gamma * ((xi - running.mean) / Math.sqrt(running.variance + v.eps)) + v.beta;
      });
      runningLine.textContent = "";
      [["After ", null], [String(running.steps), "steps"], [" training steps: running mean = ", null],
        [P.show(running.mean, 4), "running-mean"], [", running variance = ", null], [P.show(running.variance, 4), "running-var"],
        [". This batch's variance with N \u2212 1, the one PyTorch stores: ", null], [P.show(r.unbiased, 4), "unbiased-var"], [".", null],
      ].forEach(function (part) {
        runningLine.appendChild(part[1] ? el("strong", { "data-value": part[1], text: part[0] }) : document.createTextNode(part[0]));
      });
      fill(evalTable.body, [
        { key: "i", values: index },
        { key: "x", values: v.batch.map(String) },
        { key: "y", values: f(r.y) },
        { key: "eval_y", values: f(evalY) },
      ], n);
    }

    function update() {
      var v = read();
      stale.hidden = v !== null;
      trainButton.disabled = v === null;
      mount.classList.toggle("pg-is-stale", v === null);
      if (v === null) {
        stale.textContent = "Fix the field marked above; the results below are for the last valid input.";
        return;
      }
      last = v;
      render();
    }

    Object.keys(fields).forEach(function (key) {
      fields[key].input.addEventListener("input", update);
    });
    trainButton.addEventListener("click", function () {
      if (!read()) {
        return;
      }
      var r = compute(last), m = last.momentum;
      running.mean = (1 - m) * running.mean + m * r.mean;
      running.variance = (1 - m) * running.variance + m * r.unbiased;
      running.steps += 1;
      render();
    });
    resetButton.addEventListener("click", function () {
      running = { mean: 0, variance: 1, steps: 0 };
      if (last) {
        render();
      }
    });
    update();
  });
})();
