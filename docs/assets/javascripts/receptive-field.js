// Receptive-field diagrams (literate.drawing.receptive_field_figure): when the pointer or the
// keyboard focus reaches a cell, highlight that cell and every cell listed in its data-field.
function initReceptiveFields(root) {
  root.querySelectorAll("svg.lit-figure .rf-cell").forEach((cell) => {
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

if (typeof document$ !== "undefined") {
  document$.subscribe(({ body }) => initReceptiveFields(body));
} else {
  document.addEventListener("DOMContentLoaded", () => initReceptiveFields(document.body));
}
