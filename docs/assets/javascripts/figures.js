// The interactive figures of the chapters. Every number they show was written into the page by the
// build (literate.drawing, from torch); these functions only move highlights and swap those texts,
// except the kernel playground's custom kernel, which `correlate` computes (tested against
// literate.corr2d by tests/test_interactive.py).

// Receptive-field diagrams (receptive_field_figure): when the pointer or the keyboard focus
// reaches a cell, highlight that cell and every cell listed in its data-field.
function initReceptiveFields(root) {
  root.querySelectorAll("svg.lit-figure .rf-cell:not([data-ready])").forEach((cell) => {
    cell.dataset.ready = "1";
    const figure = cell.ownerSVGElement;
    const show = () => {
      figure.querySelectorAll(".rf-on, .rf-source").forEach((el) => el.classList.remove("rf-on", "rf-source"));
      cell.classList.add("rf-source");
      for (const id of cell.dataset.field.split(" ").filter(Boolean)) {
        figure.querySelector(`[id="${id}"]`).classList.add("rf-on");
      }
    };
    cell.addEventListener("mouseenter", show);
    cell.addEventListener("focus", show);
  });
}

// Sliding-window steppers (corr2d_figure): one output entry is selected at a time; its window in
// the input is shaded and its worked sum shown. The figure is one tab stop: arrow keys move the
// selection, Home and End jump to the first and last entry. Pointer and click select too, and a
// Play button steps through the entries in reading order.
function initSteppers(root) {
  root.querySelectorAll(".lit-stepper").forEach((stepper) => {
    if (stepper.dataset.ready) return;
    stepper.dataset.ready = "1";
    const svg = stepper.querySelector("svg");
    const status = stepper.querySelector(".lit-status");
    const button = stepper.querySelector(".lit-play");
    const sum = svg.querySelector(".lit-sum");
    const entries = [...svg.querySelectorAll(".lit-pick")];
    const key = stepper.dataset.stepper;
    const position = (el) => el.id.slice(key.length + 3).split("-").map(Number);  // "<key>-y-i-j"
    const rows = Math.max(...entries.map((el) => position(el)[0])) + 1;
    const cols = entries.length / rows;
    const kernel = [...svg.querySelectorAll("g.lit-entry:not([id]) > rect")];  // its cells have no ids
    let current = 0;
    let timer = null;

    const select = (index, announce) => {
      current = (index + entries.length) % entries.length;
      const entry = entries[current];
      svg.querySelectorAll(".lit-marked").forEach((rect) => rect.classList.remove("lit-marked"));
      kernel.forEach((rect) => rect.classList.add("lit-marked"));
      entry.querySelector("rect").classList.add("lit-marked");
      for (const id of entry.dataset.window.split(" ")) {
        svg.querySelector(`[id="${id}"] rect`).classList.add("lit-marked");
      }
      sum.textContent = entry.dataset.sum;
      svg.dataset.selected = entry.dataset.entry;
      if (announce) status.textContent = `${entry.dataset.entry}: ${entry.dataset.sum}`;
    };
    const stop = () => {
      clearInterval(timer);
      timer = null;
      button.textContent = "Play";
    };
    const play = () => {
      const slow = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      timer = setInterval(() => (stepper.isConnected ? select(current + 1, false) : stop()), slow ? 2400 : 1200);
      button.textContent = "Pause";
    };

    entries.forEach((entry, index) => {
      entry.addEventListener("mouseenter", () => timer || select(index, false));
      entry.addEventListener("click", () => { stop(); select(index, true); });
    });
    svg.setAttribute("tabindex", "0");
    // Screen readers hand the arrow keys to an application; a group would keep them for browsing.
    svg.setAttribute("role", "application");
    svg.setAttribute("aria-roledescription", "sliding-window figure");
    svg.setAttribute("aria-labelledby", `${key}-title`);
    svg.setAttribute("aria-describedby", `${key}-desc`);
    svg.addEventListener("focus", () => {
      status.textContent = `${entries[current].dataset.entry}: ${entries[current].dataset.sum}. ` +
        "Arrow keys move to the other output entries.";
    });
    svg.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;  // the browser's own shortcuts
      const [i, j] = [Math.floor(current / cols), current % cols];
      const moves = {
        ArrowLeft: i * cols + Math.max(j - 1, 0), ArrowRight: i * cols + Math.min(j + 1, cols - 1),
        ArrowUp: Math.max(i - 1, 0) * cols + j, ArrowDown: Math.min(i + 1, rows - 1) * cols + j,
        Home: 0, End: entries.length - 1,
      };
      if (!(event.key in moves)) return;
      event.preventDefault();
      stop();
      select(moves[event.key], true);
    });
    button.hidden = false;
    button.addEventListener("click", () => (timer ? stop() : play()));
    select(0, false);
  });
}

// The browser's corr2d: image (h, w) and kernel (kh, kw) as flat row-major arrays; returns the
// (h - kh + 1, w - kw + 1) output, flat.
function correlate(image, h, w, kernel, kh, kw) {
  const oh = h - kh + 1, ow = w - kw + 1, out = new Float64Array(oh * ow);
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      let sum = 0;
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) sum += image[(i + a) * w + j + b] * kernel[a * kw + b];
      }
      out[i * ow + j] = sum;
    }
  }
  return out;
}

// Grey levels (0 to 255) for an output, as literate.drawing draws outputs: values of both signs on a
// scale centred on zero, as far each way as the largest magnitude; others from smallest to largest.
function greyLevels(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const limit = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  const [from, to] = lo < 0 ? [-limit, limit] : [lo, Math.max(hi, lo + 1e-6)];
  return values.map((v) => Math.round((Math.min(Math.max(v, from), to) - from) / (to - from) * 255));
}

const KERNEL_LIMIT = 1e6;  // larger entries could overflow the sums; the reader is told so

// Kernel playgrounds (kernel_playground): one preset's output at a time, chosen with radio buttons;
// the 3 x 3 inputs show a 3 x 3 preset's values, and typing in them correlates the image with
// that kernel here, drawn at once. The last output is kept on the element (litOutput) for tests.
async function initPlayground(playground) {
  const image = playground.querySelector("img[data-input]");
  image.loading = "eager";
  if (!image.complete) {
    const loaded = await new Promise((done) => {
      image.addEventListener("load", () => done(true), { once: true });
      image.addEventListener("error", () => done(false), { once: true });
    });
    if (!loaded) return;  // no image to read: the playground stays the gallery it is without JavaScript
  }
  const [w, h] = [image.naturalWidth, image.naturalHeight];
  const reader = document.createElement("canvas");
  [reader.width, reader.height] = [w, h];
  const context = reader.getContext("2d", { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  const rgba = context.getImageData(0, 0, w, h).data;
  const pixels = Float64Array.from({ length: w * h }, (_, i) => rgba[4 * i] / 255);
  const figures = [...playground.querySelectorAll("figure[data-preset]")];
  const radios = [...playground.querySelectorAll('input[type="radio"]')];
  const inputs = [...playground.querySelectorAll(".lit-pg-kernel input")];
  const canvas = playground.querySelector("figure[data-preset='custom'] canvas");
  const show = (choice) => figures.forEach((figure) => { figure.hidden = figure.dataset.preset !== choice; });
  const status = playground.querySelector(".lit-status");
  const draw = () => {
    const kernel = inputs.map((input) => (input.value.trim() === "" ? 0 : Number(input.value)));
    const wrong = inputs.findIndex((input, i) => !Number.isFinite(kernel[i]) || Math.abs(kernel[i]) > KERNEL_LIMIT);
    inputs.forEach((input, i) => input.setAttribute("aria-invalid", String(i === wrong)));
    if (wrong >= 0) {
      status.textContent = `${inputs[wrong].getAttribute("aria-label")}: give a number between ` +
        `-${KERNEL_LIMIT.toLocaleString("en")} and ${KERNEL_LIMIT.toLocaleString("en")}`;
      return;
    }
    status.textContent = "";
    const data = correlate(pixels, h, w, kernel, 3, 3);
    const levels = greyLevels(data);
    const picture = new ImageData(w - 2, h - 2);
    levels.forEach((level, i) => picture.data.set([level, level, level, 255], 4 * i));
    canvas.getContext("2d").putImageData(picture, 0, 0);
    playground.litOutput = { data, h: h - 2, w: w - 2, kernel };
    playground.dataset.drawn = String(Number(playground.dataset.drawn || 0) + 1);
  };
  radios.forEach((radio) => radio.addEventListener("change", () => {
    JSON.parse(radio.dataset.kernel || "[]").flat().forEach((v, i) => { inputs[i].value = v; });
    show(radio.value);
    if (radio.value === "custom") draw();
  }));
  inputs.forEach((input) => input.addEventListener("input", () => {
    const custom = radios.find((radio) => radio.value === "custom");
    if (!custom.checked) { custom.checked = true; show("custom"); }
    draw();
  }));
  playground.querySelectorAll("fieldset").forEach((fieldset) => { fieldset.hidden = false; });
  const chosen = radios.find((radio) => radio.checked);
  if (chosen.value === "custom") {  // a browser that restored the form: draw what it restored
    show("custom");
    draw();
  } else {
    JSON.parse(chosen.dataset.kernel || "[]").flat().forEach((v, i) => { inputs[i].value = v; });
    show(chosen.value);
  }
  playground.dataset.ready = "1";
}

// Output-shape explorers (shape_explorer): the output size of the chosen setting, looked up in the
// list the build computed, and the F.conv2d call that reproduces it, from the build's template.
function initShapeExplorer(explorer) {
  const axes = ["n", "k", "p", "s", "d"];
  const bounds = JSON.parse(explorer.dataset.bounds);
  const sizes = explorer.dataset.sizes.split(",").map(Number);
  const output = explorer.querySelector("output");
  const code = explorer.querySelector("pre > code");
  const inputs = axes.map((axis) => explorer.querySelector(`input[name="${axis}"]`));
  const update = () => {
    const at = inputs.map((input) => (input.value.trim() === "" ? NaN : Number(input.value)));
    const wrong = at.findIndex((value, a) => !Number.isInteger(value) || value < bounds[a][0] || value > bounds[a][1]);
    if (wrong >= 0) {
      const name = inputs[wrong].closest("label").textContent.trim();
      output.textContent = `Invalid: ${name} must be a whole number from ${bounds[wrong][0]} to ${bounds[wrong][1]}`;
      code.textContent = `# no call: ${name} must be a whole number from ${bounds[wrong][0]} to ${bounds[wrong][1]}`;
      return;
    }
    const index = at.reduce((index, value, a) => index * (bounds[a][1] - bounds[a][0] + 1) + value - bounds[a][0], 0);
    const out = sizes[index];
    output.textContent = out ? `Output: ${out} × ${out}` : "Invalid: the dilated kernel does not fit in the padded input";
    let call = explorer.dataset.call;
    axes.forEach((axis, a) => { call = call.replaceAll(`{${axis}}`, at[a]); });
    code.textContent = call + (out ? explorer.dataset.fits.replaceAll("{out}", out) : explorer.dataset.fails);
  };
  inputs.forEach((input) => input.addEventListener("input", update));
  update();  // a browser may have restored other values than the build's first setting
  explorer.dataset.ready = "1";
}

function initFigures(root) {
  // Each kind on its own: one that fails (a figure edited by hand, say) leaves the others working.
  const each = (start) => { try { start(); } catch (error) { console.warn(error); } };
  each(() => initReceptiveFields(root));
  each(() => initSteppers(root));
  root.querySelectorAll(".lit-playground:not([data-started])").forEach((playground) => {
    playground.dataset.started = "1";
    initPlayground(playground).catch((error) => console.warn(error));
  });
  root.querySelectorAll(".lit-shapes:not([data-ready])").forEach((explorer) => each(() => initShapeExplorer(explorer)));
}

if (typeof document$ !== "undefined") {
  document$.subscribe(({ body }) => initFigures(body));
} else {
  document.addEventListener("DOMContentLoaded", () => initFigures(document.body));
}
