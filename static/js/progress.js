// Follows a job a worker runs (a bilan PDF, an import or its preview) through its JSON status, on the element with data-status-url.
(function () {
  const box = document.querySelector("[data-status-url]");
  if (!box) return;
  const bar = box.querySelector(".progress-bar");
  bar.style.width = bar.dataset.progress + "%"; // set from script: the CSP forbids style attributes
  const ended = (status) => ["done", "failed", "rejected", "abandoned", "uploaded"].includes(status);
  if (ended(box.dataset.status)) return;
  const label = box.querySelector("[aria-live]");
  const error = box.querySelector("[data-error]");
  const poll = () => fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
    .then((response) => response.json())
    .then((state) => {
      bar.style.width = state.progress + "%";
      bar.parentElement.setAttribute("aria-valuenow", state.progress);
      label.textContent = state.label;
      if (state.error) {
        error.textContent = state.error;
        error.hidden = false;
      }
      if (!ended(state.status)) setTimeout(poll, 1000);
      else if ("reloadWhenDone" in box.dataset) window.location.reload();
      else box.querySelectorAll("[data-show-when-ready]").forEach((element) => { element.hidden = !state.ready; });
    })
    .catch(() => setTimeout(poll, 3000));
  poll();
})();
