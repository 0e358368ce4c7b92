// Follows the preparation of a bilan and offers the download once it is ready.
(function () {
  const box = document.getElementById("bilan");
  if (!box) return;
  const bar = document.getElementById("bilan-bar");
  bar.style.width = bar.dataset.progress + "%"; // set from script: the CSP forbids style attributes
  if (["done", "failed"].includes(box.dataset.status)) return;
  const label = document.getElementById("bilan-label");
  const poll = () => fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
    .then((response) => response.json())
    .then((state) => {
      bar.style.width = state.progress + "%";
      bar.parentElement.setAttribute("aria-valuenow", state.progress);
      label.textContent = state.label;
      if (state.ready) document.getElementById("bilan-download").hidden = false;
      if (state.error) {
        const error = document.getElementById("bilan-error");
        error.textContent = state.error;
        error.hidden = false;
      }
      if (state.status !== "done" && state.status !== "failed") setTimeout(poll, 1000);
    })
    .catch(() => setTimeout(poll, 3000));
  poll();
})();
