// What is typed is not lost: long texts are saved as drafts in this tab while they are typed (sessionStorage: gone
// with the tab, never sent anywhere), and a form sent after the session expired comes back from the server
// (#kept-post, plie/middleware.py) once the person has signed in again.
(function () {
  const forms = Array.from(document.querySelectorAll("form[method=post]"));

  function fill(form, fields) {
    Object.entries(fields).forEach(([name, values]) => {
      const inputs = Array.from(form.elements).filter((element) => element.name === name);
      inputs.forEach((input) => {
        if (input.type === "file" || input.name === "csrfmiddlewaretoken") return;
        if (input.type === "checkbox" || input.type === "radio") input.checked = values.includes(input.value);
        else if (input.tagName === "SELECT" && input.multiple) {
          Array.from(input.options).forEach((option) => { option.selected = values.includes(option.value); });
        } else input.value = values[values.length - 1];
      });
    });
  }

  const kept = document.getElementById("kept-post");
  if (kept) {
    const fields = JSON.parse(kept.textContent);
    const names = Object.keys(fields);
    const score = (form) => names.filter((name) => form.elements.namedItem(name)).length;
    const form = forms.sort((a, b) => score(b) - score(a))[0];
    if (form && score(form) > 0) fill(form, fields);
  }

  // A draft goes once a save is confirmed (the next page shows a success), not when the form is sent: the session may
  // have expired, the server may be unreachable.
  const sent = JSON.parse(sessionStorage.getItem("brouillons-envoyes") || "[]");
  sessionStorage.removeItem("brouillons-envoyes");
  if (document.querySelector(".alert-success")) sent.forEach((name) => sessionStorage.removeItem(name));

  const key = (textarea) => `brouillon:${location.pathname}:${textarea.form.getAttribute("action") || ""}:${textarea.name}`;
  forms.forEach((form) => {
    const textareas = Array.from(form.querySelectorAll("textarea[name]"));
    textareas.forEach((textarea) => {
      const draft = sessionStorage.getItem(key(textarea));
      if (draft && draft !== textarea.value && !kept) {
        textarea.value = draft;
        const note = document.createElement("p");
        note.className = "form-text text-warning-emphasis";
        note.textContent = "Brouillon restauré : ce texte n’a pas encore été enregistré.";
        textarea.after(note);
      }
      let timer;
      textarea.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => sessionStorage.setItem(key(textarea), textarea.value), 500);
      });
    });
    form.addEventListener("submit", () => {
      sessionStorage.setItem("brouillons-envoyes", JSON.stringify(textareas.map(key)));
    });
  });
})();
