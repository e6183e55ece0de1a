/* Shared helpers of the playground widgets: number display, input parsing with the messages
 * the Python side defines (snippets/playground/vectors.py), labelled fields, a seeded PRNG.
 * Plain JavaScript, no dependencies. Each widget file registers itself with Playground.add. */
(function () {
  "use strict";

  // Same grammar as vectors.NUMBER: no "NaN", "Infinity" or hex.
  var NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  // vectors.DECIMAL_COMMA, JOINED, MINUS and MAX_BATCH: "0,5" in a number field is refused with
  // a hint; in a batch, two digits joined by a comma are ambiguous (one value or two?).
  var DECIMAL_COMMA = /^[+-]?[0-9]*,[0-9]+$/;
  var JOINED = /[0-9.]*[0-9],[0-9][0-9.]*/;
  var MINUS = "\u2212";
  var MAX_BATCH = 64; // a table row per value: 10000 values took seconds per keystroke

  /** x.toFixed(digits) without "-0.00": the Python twin is vectors.display. */
  function show(x, digits) {
    if (!isFinite(x)) {
      throw new Error("refusing to show " + x); // never reaches the page: inputs are checked first
    }
    var text = x.toFixed(digits);
    return /^-[0.]*$/.test(text) ? text.slice(1) : text;
  }

  function parseNumber(text, name) {
    var typed = String(text).trim();
    text = typed.split(MINUS).join("-"); // \u22120.5 is -0.5
    if (!text) {
      throw new Error(name + ": enter a number");
    }
    if (DECIMAL_COMMA.test(text)) {
      throw new Error(name + ': "' + typed + '" has a decimal comma; write ' + typed.replace(",", ".") + " with a point");
    }
    if (!NUMBER.test(text)) {
      throw new Error(name + ': "' + typed + '" is not a number');
    }
    var value = Number(text);
    if (Math.abs(value) > 1e6) {
      throw new Error(name + ": " + typed + " is too large (at most 1000000)");
    }
    return value;
  }

  function parseBatch(text) {
    var joined = JOINED.exec(String(text));
    if (joined) {
      throw new Error('Batch: "' + joined[0] + '" is ambiguous; write ' + joined[0].replace(",", ".") +
        " or " + joined[0].replace(",", ", "));
    }
    var tokens = String(text).trim().split(/[\s,;]+/).filter(function (t) { return t; });
    if (tokens.length > MAX_BATCH) {
      throw new Error("Batch: at most " + MAX_BATCH + " values (this has " + tokens.length + ")");
    }
    var values = tokens.map(function (t) { return parseNumber(t, "Batch"); });
    if (values.length < 2) {
      throw new Error("Batch: enter at least two numbers; one value has no spread to normalize");
    }
    return values;
  }

  function parseDropProb(text) {
    var p = parseNumber(text, "p");
    if (!(p >= 0 && p < 1)) {
      throw new Error("p: must be at least 0 and below 1 (p = 1 drops every unit and 1/(1 - p) is infinite)");
    }
    return p;
  }

  function parsePositive(text, name) {
    var value = parseNumber(text, name);
    if (!(value > 0)) {
      throw new Error(name + ": must be greater than 0");
    }
    return value;
  }

  function parseMomentum(text) {
    var value = parseNumber(text, "Momentum");
    if (!(value >= 0 && value <= 1)) {
      throw new Error("Momentum: must be between 0 and 1");
    }
    return value;
  }

  function parseSteps(text) {
    var value = parseNumber(text, "Steps");
    if (!Number.isInteger(value) || value < 2 || value > 24) {
      throw new Error("Steps: enter a whole number from 2 to 24");
    }
    return value;
  }

  /** mulberry32: a small seeded generator, so a page shows the same first mask every time. */
  function rng(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  var counter = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") {
        node.textContent = attrs[key];
      } else if (key === "class") {
        node.className = attrs[key];
      } else {
        node.setAttribute(key, attrs[key]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** A labelled text field with its own message line, announced when it changes. */
  function field(options) {
    var id = "pg-" + options.name + "-" + (++counter);
    var input = el("input", {
      id: id,
      type: "text",
      inputmode: options.inputmode || "decimal",
      autocomplete: "off",
      spellcheck: "false",
      "data-field": options.name,
      "aria-describedby": id + "-msg",
      class: "pg-input" + (options.wide ? " pg-input--wide" : ""),
    });
    input.value = options.value;
    var label = el("label", { for: id, class: "pg-label" }, [options.label]);
    var message = el("span", { id: id + "-msg", class: "pg-error", "aria-live": "polite", "data-error": options.name });
    var wrap = el("div", { class: "pg-field" }, [label, input, message]);
    return {
      node: wrap,
      input: input,
      /** Parse the field; on bad input show the message and return undefined. */
      read: function () {
        try {
          var value = options.parse(input.value);
          input.removeAttribute("aria-invalid");
          message.textContent = "";
          return value;
        } catch (err) {
          input.setAttribute("aria-invalid", "true");
          message.textContent = err.message;
          return undefined;
        }
      },
    };
  }

  /** Colour of a cell for a value in [0, 1]: background and a text colour that contrasts. */
  function heat(t) {
    t = Math.max(0, Math.min(1, t));
    // An indigo ramp like the theme's: on the light palette from hsl(231, 50%, 97%) to
    // hsl(231, 50%, 30%), darker is larger; on the dark one from 18% to 78%, lighter is larger.
    var dark = document.body.getAttribute("data-md-color-scheme") === "slate";
    var l = (dark ? 18 + 60 * t : 97 - 67 * t) / 100, s = 0.5, h = 231 / 360;
    var q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q;
    var rgb = [h + 1 / 3, h, h - 1 / 3].map(function (c) {
      c = c < 0 ? c + 1 : c > 1 ? c - 1 : c;
      var v = c < 1 / 6 ? p + (q - p) * 6 * c : c < 1 / 2 ? q : c < 2 / 3 ? p + (q - p) * (2 / 3 - c) * 6 : p;
      return Math.round(v * 255);
    });
    // Black or white text, whichever contrasts more (WCAG relative luminance).
    var lum = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    var y = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return { background: "rgb(" + rgb.join(", ") + ")", color: (y + 0.05) / 0.05 > 1.05 / (y + 0.05) ? "#000" : "#fff" };
  }

  var widgets = {};

  /** Call redraw whenever the reader switches between the light and the dark palette. */
  function onSchemeChange(redraw) {
    new MutationObserver(redraw).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  }

  function add(name, setup) {
    widgets[name] = setup;
    if (document.readyState !== "loading") {
      start();
    }
  }

  function start() {
    document.querySelectorAll("[data-widget]").forEach(function (mount) {
      var setup = widgets[mount.getAttribute("data-widget")];
      if (setup && !mount.hasAttribute("data-started")) {
        mount.setAttribute("data-started", "");
        // A task of its own for each widget, after the theme's scripts: no long task that
        // blocks the page (Lighthouse: total blocking time). The box already has its height.
        setTimeout(function () {
          mount.querySelectorAll(".pg-nojs").forEach(function (n) { n.remove(); });
          setup(mount);
          mount.setAttribute("data-ready", "");
        }, 0);
      }
    });
  }

  window.Playground = {
    show: show,
    parseNumber: parseNumber,
    parseBatch: parseBatch,
    parseDropProb: parseDropProb,
    parsePositive: parsePositive,
    parseMomentum: parseMomentum,
    parseSteps: parseSteps,
    rng: rng,
    el: el,
    field: field,
    heat: heat,
    onSchemeChange: onSchemeChange,
    add: add,
    start: start,
  };

  document.addEventListener("DOMContentLoaded", start);
})();
