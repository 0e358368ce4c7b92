// What axe-core finds in Django's own admin markup, mended where it appears (the widgets draw themselves after load):
// SelectFilter2's search icon is a span with an aria-label but no role; tabular inlines have empty headers and
// fields whose only label is their column's header.
(function () {
  function header_of(cell) {
    const th = cell.closest("table").querySelectorAll("thead th")[cell.cellIndex];
    return th ? th.textContent.trim() : "";
  }
  function mend(root) {
    for (const icon of root.querySelectorAll("span.help-tooltip[aria-label]:not([role])")) {
      icon.setAttribute("role", "img");
    }
    for (const th of root.querySelectorAll("thead th")) {
      if (!th.textContent.trim()) {
        const label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = th.classList.contains("original") ? "Objet" : "Suppression";
        th.append(label);
      }
    }
    const fields = "input:not([type=hidden]), select, textarea, .select2-selection, .select2-selection__rendered";
    for (const field of root.querySelectorAll(`.tabular td ${fields.replaceAll(", ", ", .tabular td ")}`)) {
      const labelled = field.id && root.querySelector(`label[for="${field.id}"]`);
      if (!labelled && !field.getAttribute("aria-label")) {
        const name = header_of(field.closest("td"));
        if (name) field.setAttribute("aria-label", name);
      }
    }
  }
  new MutationObserver(() => mend(document)).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", () => mend(document));
})();
