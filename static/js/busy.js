// A form whose button says `data-busy="…"` shows that the work is under way once sent, and is not sent twice.
document.addEventListener("submit", (event) => {
  const button = event.target.querySelector("button[data-busy]");
  if (!button) return;
  if (button.dataset.sent) { event.preventDefault(); return; }
  button.dataset.sent = "1";
  button.setAttribute("aria-disabled", "true");
  button.textContent = button.dataset.busy;
  const spinner = document.createElement("span");
  spinner.className = "spinner-border spinner-border-sm ms-2";
  spinner.setAttribute("aria-hidden", "true");
  button.append(spinner);
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  status.className = "small mt-2";
  status.textContent = button.dataset.busyStatus || "";
  button.after(status);
});
