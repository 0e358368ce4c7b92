// Follows an import run by the worker, then reloads the page to show its report.
(function () {
  const box = document.getElementById("import");
  if (!box) return;
  const bar = document.getElementById("import-bar");
  bar.style.width = bar.dataset.progress + "%"; // set from script: the CSP forbids style attributes
  if (box.dataset.finished === "1") return;
  const label = document.getElementById("import-label");
  const poll = () => fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
    .then((response) => response.json())
    .then((state) => {
      bar.style.width = state.progress + "%";
      bar.parentElement.setAttribute("aria-valuenow", state.progress);
      label.textContent = state.label;
      if (state.finished) window.location.reload();
      else setTimeout(poll, 1000);
    })
    .catch(() => setTimeout(poll, 3000));
  poll();
})();
